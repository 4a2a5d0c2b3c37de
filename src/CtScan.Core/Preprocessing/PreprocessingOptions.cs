namespace CtScan.Preprocessing;

/// <summary>Settings of <see cref="ScanPreprocessor"/>; the defaults are the seed's.</summary>
public sealed record PreprocessingOptions
{
    /// <summary>Lower edge of the HU window (seed: −1000).</summary>
    public double WindowMinimumHu { get; init; } = HuWindow.SeedMinimumHu;

    /// <summary>Upper edge of the HU window (seed: 400).</summary>
    public double WindowMaximumHu { get; init; } = HuWindow.SeedMaximumHu;

    /// <summary>Shape of the model input the zoom produces (seed: 128 × 128 × 64).</summary>
    public VolumeShape TargetShape { get; init; } = VolumeShape.SeedTarget;

    /// <summary>Throws, naming the bad value and what is allowed, unless every setting is usable.</summary>
    public PreprocessingOptions Validated()
    {
        // HuWindow owns the window rules; constructing one checks them.
        _ = new HuWindow(WindowMinimumHu, WindowMaximumHu);
        TargetShape.Validated(nameof(TargetShape));
        return this;
    }
}
