namespace CtScan.Training;

/// <summary>How the trainer fits the model; every default is the seed's (Keras example) setting.</summary>
public sealed record TrainingOptions
{
    /// <summary>Upper bound on epochs (seed: 100); early stopping usually ends sooner.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Scans per optimiser step (seed: 2).</summary>
    public int BatchSize { get; init; } = 2;

    /// <summary>Adam's learning rate before decay (seed: 1e-4).</summary>
    public double InitialLearningRate { get; init; } = 1e-4;

    /// <summary>Steps per decay period of the exponential schedule (seed: 100,000).</summary>
    public int DecaySteps { get; init; } = 100_000;

    /// <summary>Factor per decay period (seed: 0.96).</summary>
    public double DecayRate { get; init; } = 0.96;

    /// <summary>Whether the decay happens in whole periods (seed: true, Keras's staircase).</summary>
    public bool Staircase { get; init; } = true;

    /// <summary>Epochs without a better val_acc before training stops (seed: 15).</summary>
    public int EarlyStoppingPatience { get; init; } = 15;

    /// <summary>Share of each class held out for validation (seed: 30 of 100 per class).</summary>
    public double ValidationFraction { get; init; } = 0.3;

    /// <summary>Rotate training scans by a random angle each time they are drawn (seed: yes); validation is never augmented.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>
    /// BatchNorm's running-statistics momentum in Keras's convention (weight of the old value; seed: 0.99). Lower values
    /// (0.9) let the statistics that validation uses catch up within the few hundred steps of a small demo.
    /// </summary>
    public double BatchNormMomentum { get; init; } = 1 - CtScanNet.BatchNormMomentum;

    /// <summary>Caps the training batches per epoch (Keras's steps_per_epoch); null: every batch. For quick benchmarks and smoke runs.</summary>
    public int? StepsPerEpoch { get; init; }

    /// <summary>One seed for the split, the shuffles, the augmentation draws, the initial weights and dropout.</summary>
    public long Seed { get; init; } = KerasInitializer.DefaultSeed;

    /// <summary>Throws, naming the bad value and what is allowed, unless every setting is usable.</summary>
    public TrainingOptions Validated()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, $"epochs must be at least 1; got {Epochs}");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"the batch size must be at least 1; got {BatchSize}");
        if (!double.IsFinite(InitialLearningRate) || InitialLearningRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(InitialLearningRate), InitialLearningRate, $"the learning rate must be a positive finite number; got {InitialLearningRate}");
        if (DecaySteps < 1) throw new ArgumentOutOfRangeException(nameof(DecaySteps), DecaySteps, $"decay steps must be at least 1; got {DecaySteps}");
        if (!double.IsFinite(DecayRate) || DecayRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(DecayRate), DecayRate, $"the decay rate must be a positive finite number; got {DecayRate}");
        if (EarlyStoppingPatience < 1)
            throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), EarlyStoppingPatience, $"the patience must be at least 1 epoch; got {EarlyStoppingPatience}");
        if (!(ValidationFraction > 0 && ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, $"the validation fraction must lie strictly between 0 and 1; got {ValidationFraction}");
        if (!(BatchNormMomentum >= 0 && BatchNormMomentum < 1))
            throw new ArgumentOutOfRangeException(nameof(BatchNormMomentum), BatchNormMomentum, $"the BatchNorm momentum must lie in [0, 1); got {BatchNormMomentum}");
        if (StepsPerEpoch is < 1)
            throw new ArgumentOutOfRangeException(nameof(StepsPerEpoch), StepsPerEpoch, $"steps per epoch must be at least 1 (or unset for all batches); got {StepsPerEpoch}");
        return this;
    }
}
