namespace CtScan.Preprocessing;

/// <summary>
/// Precomputed cubic-spline taps and weights for a grid of output points (chosen rows × chosen columns) of one
/// rotation: computed once per (plane shape, angle, point set, memory layout) and reused for every plane
/// (the ResizeKernelMap idea). Tap offsets are pre-multiplied by the coefficient plane's strides, so the same map
/// serves C-order ([i][j]) and file-order ([j][i]) planes.
/// </summary>
internal sealed class RotationSampleMap
{
    private const int Taps = 4;

    // Per point: 4 offsets along axis 0 and 4 along axis 1 (offset0[0] = −1 marks a point outside the plane).
    private readonly int[] _offsets0;
    private readonly int[] _offsets1;
    private readonly double[] _weights0;
    private readonly double[] _weights1;

    public RotationSampleMap(RotationGeometry geometry, ReadOnlySpan<int> rows, ReadOnlySpan<int> columns, int stride0, int stride1)
    {
        RowCount = rows.Length;
        ColumnCount = columns.Length;
        int points = rows.Length * columns.Length;
        _offsets0 = new int[points * Taps];
        _offsets1 = new int[points * Taps];
        _weights0 = new double[points * Taps];
        _weights1 = new double[points * Taps];
        int p = 0;
        foreach (int o0 in rows)
        {
            foreach (int o1 in columns)
            {
                (double x0, double x1) = geometry.Map(o0, o1);
                int at = p * Taps;
                if (!geometry.IsInside(x0, x1))
                {
                    _offsets0[at] = -1;
                }
                else
                {
                    int start0 = CubicBSpline.Weights(x0, _weights0.AsSpan(at, Taps));
                    int start1 = CubicBSpline.Weights(x1, _weights1.AsSpan(at, Taps));
                    for (int a = 0; a < Taps; a++)
                    {
                        _offsets0[at + a] = CubicBSpline.Mirror(start0 + a, geometry.Extent0) * stride0;
                        _offsets1[at + a] = CubicBSpline.Mirror(start1 + a, geometry.Extent1) * stride1;
                    }
                }
                p++;
            }
        }
    }

    public int RowCount { get; }

    public int ColumnCount { get; }

    public int PointCount => RowCount * ColumnCount;

    /// <summary>
    /// The spline's value at point <paramref name="point"/> (row-major over rows × columns), or 0 outside the plane:
    /// Σ (c·w0)·w1 with the axis-0 tap outermost, as scipy sums.
    /// </summary>
    public double Evaluate(ReadOnlySpan<double> coefficients, int point)
    {
        int at = point * Taps;
        ReadOnlySpan<int> offsets0 = _offsets0.AsSpan(at, Taps);
        if (offsets0[0] < 0) return 0.0;
        ReadOnlySpan<int> offsets1 = _offsets1.AsSpan(at, Taps);
        ReadOnlySpan<double> weights0 = _weights0.AsSpan(at, Taps);
        ReadOnlySpan<double> weights1 = _weights1.AsSpan(at, Taps);
        double sum = 0.0;
        for (int a0 = 0; a0 < Taps; a0++)
        {
            int row = offsets0[a0];
            double w0 = weights0[a0];
            for (int a1 = 0; a1 < Taps; a1++)
                sum += coefficients[row + offsets1[a1]] * w0 * weights1[a1];
        }
        return sum;
    }
}
