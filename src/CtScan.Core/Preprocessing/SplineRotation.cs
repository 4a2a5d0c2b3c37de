namespace CtScan.Preprocessing;

/// <summary>
/// Rotates every axial plane of a volume about its centre, as scipy.ndimage.rotate(volume, angle, reshape=False)
/// does with its defaults: cubic B-spline (order 3) with prefilter and 'mirror' boundary, rotation in axes (0, 1)
/// for each k, constant 0 outside the input, result cast to float32.
/// </summary>
/// <remarks>
/// Spline taps and weights are computed once per plane shape and reused (the last shape is cached, so repeated
/// calls on equally shaped volumes pay nothing). Instances are safe to share across threads.
/// </remarks>
public sealed class SplineRotation
{
    private volatile CachedMap? _cache;

    /// <param name="angleDegrees">Rotation angle in degrees (finite), sign and axes as in scipy.</param>
    public SplineRotation(double angleDegrees)
    {
        if (!double.IsFinite(angleDegrees))
            throw new ArgumentOutOfRangeException(nameof(angleDegrees), angleDegrees, $"the angle must be a finite number of degrees; got {angleDegrees}");
        AngleDegrees = angleDegrees;
    }

    public double AngleDegrees { get; }

    /// <summary>Rotates <paramref name="source"/> (C order, <paramref name="shape"/>) into <paramref name="destination"/> (same shape).</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, VolumeShape shape)
    {
        shape.Validated(nameof(shape));
        TransformGuard.CheckLength(source.Length, shape, nameof(source));
        TransformGuard.CheckLength(destination.Length, shape, nameof(destination));
        TransformGuard.CheckNoOverlap(source, destination);
        int n0 = shape.Width, n1 = shape.Height, depth = shape.Depth;
        RotationSampleMap map = MapFor(n0, n1);
        var plane = new double[n0 * n1];
        var scratch = new double[n1];
        for (int k = 0; k < depth; k++)
        {
            for (int p = 0; p < plane.Length; p++) plane[p] = source[p * depth + k];
            PrefilterPlane(plane, n0, n1, scratch);
            for (int p = 0; p < plane.Length; p++)
                destination[p * depth + k] = (float)map.Evaluate(plane, p);
        }
    }

    /// <summary>
    /// scipy's spline_filter on one C-order plane ([i][j]): along axis 0 (across rows) first, then axis 1.
    /// </summary>
    internal static void PrefilterPlane(Span<double> plane, int n0, int n1, Span<double> scratchRow)
    {
        CubicBSpline.PrefilterAcrossRows(plane, n0, n1, scratchRow);
        CubicBSpline.PrefilterAlongRows(plane, n0, n1);
    }

    private RotationSampleMap MapFor(int n0, int n1)
    {
        CachedMap? cached = _cache;
        if (cached is not null && cached.Extent0 == n0 && cached.Extent1 == n1) return cached.Map;
        var geometry = new RotationGeometry(AngleDegrees, n0, n1);
        var map = new RotationSampleMap(geometry, Range(n0), Range(n1), stride0: n1, stride1: 1);
        _cache = new CachedMap(n0, n1, map);
        return map;
    }

    internal static int[] Range(int count)
    {
        var values = new int[count];
        for (int n = 0; n < count; n++) values[n] = n;
        return values;
    }

    private sealed record CachedMap(int Extent0, int Extent1, RotationSampleMap Map);
}
