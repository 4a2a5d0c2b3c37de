using CtScan.Contracts;

namespace CtScan.Tests.Fuzzing;

/// <summary>What fuzzing the manifest parser found (fuzz/regressions/manifest): shapes too large for one tensor passed
/// validation, and <see cref="ModelManifest.InputVolume"/>'s voxel count wrapped around.</summary>
public sealed class ManifestFuzzFindingTests
{
    [Theory]
    [InlineData(2147483647, 2147483647, 2147483647)]
    [InlineData(2048, 2048, 1024)]
    public void Validate_ShapeBeyondOneTensor_NamesInputShapeAndTargetShape(int width, int height, int depth)
    {
        var manifest = ContractsJson.DeserializeManifest(File.ReadAllText(FuzzCorpus.Seeds("manifest").Single(f => f.EndsWith("full.json", StringComparison.Ordinal))));
        var huge = manifest with
        {
            Input = manifest.Input with { Shape = [width, height, depth] },
            Preprocessing = manifest.Preprocessing with { TargetShape = [width, height, depth] },
        };

        var problems = huge.Validate();

        Assert.Equal(2, problems.Count);
        Assert.StartsWith("input.shape: must be three positive extents [W, H, D] of at most 2147483591 values", problems[0]);
        Assert.Contains($"got [{width}, {height}, {depth}]", problems[0]);
        Assert.StartsWith("preprocessing.targetShape: must be three positive extents", problems[1]);
    }

    [Fact]
    public void Validate_LargestShapeOfOneTensor_Passes()
    {
        var manifest = ContractsJson.DeserializeManifest(File.ReadAllText(FuzzCorpus.Seeds("manifest").Single(f => f.EndsWith("full.json", StringComparison.Ordinal))));
        int[] shape = [Array.MaxLength, 1, 1];

        var largest = manifest with { Input = manifest.Input with { Shape = shape }, Preprocessing = manifest.Preprocessing with { TargetShape = shape } };

        Assert.Empty(largest.Validate());
        Assert.Equal(Array.MaxLength, largest.InputVolume.VoxelCount);
    }
}
