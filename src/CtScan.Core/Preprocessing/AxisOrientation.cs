using System.Diagnostics.CodeAnalysis;

namespace CtScan.Preprocessing;

/// <summary>
/// Which world direction each array axis (i, j, k) points to, as nibabel's <c>aff2axcodes</c> says it: one letter per
/// axis, R/L for world x, A/P for y, S/I for z, naming the direction the index grows towards (RAS+ world, so a
/// positive x column is R). <c>LPS</c> means i grows to the left, j to posterior, k to superior.
/// </summary>
public sealed class AxisOrientation : IEquatable<AxisOrientation>
{
    private static readonly (char Negative, char Positive)[] Labels = [('L', 'R'), ('P', 'A'), ('I', 'S')];

    private AxisOrientation(int[] worldAxes, int[] signs, double obliquityDegrees)
    {
        WorldAxes = worldAxes;
        Signs = signs;
        ObliquityDegrees = obliquityDegrees;
        Codes = string.Concat(Enumerable.Range(0, 3).Select(a => signs[a] > 0 ? Labels[worldAxes[a]].Positive : Labels[worldAxes[a]].Negative));
    }

    /// <summary>For array axis a: the world axis it runs along (0 = x, 1 = y, 2 = z).</summary>
    public IReadOnlyList<int> WorldAxes { get; }

    /// <summary>For array axis a: +1 when the index grows towards the positive world direction (R, A, S), −1 otherwise.</summary>
    public IReadOnlyList<int> Signs { get; }

    /// <summary>The axis codes, e.g. <c>RAS</c>.</summary>
    public string Codes { get; }

    /// <summary>The largest angle between an array axis and its closest world axis (0 for an orthogonal affine).</summary>
    public double ObliquityDegrees { get; }

    /// <summary>Parses three axis codes (case-insensitive), one each of R/L, A/P and S/I.</summary>
    public static bool TryParse(string? codes, [NotNullWhen(true)] out AxisOrientation? orientation)
    {
        orientation = null;
        if (codes is not { Length: 3 }) return false;
        var world = new int[3];
        var signs = new int[3];
        bool[] seen = new bool[3];
        for (int a = 0; a < 3; a++)
        {
            char c = char.ToUpperInvariant(codes[a]);
            int w = Array.FindIndex(Labels, l => l.Negative == c || l.Positive == c);
            if (w < 0 || seen[w]) return false;
            seen[w] = true;
            world[a] = w;
            signs[a] = Labels[w].Positive == c ? 1 : -1;
        }
        orientation = new AxisOrientation(world, signs, 0);
        return true;
    }

    /// <summary>Parses axis codes or throws an <see cref="ArgumentException"/> naming them.</summary>
    public static AxisOrientation Parse(string codes) =>
        TryParse(codes, out var orientation) ? orientation
            : throw new ArgumentException($"expected three axis codes, one each of R/L, A/P and S/I (e.g. RAS, LPS); got '{codes}'", nameof(codes));

    /// <summary>
    /// The orientation of a voxel-to-world affine (4×4 or 3×4, rotation/zoom part used), like nibabel's
    /// <c>io_orientation</c>: the closest orthogonal matrix (polar decomposition), then for each array axis in turn the
    /// world axis with the largest component that no earlier axis took. Null when the 3×3 part is singular or not finite
    /// (no orientation can be read from it).
    /// </summary>
    public static AxisOrientation? FromAffine(double[,] affine)
    {
        ArgumentNullException.ThrowIfNull(affine);
        var m = new double[3, 3];
        for (int c = 0; c < 3; c++)
        {
            double norm = Math.Sqrt(affine[0, c] * affine[0, c] + affine[1, c] * affine[1, c] + affine[2, c] * affine[2, c]);
            if (!(norm > 0) || !double.IsFinite(norm)) return null;
            for (int r = 0; r < 3; r++) m[r, c] = affine[r, c] / norm;
        }
        if (Math.Abs(Determinant(m)) < 1e-6) return null;

        // Obliquity from the normalised columns themselves: how far each is from the axis it will be assigned.
        double[,] r3 = ClosestOrthogonal(m);
        var world = new int[3];
        var signs = new int[3];
        double worstCosine = 1;
        for (int a = 0; a < 3; a++)
        {
            int best = 0;
            for (int w = 1; w < 3; w++)
                if (Math.Abs(r3[w, a]) > Math.Abs(r3[best, a])) best = w;
            world[a] = best;
            signs[a] = r3[best, a] < 0 ? -1 : 1;
            worstCosine = Math.Min(worstCosine, Math.Abs(m[best, a]));
            for (int c = 0; c < 3; c++) r3[best, c] = 0; // this world axis is taken
        }
        if (world.Distinct().Count() != 3) return null;
        double obliquity = Math.Acos(Math.Clamp(worstCosine, -1, 1)) * 180 / Math.PI;
        return new AxisOrientation(world, signs, obliquity);
    }

    /// <summary>
    /// Where each axis of this orientation comes from in <paramref name="source"/>: for target axis a, the source
    /// axis and whether it is reversed. Identity when both orientations are the same.
    /// </summary>
    public (int SourceAxis, bool Flip)[] MappingFrom(AxisOrientation source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var map = new (int, bool)[3];
        for (int a = 0; a < 3; a++)
        {
            int b = source.WorldAxes.ToList().IndexOf(WorldAxes[a]);
            map[a] = (b, source.Signs[b] != Signs[a]);
        }
        return map;
    }

    /// <summary>Same axis codes (obliquity is not compared).</summary>
    public bool Equals(AxisOrientation? other) => other is not null && other.Codes == Codes;

    public override bool Equals(object? obj) => Equals(obj as AxisOrientation);

    public override int GetHashCode() => Codes.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Codes;

    private static double Determinant(double[,] m) =>
        m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
        - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
        + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]);

    /// <summary>The orthogonal factor of the polar decomposition (nibabel takes it from the SVD: U·Vᵀ), by Newton's
    /// iteration X ← (X + X⁻ᵀ)/2, which converges quadratically for a non-singular matrix.</summary>
    private static double[,] ClosestOrthogonal(double[,] m)
    {
        var x = (double[,])m.Clone();
        for (int iteration = 0; iteration < 100; iteration++)
        {
            double det = Determinant(x);
            // Inverse transpose = cofactor matrix / det.
            var next = new double[3, 3];
            double change = 0;
            for (int r = 0; r < 3; r++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int r1 = (r + 1) % 3, r2 = (r + 2) % 3, c1 = (c + 1) % 3, c2 = (c + 2) % 3;
                    double cofactor = x[r1, c1] * x[r2, c2] - x[r1, c2] * x[r2, c1];
                    next[r, c] = 0.5 * (x[r, c] + cofactor / det);
                    change = Math.Max(change, Math.Abs(next[r, c] - x[r, c]));
                }
            }
            x = next;
            if (change < 1e-14) break;
        }
        return x;
    }
}
