using CtScan.Preprocessing;
using CtScan.Tests.Support;

namespace CtScan.Tests.Preprocessing;

public class ScanPreprocessorTests
{
    public static TheoryData<VolumeShape, VolumeShape> OddDifferenceCases => new()
    {
        { new VolumeShape(9, 6, 4), new VolumeShape(4, 3, 2) },
        { new VolumeShape(9, 6, 4), new VolumeShape(16, 13, 7) },
        { new VolumeShape(6, 11, 3), new VolumeShape(1, 5, 1) },
        { new VolumeShape(5, 4, 1), new VolumeShape(5, 4, 3) },
    };

    public static TheoryData<VolumeShape, VolumeShape> EvenDifferenceCases => new()
    {
        { new VolumeShape(10, 6, 3), new VolumeShape(4, 4, 2) },
        { new VolumeShape(8, 8, 5), new VolumeShape(17, 12, 9) },
        { new VolumeShape(6, 12, 4), new VolumeShape(1, 1, 1) },
        { new VolumeShape(7, 7, 1), new VolumeShape(3, 20, 2) },
    };

    /// <summary>With an odd n0 − n1 the fused path evaluates the same spline the standalone rotation does: identical bits.</summary>
    [Theory]
    [MemberData(nameof(OddDifferenceCases))]
    public void Process_OddDifference_EqualsComposedTransformsExactly(VolumeShape source, VolumeShape target)
    {
        var (fused, composed) = FusedAndComposed(source, target);

        Assert.Equal(composed, fused);
    }

    /// <summary>
    /// With an even n0 − n1 the fused path copies samples where the spline evaluates at integer points; the spline
    /// returns each sample up to ~1e-16 (and tiny non-zeros where the sample is 0). After the zoom that can move a
    /// value by at most one float32 ulp: when a zoom sum lands exactly on a float32 rounding tie (dyadic weights, as
    /// for 8 → 17), the spline's 1e-16 decides the tie and the exact sample does not.
    /// </summary>
    [Theory]
    [MemberData(nameof(EvenDifferenceCases))]
    public void Process_EvenDifference_EqualsComposedTransformsWithinOneUlp(VolumeShape source, VolumeShape target)
    {
        var (fused, composed) = FusedAndComposed(source, target);

        for (int n = 0; n < fused.Length; n++)
        {
            float larger = Math.Max(Math.Abs(fused[n]), Math.Abs(composed[n]));
            double ulp = MathF.BitIncrement(larger) - larger;
            Assert.True(Math.Abs((double)fused[n] - composed[n]) <= Math.Max(ulp, 1e-15),
                $"voxel {n}: fused {fused[n]:R}, composed {composed[n]:R}");
        }
    }

    [Fact]
    public void Process_ScanWithNaNAndInfinity_CountsThemAndTreatsThemAsDocumented()
    {
        var shape = new VolumeShape(4, 4, 2);
        double[] hu = Enumerable.Repeat(-1000.0, 32).ToArray();
        hu[5] = double.NaN;
        hu[6] = double.PositiveInfinity;
        hu[20] = double.NegativeInfinity;

        PreprocessedScan result = new ScanPreprocessor(new PreprocessingOptions { TargetShape = shape })
            .Process(new ArrayVolumeSlices(hu, shape));

        Assert.Equal(new NonFiniteCounts(1, 1, 1), result.NonFinite);
        Assert.Equal(shape, result.SourceShape);
        Assert.All(result.Tensor.Data, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1f, result.Tensor.Data.Max(), 1e-6f);
    }

    [Fact]
    public void Process_DefaultOptions_ProducesTheSeedTargetShape()
    {
        var shape = new VolumeShape(20, 16, 5);

        PreprocessedScan result = new ScanPreprocessor().Process(new ArrayVolumeSlices(TestArrays.RandomHu(shape, 1), shape));

        Assert.Equal(VolumeShape.SeedTarget, result.Tensor.ToVolumeShape());
    }

    [Fact]
    public void Process_CancelledToken_Throws()
    {
        var shape = new VolumeShape(4, 4, 2);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            new ScanPreprocessor().Process(new ArrayVolumeSlices(new double[32], shape), cancellation.Token));
    }

    [Theory]
    [InlineData(400.0, -1000.0, "400")]
    [InlineData(double.NaN, 400.0, "NaN")]
    public void Constructor_BadWindow_ThrowsNamingTheValue(double minimum, double maximum, string named)
    {
        var options = new PreprocessingOptions { WindowMinimumHu = minimum, WindowMaximumHu = maximum };

        var error = Assert.ThrowsAny<ArgumentException>(() => new ScanPreprocessor(options));

        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Constructor_BadTargetShape_ThrowsNamingTheShape()
    {
        var options = new PreprocessingOptions { TargetShape = new VolumeShape(128, -1, 64) };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ScanPreprocessor(options));

        Assert.Contains("TargetShape", error.Message);
        Assert.Contains("128×-1×64", error.Message);
    }

    /// <summary>The fused preprocessor and HuWindow → SplineRotation(90) → LinearZoom run one after the other.</summary>
    private static (float[] Fused, float[] Composed) FusedAndComposed(VolumeShape source, VolumeShape target)
    {
        double[] fileOrder = TestArrays.RandomHu(source, source.GetHashCode());
        var options = new PreprocessingOptions { TargetShape = target };
        float[] fused = new ScanPreprocessor(options).Process(new ArrayVolumeSlices(fileOrder, source)).Tensor.Data;

        var windowed = new float[source.VoxelCount];
        new HuWindow(options.WindowMinimumHu, options.WindowMaximumHu).Apply(TestArrays.FortranToC(fileOrder, source), windowed);
        var rotated = new float[source.VoxelCount];
        new SplineRotation(ScanPreprocessor.SeedRotationDegrees).Apply(windowed, rotated, source);
        var composed = new float[target.VoxelCount];
        new LinearZoom(target).Apply(rotated, composed, source);
        return (fused, composed);
    }
}
