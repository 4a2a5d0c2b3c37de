using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
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
    // Hot loop run a few times per scan: optimise it on the first call rather than waiting for tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Resample(ReadOnlySpan<float> source, int stride0, int stride1, int stride2,
        LinearZoomAxis axis0, LinearZoomAxis axis1, LinearZoomAxis axis2, Span<float> destination)
    {
        int m0 = axis0.OutputLength, m1 = axis1.OutputLength, m2 = axis2.OutputLength;
        if (destination.Length < (long)m0 * m1 * m2)
            throw new ArgumentException($"destination holds {destination.Length} values; {m0}×{m1}×{m2} are needed", nameof(destination));
        CheckTapsInside(source.Length, stride0, stride1, stride2, axis0, axis1, axis2);
        // Every index below was checked above, so the loop reads through refs without per-access bounds checks.
        ref float src = ref MemoryMarshal.GetReference(source);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        ref int lo2 = ref MemoryMarshal.GetArrayDataReference(axis2.Lower);
        ref int hi2 = ref MemoryMarshal.GetArrayDataReference(axis2.Upper);
        ref double wl2 = ref MemoryMarshal.GetArrayDataReference(axis2.LowerWeights);
        ref double wh2 = ref MemoryMarshal.GetArrayDataReference(axis2.UpperWeights);
        nint d = 0;
        for (int p0 = 0; p0 < m0; p0++)
        {
            int rowLo = axis0.Lower[p0] * stride0, rowHi = axis0.Upper[p0] * stride0;
            double wl0 = axis0.LowerWeights[p0], wh0 = axis0.UpperWeights[p0];
            for (int p1 = 0; p1 < m1; p1++)
            {
                int colLo = axis1.Lower[p1] * stride1, colHi = axis1.Upper[p1] * stride1;
                double wl1 = axis1.LowerWeights[p1], wh1 = axis1.UpperWeights[p1];
                ref float v00 = ref Unsafe.Add(ref src, rowLo + colLo);
                ref float v01 = ref Unsafe.Add(ref src, rowLo + colHi);
                ref float v10 = ref Unsafe.Add(ref src, rowHi + colLo);
                ref float v11 = ref Unsafe.Add(ref src, rowHi + colHi);
                for (int p2 = 0; p2 < m2; p2++)
                {
                    nint l = Unsafe.Add(ref lo2, p2) * stride2, h = Unsafe.Add(ref hi2, p2) * stride2;
                    double w2l = Unsafe.Add(ref wl2, p2), w2h = Unsafe.Add(ref wh2, p2);
                    double sum = 0.0;
                    sum += (Unsafe.Add(ref v00, l) * wl0) * wl1 * w2l;
                    sum += (Unsafe.Add(ref v00, h) * wl0) * wl1 * w2h;
                    sum += (Unsafe.Add(ref v01, l) * wl0) * wh1 * w2l;
                    sum += (Unsafe.Add(ref v01, h) * wl0) * wh1 * w2h;
                    sum += (Unsafe.Add(ref v10, l) * wh0) * wl1 * w2l;
                    sum += (Unsafe.Add(ref v10, h) * wh0) * wl1 * w2h;
                    sum += (Unsafe.Add(ref v11, l) * wh0) * wh1 * w2l;
                    sum += (Unsafe.Add(ref v11, h) * wh0) * wh1 * w2h;
                    Unsafe.Add(ref dst, d + p2) = (float)sum;
                }
                d += m2;
            }
        }
    }

    /// <summary>The largest offset any tap combination reaches must lie inside the source.</summary>
    private static void CheckTapsInside(int sourceLength, int stride0, int stride1, int stride2,
        LinearZoomAxis axis0, LinearZoomAxis axis1, LinearZoomAxis axis2)
    {
        // Taps are never negative (mirrored or renumbered at creation), so the largest offset bounds them all.
        long reach = (long)axis0.MaxTap * stride0 + (long)axis1.MaxTap * stride1 + (long)axis2.MaxTap * stride2;
        if (reach >= sourceLength)
            throw new ArgumentException($"the zoom's taps reach index {reach} of a source holding {sourceLength} values", nameof(sourceLength));
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
