using CtScan.Preprocessing;
using CtScan.Tensors;
using CtScan.Tests.Support;

namespace CtScan.Tests.Preprocessing;

public class RandomRotationTests
{
    [Fact]
    public void ApplyAfterRandomize_EveryDrawnAngle_MatchesTheSeedAugmentationWithin1e5()
    {
        Float32Tensor input = TestArrays.LoadNpzEntry("augment_64x48x16.npz", "input.npy");
        VolumeShape shape = input.ToVolumeShape();
        var augmentation = new RandomRotation();
        var random = new Random(2024);
        var seen = new HashSet<double>();
        var output = new float[input.Data.Length];

        for (int draw = 0; draw < 40 && seen.Count < 6; draw++)
        {
            double angle = augmentation.Randomize(random);
            if (!seen.Add(angle)) continue;
            augmentation.Apply(input.Data, output, shape);

            Float32Tensor expected = TestArrays.LoadNpzEntry("augment_64x48x16.npz", $"angle_{angle:+0;-0}.npy");
            var (maxDiff, _) = TestArrays.Compare(output, expected.Data);
            Assert.True(maxDiff <= 1e-5, $"angle {angle}: max |diff| {maxDiff}");
            Assert.Equal(angle, augmentation.DrawnAngleDegrees);
        }
        Assert.Equal(6, seen.Count);
    }

    [Fact]
    public void Randomize_SameSeed_DrawsTheSameAngles()
    {
        var a = new RandomRotation();
        var b = new RandomRotation();
        var ra = new Random(7);
        var rb = new Random(7);

        for (int n = 0; n < 20; n++) Assert.Equal(a.Randomize(ra), b.Randomize(rb));
        Assert.All(Enumerable.Range(0, 50).Select(_ => a.Randomize(ra)), angle => Assert.Contains(angle, RandomRotation.SeedAngles));
    }

    [Fact]
    public void Apply_BeforeRandomize_Throws()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new RandomRotation().Apply(new float[8], new float[8], new VolumeShape(2, 2, 2)));

        Assert.Contains("Randomize", error.Message);
    }

    [Fact]
    public void Apply_Always_ClipsToTheUnitInterval()
    {
        var shape = new VolumeShape(12, 9, 2);
        float[] input = SplineRotationTests.RandomUnit(shape, 9);
        var output = new float[input.Length];
        var augmentation = new RandomRotation([20]);
        augmentation.Randomize(new Random(1));

        augmentation.Apply(input, output, shape);

        Assert.All(output, v => Assert.InRange(v, 0f, 1f));
    }
}
