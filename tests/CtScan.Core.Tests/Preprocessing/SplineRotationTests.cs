using CtScan.Preprocessing;
using CtScan.Tensors;
using CtScan.Tests.Support;
using Xunit.Abstractions;

namespace CtScan.Tests.Preprocessing;

public class SplineRotationTests(ITestOutputHelper output)
{
    private const string AugmentNpz = "augment_64x48x16.npz";

    /// <summary>
    /// scipy's rotate at the augmentation angles, checked through the clip the goldens include; the clip only
    /// removes overshoot, so values strictly inside (0, 1) test the spline itself.
    /// </summary>
    [Theory]
    [InlineData(-20, "angle_-20.npy")]
    [InlineData(-10, "angle_-10.npy")]
    [InlineData(-5, "angle_-5.npy")]
    [InlineData(5, "angle_+5.npy")]
    [InlineData(10, "angle_+10.npy")]
    [InlineData(20, "angle_+20.npy")]
    public void Apply_AugmentationAngle_MatchesScipyInsideTheClip(double angle, string entry)
    {
        Float32Tensor input = TestArrays.LoadNpzEntry(AugmentNpz, "input.npy");
        Float32Tensor expected = TestArrays.LoadNpzEntry(AugmentNpz, entry);
        VolumeShape shape = input.ToVolumeShape();
        var rotated = new float[input.Data.Length];

        new SplineRotation(angle).Apply(input.Data, rotated, shape);

        double max = 0;
        for (int n = 0; n < rotated.Length; n++)
        {
            float clipped = Math.Clamp(rotated[n], 0f, 1f);
            max = Math.Max(max, Math.Abs(clipped - (double)expected.Data[n]));
        }
        output.WriteLine($"angle {angle}: max |diff| {max:E3}");
        Assert.True(max <= 1e-5, $"max |diff| {max}");
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(7, 9)]
    public void Apply_ZeroDegrees_ReturnsTheInput(int n0, int n1)
    {
        // The prefilter followed by evaluation at the samples reconstructs them: an independent check of both.
        var shape = new VolumeShape(n0, n1, 3);
        float[] input = RandomUnit(shape, 5);
        var rotated = new float[input.Length];

        new SplineRotation(0).Apply(input, rotated, shape);

        for (int n = 0; n < input.Length; n++) Assert.Equal(input[n], rotated[n], 1e-6f);
    }

    [Fact]
    public void Apply_NinetyDegreesOnASquarePlane_IsTheIndexRotation()
    {
        var shape = new VolumeShape(10, 10, 2);
        float[] input = RandomUnit(shape, 6);
        var rotated = new float[input.Length];

        new SplineRotation(90).Apply(input, rotated, shape);

        for (int o0 = 0; o0 < 10; o0++)
            for (int o1 = 0; o1 < 10; o1++)
                for (int k = 0; k < 2; k++)
                    Assert.Equal(input[shape.IndexOf(o1, 10 - 1 - o0, k)], rotated[shape.IndexOf(o0, o1, k)], 1e-6f);
    }

    [Fact]
    public void Apply_NinetyDegreesEvenDifference_ShiftsAndFillsWithZero()
    {
        // (n0 − n1)/2 = 2: out(o0, o1) = in(o1 + 2, n0 − 1 − o0 − 2), 0 where that leaves the plane.
        var shape = new VolumeShape(8, 4, 1);
        float[] input = RandomUnit(shape, 7);
        var rotated = new float[input.Length];

        new SplineRotation(90).Apply(input, rotated, shape);

        for (int o0 = 0; o0 < 8; o0++)
            for (int o1 = 0; o1 < 4; o1++)
            {
                int i = o1 + 2, j = 8 - 1 - o0 - 2;
                float expected = j is >= 0 and < 4 ? input[shape.IndexOf(i, j, 0)] : 0f;
                Assert.Equal(expected, rotated[shape.IndexOf(o0, o1, 0)], 1e-6f);
            }
    }

    [Fact]
    public void Apply_WrongLengthsOrOverlap_Throw()
    {
        var shape = new VolumeShape(4, 4, 2);
        var rotation = new SplineRotation(10);
        var buffer = new float[32];

        Assert.Throws<ArgumentException>(() => rotation.Apply(new float[31], new float[32], shape));
        Assert.Throws<ArgumentException>(() => rotation.Apply(new float[32], new float[33], shape));
        Assert.Throws<ArgumentException>(() => rotation.Apply(buffer, buffer, shape));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SplineRotation(double.NaN));
    }

    internal static float[] RandomUnit(VolumeShape shape, int seed)
    {
        var random = new Random(seed);
        var values = new float[shape.VoxelCount];
        for (int n = 0; n < values.Length; n++) values[n] = (float)random.NextDouble();
        return values;
    }
}
