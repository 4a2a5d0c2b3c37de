namespace CtScan.Preprocessing;

/// <summary>
/// Resizes a volume to <see cref="TargetShape"/> with trilinear interpolation, as
/// scipy.ndimage.zoom(volume, target/source, order=1) does (grid_mode=False): corner-aligned sampling,
/// the 8-corner sum in float64 in scipy's order, cast to float32.
/// </summary>
/// <remarks>Axis maps are computed once per source shape and cached. Instances are safe to share across threads.</remarks>
public sealed class LinearZoom
{
    private volatile CachedAxes? _cache;

    /// <param name="targetShape">Output shape in voxels (every extent at least 1).</param>
    public LinearZoom(VolumeShape targetShape)
    {
        TargetShape = targetShape.Validated(nameof(targetShape));
    }

    public VolumeShape TargetShape { get; }

    /// <summary>Zooms <paramref name="source"/> (C order, <paramref name="sourceShape"/>) into <paramref name="destination"/> (C order, <see cref="TargetShape"/>).</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, VolumeShape sourceShape)
    {
        sourceShape.Validated(nameof(sourceShape));
        TransformGuard.CheckLength(source.Length, sourceShape, nameof(source));
        TransformGuard.CheckLength(destination.Length, TargetShape, nameof(destination));
        TransformGuard.CheckNoOverlap(source, destination);
        CachedAxes axes = AxesFor(sourceShape);
        Resample(source, sourceShape.Height * sourceShape.Depth, sourceShape.Depth, 1, axes.Axis0, axes.Axis1, axes.Axis2, destination);
    }

    /// <summary>
    /// The 8-tap sum Σ ((v·w0)·w1)·w2 over the corners, axis-0 tap outermost, starting from 0.0 as scipy does.
    /// The axes' taps index <paramref name="source"/> through the given strides (C order: extent1·extent2,
    /// extent2, 1); <paramref name="destination"/> is C order over the axes' output lengths.
    /// </summary>
    internal static void Resample(ReadOnlySpan<float> source, int stride0, int stride1, int stride2,
        LinearZoomAxis axis0, LinearZoomAxis axis1, LinearZoomAxis axis2, Span<float> destination)
    {
        int m1 = axis1.OutputLength, m2 = axis2.OutputLength;
        int[] lo2 = axis2.Lower, hi2 = axis2.Upper;
        double[] wl2 = axis2.LowerWeights, wh2 = axis2.UpperWeights;
        int d = 0;
        for (int p0 = 0; p0 < axis0.OutputLength; p0++)
        {
            int rowLo = axis0.Lower[p0] * stride0, rowHi = axis0.Upper[p0] * stride0;
            double wl0 = axis0.LowerWeights[p0], wh0 = axis0.UpperWeights[p0];
            for (int p1 = 0; p1 < m1; p1++)
            {
                int colLo = axis1.Lower[p1] * stride1, colHi = axis1.Upper[p1] * stride1;
                double wl1 = axis1.LowerWeights[p1], wh1 = axis1.UpperWeights[p1];
                int b00 = rowLo + colLo, b01 = rowLo + colHi, b10 = rowHi + colLo, b11 = rowHi + colHi;
                Span<float> target = destination.Slice(d, m2);
                for (int p2 = 0; p2 < m2; p2++)
                {
                    int l = lo2[p2] * stride2, h = hi2[p2] * stride2;
                    double w2l = wl2[p2], w2h = wh2[p2];
                    double sum = 0.0;
                    sum += (source[b00 + l] * wl0) * wl1 * w2l;
                    sum += (source[b00 + h] * wl0) * wl1 * w2h;
                    sum += (source[b01 + l] * wl0) * wh1 * w2l;
                    sum += (source[b01 + h] * wl0) * wh1 * w2h;
                    sum += (source[b10 + l] * wh0) * wl1 * w2l;
                    sum += (source[b10 + h] * wh0) * wl1 * w2h;
                    sum += (source[b11 + l] * wh0) * wh1 * w2l;
                    sum += (source[b11 + h] * wh0) * wh1 * w2h;
                    target[p2] = (float)sum;
                }
                d += m2;
            }
        }
    }

    private CachedAxes AxesFor(VolumeShape sourceShape)
    {
        CachedAxes? cached = _cache;
        if (cached is not null && cached.SourceShape == sourceShape) return cached;
        var axes = new CachedAxes(sourceShape,
            LinearZoomAxis.Create(sourceShape.Width, TargetShape.Width),
            LinearZoomAxis.Create(sourceShape.Height, TargetShape.Height),
            LinearZoomAxis.Create(sourceShape.Depth, TargetShape.Depth));
        _cache = axes;
        return axes;
    }

    private sealed record CachedAxes(VolumeShape SourceShape, LinearZoomAxis Axis0, LinearZoomAxis Axis1, LinearZoomAxis Axis2);
}
