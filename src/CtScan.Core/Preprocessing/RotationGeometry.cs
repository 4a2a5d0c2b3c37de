namespace CtScan.Preprocessing;

/// <summary>
/// Where scipy.ndimage.rotate(reshape=False) samples the input plane for each output point: the matrix
/// [[c, s], [−s, c]] (c, s from cosdg/sindg) about the plane's centre, computed as scipy computes it.
/// </summary>
internal readonly struct RotationGeometry
{
    private readonly double _m00, _m01, _m10, _m11, _offset0, _offset1;

    public RotationGeometry(double angleDegrees, int extent0, int extent1)
    {
        double c = DegreeTrigonometry.Cosdg(angleDegrees);
        double s = DegreeTrigonometry.Sindg(angleDegrees);
        _m00 = c;
        _m01 = s;
        _m10 = -s;
        _m11 = c;
        Extent0 = extent0;
        Extent1 = extent1;
        double centre0 = (extent0 - 1) / 2.0, centre1 = (extent1 - 1) / 2.0;
        // offset = in_centre − M @ out_centre; in and out planes have the same shape (reshape=False).
        _offset0 = centre0 - (_m00 * centre0 + _m01 * centre1);
        _offset1 = centre1 - (_m10 * centre0 + _m11 * centre1);
    }

    public int Extent0 { get; }

    public int Extent1 { get; }

    /// <summary>Input coordinates (x0, x1) sampled for output point (o0, o1).</summary>
    public (double X0, double X1) Map(int o0, int o1) =>
        (_m00 * o0 + _m01 * o1 + _offset0, _m10 * o0 + _m11 * o1 + _offset1);

    /// <summary>scipy's mode='constant': points outside [0, n−1] on either axis take the constant 0.</summary>
    public bool IsInside(double x0, double x1) => x0 >= 0 && x0 <= Extent0 - 1 && x1 >= 0 && x1 <= Extent1 - 1;
}
