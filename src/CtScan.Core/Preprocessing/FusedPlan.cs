namespace CtScan.Preprocessing;

/// <summary>
/// What the fused window → rotate → zoom path needs for one (source shape, target shape, angle): the input rows and
/// columns of the rotated plane the zoom reads (its distinct taps), the zoom axes renumbered onto them, and how to
/// obtain each needed rotated value. When every needed point falls on integer input coordinates (angle 90 with an
/// even n0 − n1) the spline at those points is the sample itself (up to ~1e-16), so the plan records a plain
/// index per point; otherwise it records the spline taps. Along the slice axis the zoom reads at most two input
/// slices per output slice, so only those (<see cref="Planes"/>) are kept: memory grows with the target's depth, not
/// the scan's.
/// </summary>
internal sealed class FusedPlan
{
    public FusedPlan(VolumeShape source, VolumeShape target, double angleDegrees)
    {
        Source = source;
        var axis0 = LinearZoomAxis.Create(source.Width, target.Width);
        var axis1 = LinearZoomAxis.Create(source.Height, target.Height);
        var axis2 = LinearZoomAxis.Create(source.Depth, target.Depth);
        Rows = axis0.DistinctTaps();
        Columns = axis1.DistinctTaps();
        Planes = axis2.DistinctTaps();
        Axis0 = axis0.Compact(Rows);
        Axis1 = axis1.Compact(Columns);
        Axis2 = axis2.Compact(Planes);
        PlaneOfSlice = new int[source.Depth];
        Array.Fill(PlaneOfSlice, -1);
        for (int p = 0; p < Planes.Length; p++) PlaneOfSlice[Planes[p]] = p;

        var geometry = new RotationGeometry(angleDegrees, source.Width, source.Height);
        SampleIndices = TryIndexMap(geometry, Rows, Columns);
        if (SampleIndices is null)
        {
            // Slices arrive in file order (index i + Width·j): axis 0 has stride 1, axis 1 stride Width.
            SplineMap = new RotationSampleMap(geometry, Rows, Columns, stride0: 1, stride1: source.Width);
        }
    }

    public VolumeShape Source { get; }

    public int[] Rows { get; }

    public int[] Columns { get; }

    /// <summary>The input slices (k) the zoom reads, ascending.</summary>
    public int[] Planes { get; }

    /// <summary>Per input slice, its position in <see cref="Planes"/>, or −1 when the zoom does not read it.</summary>
    public int[] PlaneOfSlice { get; }

    public LinearZoomAxis Axis0 { get; }

    public LinearZoomAxis Axis1 { get; }

    public LinearZoomAxis Axis2 { get; }

    /// <summary>Per needed point (rows × columns), the file-order slice index to copy, or −1 for outside (0).</summary>
    public int[]? SampleIndices { get; }

    /// <summary>Spline taps per needed point, when some point falls between samples.</summary>
    public RotationSampleMap? SplineMap { get; }

    public int PointCount => Rows.Length * Columns.Length;

    private static int[]? TryIndexMap(RotationGeometry geometry, int[] rows, int[] columns)
    {
        var indices = new int[rows.Length * columns.Length];
        int p = 0;
        foreach (int o0 in rows)
        {
            foreach (int o1 in columns)
            {
                (double x0, double x1) = geometry.Map(o0, o1);
                if (!geometry.IsInside(x0, x1))
                    indices[p] = -1;
                else if (x0 == Math.Floor(x0) && x1 == Math.Floor(x1))
                    indices[p] = (int)x0 + geometry.Extent0 * (int)x1;
                else
                    return null;
                p++;
            }
        }
        return indices;
    }
}
