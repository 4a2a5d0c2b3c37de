using CtScan.Contracts;

namespace CtScan.Preprocessing;

/// <summary>
/// Converts between a manifest's preprocessing record and the options <see cref="ScanPreprocessor"/> takes: the one
/// conversion, so the scorer, the pipeline and training name and build the same tensor for the same manifest.
/// </summary>
public static class PreprocessingSpecs
{
    public static PreprocessingOptions ToOptions(PreprocessingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.TargetShape is not { Count: 3 })
            throw new ArgumentException($"preprocessing.targetShape must have three extents; got {spec.TargetShape?.Count ?? 0}", nameof(spec));
        return new PreprocessingOptions
        {
            WindowMinimumHu = spec.WindowMinimumHu,
            WindowMaximumHu = spec.WindowMaximumHu,
            TargetShape = new VolumeShape(spec.TargetShape[0], spec.TargetShape[1], spec.TargetShape[2]),
            TargetOrientation = spec.Orientation,
            TargetSpacingMm = spec.TargetSpacingMm switch
            {
                null => null,
                [var x, var y, var z] => (x, y, z),
                var other => throw new ArgumentException($"preprocessing.targetSpacingMm must have three values; got {other.Count}", nameof(spec)),
            },
        };
    }

    public static PreprocessingSpec ToSpec(PreprocessingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new PreprocessingSpec(options.WindowMinimumHu, options.WindowMaximumHu,
            [options.TargetShape.Width, options.TargetShape.Height, options.TargetShape.Depth],
            options.TargetOrientation, options.TargetSpacingMm is { } s ? [s.X, s.Y, s.Z] : null);
    }
}
