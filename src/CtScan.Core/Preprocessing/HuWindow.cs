using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CtScan.Preprocessing;

/// <summary>
/// Maps Hounsfield units into [0, 1]: clip to [<see cref="MinimumHu"/>, <see cref="MaximumHu"/>] in float64, then
/// (v − min)/(max − min), cast to float32 — the seed's <c>normalize</c> (defaults −1000 and 400 HU).
/// </summary>
/// <remarks>
/// The seed leaves NaN as NaN. This product maps NaN to the window minimum (0.0) and clips ±∞ like any other value,
/// and reports how many it saw so callers can flag suspicious scans.
/// </remarks>
public sealed class HuWindow
{
    public const double SeedMinimumHu = -1000;
    public const double SeedMaximumHu = 400;

    private readonly double _width;

    /// <param name="minimumHu">Lower edge of the window in HU (finite, below <paramref name="maximumHu"/>).</param>
    /// <param name="maximumHu">Upper edge of the window in HU (finite).</param>
    public HuWindow(double minimumHu = SeedMinimumHu, double maximumHu = SeedMaximumHu)
    {
        if (!double.IsFinite(minimumHu))
            throw new ArgumentOutOfRangeException(nameof(minimumHu), minimumHu, $"the window minimum must be a finite HU value; got {minimumHu}");
        if (!double.IsFinite(maximumHu))
            throw new ArgumentOutOfRangeException(nameof(maximumHu), maximumHu, $"the window maximum must be a finite HU value; got {maximumHu}");
        if (!(minimumHu < maximumHu))
            throw new ArgumentOutOfRangeException(nameof(maximumHu), maximumHu, $"the window maximum must exceed the minimum {minimumHu} HU; got {maximumHu}");
        MinimumHu = minimumHu;
        MaximumHu = maximumHu;
        _width = maximumHu - minimumHu;
    }

    public double MinimumHu { get; }

    public double MaximumHu { get; }

    /// <summary>One value: NaN and −∞ give 0, +∞ gives 1.</summary>
    public float Normalize(double hu)
    {
        // The negated comparison sends NaN to the minimum along with everything below it.
        double v = !(hu >= MinimumHu) ? MinimumHu : hu > MaximumHu ? MaximumHu : hu;
        return (float)((v - MinimumHu) / _width);
    }

    /// <summary>Windows <paramref name="hounsfield"/> into <paramref name="destination"/> (same length, any layout).</summary>
    /// <returns>How many NaN and ±∞ values were met.</returns>
    public NonFiniteCounts Apply(ReadOnlySpan<double> hounsfield, Span<float> destination)
    {
        if (destination.Length != hounsfield.Length)
            throw new ArgumentException($"destination holds {destination.Length} values; the source has {hounsfield.Length}", nameof(destination));
        for (int n = 0; n < hounsfield.Length; n++) destination[n] = Normalize(hounsfield[n]);
        return CountNonFinite(hounsfield);
    }

    /// <summary>
    /// destination[n] = Normalize(values[indices[n]]), or 0 where indices[n] is negative (outside the rotated plane).
    /// Every index must be below values.Length (the caller's plan guarantees it). With AVX2, four lanes at a time
    /// through the same IEEE operations as <see cref="Normalize"/>, so results are identical.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal unsafe void NormalizeGathered(ReadOnlySpan<double> values, ReadOnlySpan<int> indices, Span<float> destination)
    {
        if (destination.Length < indices.Length)
            throw new ArgumentException($"destination holds {destination.Length} values; {indices.Length} are needed", nameof(destination));
        int n = 0;
        if (Avx2.IsSupported && values.Length > 0)
        {
            Vector256<double> min = Vector256.Create(MinimumHu), max = Vector256.Create(MaximumHu), width = Vector256.Create(_width);
            fixed (double* basePtr = values)
            fixed (int* indexPtr = indices)
            fixed (float* target = destination)
            {
                for (; n <= indices.Length - 4; n += 4)
                {
                    Vector128<int> index = Sse2.LoadVector128(indexPtr + n);
                    Vector128<int> inside = Sse2.CompareGreaterThan(index, Vector128.Create(-1));
                    Vector256<double> mask = Avx2.ConvertToVector256Int64(inside).AsDouble();
                    Vector256<double> v = Avx2.GatherMaskVector256(Vector256<double>.Zero, basePtr, index, mask, sizeof(double));
                    // As in Normalize: NaN fails the comparison and joins the values below the window.
                    v = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, min), v, min);
                    v = Vector256.ConditionalSelect(Vector256.GreaterThan(v, max), max, v);
                    Vector128<float> result = Avx.ConvertToVector128Single((v - min) / width);
                    Sse.Store(target + n, Vector128.ConditionalSelect(inside.AsSingle(), result, Vector128<float>.Zero));
                }
            }
        }
        for (; n < indices.Length; n++)
        {
            int index = indices[n];
            destination[n] = index < 0 ? 0f : Normalize(values[index]);
        }
    }

    /// <summary>Counts NaN and ±∞; a vectorised scan first, since nearly every scan has none.</summary>
    public static NonFiniteCounts CountNonFinite(ReadOnlySpan<double> values)
    {
        if (!ContainsNonFinite(values)) return default;
        long nan = 0, positive = 0, negative = 0;
        foreach (double v in values)
        {
            if (double.IsNaN(v)) nan++;
            else if (double.IsPositiveInfinity(v)) positive++;
            else if (double.IsNegativeInfinity(v)) negative++;
        }
        return new NonFiniteCounts(nan, positive, negative);
    }

    // Hot loop run a few times per scan: optimise it on the first call rather than waiting for tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ContainsNonFinite(ReadOnlySpan<double> values)
    {
        // A double is NaN or ±∞ exactly when all its exponent bits are set.
        const ulong exponentMask = 0x7FF0_0000_0000_0000;
        ReadOnlySpan<ulong> bits = System.Runtime.InteropServices.MemoryMarshal.Cast<double, ulong>(values);
        int n = 0;
        if (Vector256.IsHardwareAccelerated && bits.Length >= Vector256<ulong>.Count)
        {
            Vector256<ulong> mask = Vector256.Create(exponentMask);
            Vector256<ulong> any = Vector256<ulong>.Zero;
            for (; n <= bits.Length - Vector256<ulong>.Count; n += Vector256<ulong>.Count)
                any |= Vector256.Equals(Vector256.Create(bits.Slice(n, Vector256<ulong>.Count)) & mask, mask);
            if (any != Vector256<ulong>.Zero) return true;
        }
        for (; n < bits.Length; n++)
            if ((bits[n] & exponentMask) == exponentMask) return true;
        return false;
    }
}
