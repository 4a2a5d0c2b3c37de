using CtScan.Contracts;

namespace CtScan.Preprocessing;

/// <summary>Converts between a manifest's preprocessing record and the options <see cref="ScanPreprocessor"/> takes.</summary>
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
        };
    }

    public static PreprocessingSpec ToSpec(PreprocessingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new PreprocessingSpec(options.WindowMinimumHu, options.WindowMaximumHu,
            [options.TargetShape.Width, options.TargetShape.Height, options.TargetShape.Depth]);
    }
}
