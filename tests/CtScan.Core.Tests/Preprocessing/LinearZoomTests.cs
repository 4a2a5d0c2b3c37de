using CtScan.Preprocessing;

namespace CtScan.Tests.Preprocessing;

public class LinearZoomTests
{
    public static TheoryData<VolumeShape, VolumeShape> Shapes => new()
    {
        { new VolumeShape(9, 7, 5), new VolumeShape(4, 3, 2) },
        { new VolumeShape(4, 5, 3), new VolumeShape(11, 8, 7) },
        { new VolumeShape(6, 1, 4), new VolumeShape(3, 5, 1) },
        { new VolumeShape(5, 5, 5), new VolumeShape(5, 5, 5) },
    };

    /// <summary>Textbook trilinear interpolation at x = o·(n−1)/(m−1), clamped at the far edge.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Apply_AnyShapes_MatchesTextbookTrilinear(VolumeShape source, VolumeShape target)
    {
        float[] input = SplineRotationTests.RandomUnit(source, 3);
        var zoomed = new float[target.VoxelCount];

        new LinearZoom(target).Apply(input, zoomed, source);

        for (int p0 = 0; p0 < target.Width; p0++)
            for (int p1 = 0; p1 < target.Height; p1++)
                for (int p2 = 0; p2 < target.Depth; p2++)
                {
                    var (i0, i1, t0) = Tap(p0, source.Width, target.Width);
                    var (j0, j1, t1) = Tap(p1, source.Height, target.Height);
                    var (k0, k1, t2) = Tap(p2, source.Depth, target.Depth);
                    double At(int i, int j, int k) => input[source.IndexOf(i, j, k)];
                    double Lerp(double a, double b, double t) => a + (b - a) * t;
                    double expected = Lerp(
                        Lerp(Lerp(At(i0, j0, k0), At(i0, j0, k1), t2), Lerp(At(i0, j1, k0), At(i0, j1, k1), t2), t1),
                        Lerp(Lerp(At(i1, j0, k0), At(i1, j0, k1), t2), Lerp(At(i1, j1, k0), At(i1, j1, k1), t2), t1), t0);
                    Assert.Equal(expected, zoomed[target.IndexOf(p0, p1, p2)], 1e-6);
                }
    }

    [Fact]
    public void Apply_SameShape_IsTheIdentity()
    {
        var shape = new VolumeShape(6, 5, 4);
        float[] input = SplineRotationTests.RandomUnit(shape, 4);
        var zoomed = new float[input.Length];

        new LinearZoom(shape).Apply(input, zoomed, shape);

        Assert.Equal(input, zoomed);
    }

    [Fact]
    public void Constructor_TargetWithZeroExtent_Throws()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LinearZoom(new VolumeShape(128, 0, 64)));

        Assert.Contains("128×0×64", error.Message);
    }

    private static (int Lower, int Upper, double Fraction) Tap(int o, int n, int m)
    {
        double x = m > 1 ? o * (double)(n - 1) / (m - 1) : 0;
        int lower = Math.Min((int)Math.Floor(x), n - 1);
        return (lower, Math.Min(lower + 1, n - 1), x - lower);
    }
}

public class LinearZoomVectorPathTests
{
    /// <summary>The AVX2 loop must reproduce the scalar reference loop bit for bit, tails included.</summary>
    [Theory]
    [InlineData(9, 7, 13, 5, 4, 7)]
    [InlineData(4, 5, 3, 11, 8, 9)]
    [InlineData(6, 6, 64, 3, 3, 64)]
    public void Resample_VectorisedAndScalar_AreBitIdentical(int n0, int n1, int n2, int m0, int m1, int m2)
    {
        var source = new VolumeShape(n0, n1, n2);
        float[] input = SplineRotationTests.RandomUnit(source, 12);
        var axis0 = CtScan.Preprocessing.LinearZoomAxis.Create(n0, m0);
        var axis1 = CtScan.Preprocessing.LinearZoomAxis.Create(n1, m1);
        var axis2 = CtScan.Preprocessing.LinearZoomAxis.Create(n2, m2);
        var vectorised = new float[m0 * m1 * m2];
        var scalar = new float[m0 * m1 * m2];

        CtScan.Preprocessing.LinearZoom.Resample(input, n1 * n2, n2, 1, axis0, axis1, axis2, vectorised);
        CtScan.Preprocessing.LinearZoom.ResampleScalar(input, n1 * n2, n2, 1, axis0, axis1, axis2, scalar);

        Assert.Equal(scalar, vectorised);
    }
}
