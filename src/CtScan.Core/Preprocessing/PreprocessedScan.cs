using CtScan.Tensors;

namespace CtScan.Preprocessing;

/// <summary>What <see cref="ScanPreprocessor.Process"/> made of one scan.</summary>
public sealed class PreprocessedScan
{
    internal PreprocessedScan(Float32Tensor tensor, VolumeShape sourceShape, NonFiniteCounts nonFinite)
    {
        Tensor = tensor;
        SourceShape = sourceShape;
        NonFinite = nonFinite;
    }

    /// <summary>The model input: float32, C order, shape <see cref="PreprocessingOptions.TargetShape"/>.</summary>
    public Float32Tensor Tensor { get; }

    /// <summary>The scan's shape before preprocessing.</summary>
    public VolumeShape SourceShape { get; }

    /// <summary>NaN and ±∞ voxels in the scan (NaN became the window minimum; ±∞ were clipped).</summary>
    public NonFiniteCounts NonFinite { get; }
}
