using System.Runtime.CompilerServices;
namespace CtScan.Preprocessing;

/// <summary>
/// The cubic B-spline pieces of scipy.ndimage (order 3, 'mirror' boundary), stated once and shared by the
/// standalone <see cref="SplineRotation"/> and the fused path of <see cref="ScanPreprocessor"/>.
/// Arithmetic follows scipy 1.10's ni_splines.c / ni_interpolation.c operation by operation, so results match
/// bit for bit.
/// </summary>
internal static class CubicBSpline
{
    /// <summary>scipy's literal for √3 − 2; computing it in double gives a different last bit.</summary>
    public const double Pole = -0.267949192431122706472553658494127633;

    /// <summary>(1 − z)(1 − 1/z) = 6, as scipy computes it.</summary>
    public static readonly double Gain = 1.0 * ((1.0 - Pole) * (1.0 - 1.0 / Pole));

    /// <summary>
    /// Prefilters <paramref name="rowCount"/> contiguous lines of <paramref name="lineLength"/> values each
    /// (the axis whose samples are adjacent in memory).
    /// </summary>
    // Hot loop run a few times per scan: optimise it on the first call rather than waiting for tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PrefilterAlongRows(Span<double> data, int rowCount, int lineLength)
    {
        if (lineLength == 1) return;
        double zn1 = Math.Pow(Pole, lineLength - 1);
        double initDivisor = 1 - zn1 * zn1;
        for (int r = 0; r < rowCount; r++)
        {
            Span<double> c = data.Slice(r * lineLength, lineLength);
            int n = lineLength;
            for (int i = 0; i < n; i++) c[i] *= Gain;
            double c0 = c[0] + zn1 * c[n - 1];
            double zi = Pole;
            for (int i = 1; i < n - 1; i++)
            {
                c0 += zi * (c[i] + zn1 * c[n - 1 - i]);
                zi *= Pole;
            }
            c[0] = c0 / initDivisor;
            for (int i = 1; i < n; i++) c[i] += Pole * c[i - 1];
            c[n - 1] = (Pole * c[n - 2] + c[n - 1]) * Pole / (Pole * Pole - 1);
            for (int i = n - 2; i >= 0; i--) c[i] = Pole * (c[i + 1] - c[i]);
        }
    }

    /// <summary>
    /// Prefilters along the strided axis: <paramref name="lineLength"/> rows of <paramref name="rowLength"/>
    /// values, one line per column. Runs the same per-line recurrences with whole rows as the unit, which keeps
    /// memory access sequential; every element sees exactly the operations of <see cref="PrefilterAlongRows"/>.
    /// </summary>
    // Hot loop run a few times per scan: optimise it on the first call rather than waiting for tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PrefilterAcrossRows(Span<double> data, int lineLength, int rowLength, Span<double> scratchRow)
    {
        int n = lineLength;
        if (n == 1) return;
        double zn1 = Math.Pow(Pole, n - 1);
        double initDivisor = 1 - zn1 * zn1;
        Span<double> c0 = scratchRow[..rowLength];
        data[..(n * rowLength)].MultiplyInPlace(Gain);
        Span<double> first = data[..rowLength];
        Span<double> last = data.Slice((n - 1) * rowLength, rowLength);
        for (int x = 0; x < rowLength; x++) c0[x] = first[x] + zn1 * last[x];
        double zi = Pole;
        for (int i = 1; i < n - 1; i++)
        {
            Span<double> a = data.Slice(i * rowLength, rowLength);
            Span<double> b = data.Slice((n - 1 - i) * rowLength, rowLength);
            for (int x = 0; x < rowLength; x++) c0[x] += zi * (a[x] + zn1 * b[x]);
            zi *= Pole;
        }
        for (int x = 0; x < rowLength; x++) first[x] = c0[x] / initDivisor;
        for (int i = 1; i < n; i++)
        {
            Span<double> previous = data.Slice((i - 1) * rowLength, rowLength);
            Span<double> current = data.Slice(i * rowLength, rowLength);
            for (int x = 0; x < rowLength; x++) current[x] += Pole * previous[x];
        }
        Span<double> beforeLast = data.Slice((n - 2) * rowLength, rowLength);
        for (int x = 0; x < rowLength; x++) last[x] = (Pole * beforeLast[x] + last[x]) * Pole / (Pole * Pole - 1);
        for (int i = n - 2; i >= 0; i--)
        {
            Span<double> next = data.Slice((i + 1) * rowLength, rowLength);
            Span<double> current = data.Slice(i * rowLength, rowLength);
            for (int x = 0; x < rowLength; x++) current[x] = Pole * (next[x] - current[x]);
        }
    }

    /// <summary>
    /// scipy get_spline_interpolation_weights(order 3): the four taps start at floor(x) − 1.
    /// </summary>
    public static int Weights(double x, Span<double> weights)
    {
        double floor = Math.Floor(x);
        double t = x - floor;
        double u = 1.0 - t;
        weights[1] = (t * t * (t - 2.0) * 3.0 + 4.0) / 6.0;
        weights[2] = (u * u * (u - 2.0) * 3.0 + 4.0) / 6.0;
        weights[0] = u * u * u / 6.0;
        weights[3] = 1.0 - weights[0] - weights[1] - weights[2];
        return (int)floor - 1;
    }

    /// <summary>Whole-sample symmetric index: … x2 x1 | x0 x1 … x(n−1) | x(n−2) …</summary>
    public static int Mirror(int index, int length)
    {
        if (length == 1) return 0;
        int period = 2 * length - 2;
        int i = Math.Abs(index) % period;
        return i >= length ? period - i : i;
    }

    private static void MultiplyInPlace(this Span<double> values, double factor)
    {
        for (int n = 0; n < values.Length; n++) values[n] *= factor;
    }
}
