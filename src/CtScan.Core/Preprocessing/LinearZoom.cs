using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
        if (Avx2.IsSupported)
            ResampleAvx2(source, stride0, stride1, stride2, axis0, axis1, axis2, destination);
        else
            ResampleScalar(source, stride0, stride1, stride2, axis0, axis1, axis2, destination);
    }

    /// <summary>The reference loop: one output at a time.</summary>
    internal static void ResampleScalar(ReadOnlySpan<float> source, int stride0, int stride1, int stride2,
        LinearZoomAxis axis0, LinearZoomAxis axis1, LinearZoomAxis axis2, Span<float> destination)
    {
        int m0 = axis0.OutputLength, m1 = axis1.OutputLength, m2 = axis2.OutputLength;
        int d = 0;
        for (int p0 = 0; p0 < m0; p0++)
        {
            int rowLo = axis0.Lower[p0] * stride0, rowHi = axis0.Upper[p0] * stride0;
            double wl0 = axis0.LowerWeights[p0], wh0 = axis0.UpperWeights[p0];
            for (int p1 = 0; p1 < m1; p1++)
            {
                int colLo = axis1.Lower[p1] * stride1, colHi = axis1.Upper[p1] * stride1;
                double wl1 = axis1.LowerWeights[p1], wh1 = axis1.UpperWeights[p1];
                int b00 = rowLo + colLo, b01 = rowLo + colHi, b10 = rowHi + colLo, b11 = rowHi + colHi;
                for (int p2 = 0; p2 < m2; p2++)
                {
                    int l = axis2.Lower[p2] * stride2, h = axis2.Upper[p2] * stride2;
                    double w2l = axis2.LowerWeights[p2], w2h = axis2.UpperWeights[p2];
                    double sum = 0.0;
                    sum += (source[b00 + l] * wl0) * wl1 * w2l;
                    sum += (source[b00 + h] * wl0) * wl1 * w2h;
                    sum += (source[b01 + l] * wl0) * wh1 * w2l;
                    sum += (source[b01 + h] * wl0) * wh1 * w2h;
                    sum += (source[b10 + l] * wh0) * wl1 * w2l;
                    sum += (source[b10 + h] * wh0) * wl1 * w2h;
                    sum += (source[b11 + l] * wh0) * wh1 * w2l;
                    sum += (source[b11 + h] * wh0) * wh1 * w2h;
                    destination[d + p2] = (float)sum;
                }
                d += m2;
            }
        }
    }

    /// <summary>
    /// Four outputs along axis 2 at a time: gathered taps, then per lane exactly the scalar loop's multiplications
    /// and additions in the same order (no fused multiply-add), so results are bit-identical. The taps were checked
    /// by the caller, so the gathers read inside the source.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ResampleAvx2(ReadOnlySpan<float> source, int stride0, int stride1, int stride2,
        LinearZoomAxis axis0, LinearZoomAxis axis1, LinearZoomAxis axis2, Span<float> destination)
    {
        int m0 = axis0.OutputLength, m1 = axis1.OutputLength, m2 = axis2.OutputLength;
        int vectorEnd = m2 - m2 % 4;
        Vector128<int> stride = Vector128.Create(stride2);
        fixed (float* src = source)
        fixed (float* dst = destination)
        fixed (int* lo2 = axis2.Lower)
        fixed (int* hi2 = axis2.Upper)
        fixed (double* wl2 = axis2.LowerWeights)
        fixed (double* wh2 = axis2.UpperWeights)
        {
            float* target = dst;
            for (int p0 = 0; p0 < m0; p0++)
            {
                int rowLo = axis0.Lower[p0] * stride0, rowHi = axis0.Upper[p0] * stride0;
                double wl0 = axis0.LowerWeights[p0], wh0 = axis0.UpperWeights[p0];
                for (int p1 = 0; p1 < m1; p1++)
                {
                    int colLo = axis1.Lower[p1] * stride1, colHi = axis1.Upper[p1] * stride1;
                    double wl1 = axis1.LowerWeights[p1], wh1 = axis1.UpperWeights[p1];
                    float* v00 = src + rowLo + colLo, v01 = src + rowLo + colHi, v10 = src + rowHi + colLo, v11 = src + rowHi + colHi;
                    Vector256<double> a0 = Vector256.Create(wl0), b0 = Vector256.Create(wh0);
                    Vector256<double> a1 = Vector256.Create(wl1), b1 = Vector256.Create(wh1);
                    int p2 = 0;
                    for (; p2 < vectorEnd; p2 += 4)
                    {
                        Vector128<int> l = Sse41.MultiplyLow(Sse2.LoadVector128(lo2 + p2), stride);
                        Vector128<int> h = Sse41.MultiplyLow(Sse2.LoadVector128(hi2 + p2), stride);
                        Vector256<double> w2l = Avx.LoadVector256(wl2 + p2), w2h = Avx.LoadVector256(wh2 + p2);
                        Vector256<double> sum = Vector256<double>.Zero;
                        sum += Gather(v00, l) * a0 * a1 * w2l;
                        sum += Gather(v00, h) * a0 * a1 * w2h;
                        sum += Gather(v01, l) * a0 * b1 * w2l;
                        sum += Gather(v01, h) * a0 * b1 * w2h;
                        sum += Gather(v10, l) * b0 * a1 * w2l;
                        sum += Gather(v10, h) * b0 * a1 * w2h;
                        sum += Gather(v11, l) * b0 * b1 * w2l;
                        sum += Gather(v11, h) * b0 * b1 * w2h;
                        Sse.Store(target + p2, Avx.ConvertToVector128Single(sum));
                    }
                    for (; p2 < m2; p2++)
                    {
                        int l = lo2[p2] * stride2, h = hi2[p2] * stride2;
                        double w2l = wl2[p2], w2h = wh2[p2];
                        double sum = 0.0;
                        sum += (v00[l] * wl0) * wl1 * w2l;
                        sum += (v00[h] * wl0) * wl1 * w2h;
                        sum += (v01[l] * wl0) * wh1 * w2l;
                        sum += (v01[h] * wl0) * wh1 * w2h;
                        sum += (v10[l] * wh0) * wl1 * w2l;
                        sum += (v10[h] * wh0) * wl1 * w2h;
                        sum += (v11[l] * wh0) * wh1 * w2l;
                        sum += (v11[h] * wh0) * wh1 * w2h;
                        target[p2] = (float)sum;
                    }
                    target += m2;
                }
            }
        }

        static Vector256<double> Gather(float* baseAddress, Vector128<int> index) =>
            Avx.ConvertToVector256Double(Avx2.GatherVector128(baseAddress, index, sizeof(float)));
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
