namespace CtScan.Training;

/// <summary>
/// Arithmetic of one forward pass of <see cref="CtScanNet"/> for one scan, from the layer shapes: multiply-accumulates
/// of the convolutions and dense layers (a MAC is 2 FLOPs). Pooling, ReLU and BatchNorm add well under 1 % and are
/// left out, so GFLOP/s figures compare the work that matters.
/// </summary>
public sealed record ModelFlops(IReadOnlyList<long> ConvMacs, long DenseMacs)
{
    public long TotalMacs => ConvMacs.Sum() + DenseMacs;

    public double Flops => 2.0 * TotalMacs;

    public static ModelFlops Of(ModelOptions options)
    {
        options.Validated();
        var filters = options.BlockFilters;
        var macs = new List<long>();
        long w = options.Input.Width, h = options.Input.Height, d = options.Input.Depth, channels = 1;
        foreach (int outputChannels in filters)
        {
            (w, h, d) = (w - 2, h - 2, d - 2);                  // valid 3×3×3 convolution
            macs.Add(w * h * d * outputChannels * channels * 27);
            (w, h, d) = (w / 2, h / 2, d / 2);                   // 2× max pool
            channels = outputChannels;
        }
        long dense = channels * options.DenseUnits + options.DenseUnits;
        return new ModelFlops(macs, dense);
    }
}
