namespace CtScan.Training;

/// <summary>
/// Keras's ExponentialDecay schedule: lr(step) = initial × rate^(step / decaySteps), with the exponent floored when
/// <paramref name="Staircase"/> is set (the seed: 1e-4 × 0.96^⌊step / 100000⌋). Step counts optimiser updates from 0.
/// </summary>
public sealed record ExponentialDecay(double InitialLearningRate, int DecaySteps, double DecayRate, bool Staircase)
{
    public static ExponentialDecay From(TrainingOptions options) =>
        new(options.InitialLearningRate, options.DecaySteps, options.DecayRate, options.Staircase);

    public double LearningRateAt(long step)
    {
        double exponent = (double)step / DecaySteps;
        if (Staircase) exponent = Math.Floor(exponent);
        return InitialLearningRate * Math.Pow(DecayRate, exponent);
    }
}
