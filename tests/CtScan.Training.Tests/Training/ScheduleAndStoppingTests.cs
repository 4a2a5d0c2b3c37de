namespace CtScan.Training.Tests.Training;

public sealed class ScheduleAndStoppingTests
{
    [Theory]
    [InlineData(0L, 1e-4)]
    [InlineData(99_999L, 1e-4)]
    [InlineData(100_000L, 0.96e-4)]
    [InlineData(250_000L, 0.96 * 0.96 * 1e-4)]
    public void ExponentialDecay_SeedStaircase_DropsEveryHundredThousandSteps(long step, double expected)
    {
        var schedule = ExponentialDecay.From(new TrainingOptions());

        Assert.Equal(expected, schedule.LearningRateAt(step), 15);
    }

    [Fact]
    public void ExponentialDecay_Smooth_UsesFractionalExponent()
    {
        var schedule = new ExponentialDecay(1e-4, 100_000, 0.96, Staircase: false);

        Assert.Equal(1e-4 * Math.Sqrt(0.96), schedule.LearningRateAt(50_000), 15);
    }

    [Fact]
    public void EarlyStopping_StopsAfterPatienceEpochsWithoutStrictImprovement()
    {
        var stopping = new EarlyStopping(patience: 2);

        Assert.False(stopping.ShouldStop(0.5));
        Assert.False(stopping.ShouldStop(0.6)); // better: wait resets
        Assert.False(stopping.ShouldStop(0.6)); // equal is not better (min_delta 0): wait 1
        Assert.True(stopping.ShouldStop(0.55)); // wait 2 = patience
    }

    [Fact]
    public void EarlyStopping_ImprovementResetsTheWait()
    {
        var stopping = new EarlyStopping(patience: 2);
        stopping.ShouldStop(0.5);
        stopping.ShouldStop(0.4);

        Assert.False(stopping.ShouldStop(0.7));
        Assert.False(stopping.ShouldStop(0.7));
        Assert.True(stopping.ShouldStop(0.1));
    }

    [Fact]
    public void TrainingOptions_Defaults_AreTheSeeds()
    {
        var options = new TrainingOptions();

        Assert.Equal((100, 2, 1e-4, 100_000, 0.96, true, 15, 0.3, true),
            (options.Epochs, options.BatchSize, options.InitialLearningRate, options.DecaySteps, options.DecayRate, options.Staircase,
             options.EarlyStoppingPatience, options.ValidationFraction, options.Augment));
    }

    [Fact]
    public void TrainingOptions_BadValue_IsNamed()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { BatchSize = 0 }.Validated());
        Assert.Contains("got 0", error.Message);
        Assert.Contains("between 0 and 1; got 1.5", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { ValidationFraction = 1.5 }.Validated()).Message);
    }
}
