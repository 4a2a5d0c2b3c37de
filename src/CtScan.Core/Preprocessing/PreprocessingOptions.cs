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

    /// <summary>
    /// Axis codes (e.g. <c>LPS</c>) to permute and flip every scan to before the seed's steps (no resampling); null
    /// (default, the seed's behaviour) uses the array as stored, whatever its affine says.
    /// </summary>
    public string? TargetOrientation { get; init; }

    /// <summary>
    /// Opt-in voxel spacing in mm to resample to before the seed's steps (trilinear, scipy.ndimage.zoom order 1 at the
    /// ratio spacing / target, like MONAI's Spacingd); null (default, the seed's behaviour) keeps the scan's grid.
    /// </summary>
    public (double X, double Y, double Z)? TargetSpacingMm { get; init; }

    /// <summary>Throws, naming the bad value and what is allowed, unless every setting is usable.</summary>
    public PreprocessingOptions Validated()
    {
        if (TargetOrientation is not null) AxisOrientation.Parse(TargetOrientation);
        if (TargetSpacingMm is { } spacing && !(IsPositive(spacing.X) && IsPositive(spacing.Y) && IsPositive(spacing.Z)))
            throw new ArgumentOutOfRangeException(nameof(TargetSpacingMm), spacing, $"every target spacing must be a finite number of mm > 0; got {spacing}");
        // HuWindow owns the window rules; constructing one checks them.
        _ = new HuWindow(WindowMinimumHu, WindowMaximumHu);
        TargetShape.Validated(nameof(TargetShape));
        return this;
    }

    private static bool IsPositive(double value) => double.IsFinite(value) && value > 0;
}
