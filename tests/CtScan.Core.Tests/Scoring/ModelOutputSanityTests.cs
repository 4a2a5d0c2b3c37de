using CtScan.Contracts;
using CtScan.Scoring;
using CtScan.Tensors;

namespace CtScan.Tests.Scoring;

/// <summary>tests/fixtures/models/fixture-broken46 returns 4·sqrt(mean − 0.5): NaN below a mean of 0.5, above 1 beyond 0.5625.</summary>
public sealed class ModelOutputSanityTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-output-");

    public void Dispose() => _temp.Delete(recursive: true);

    private static OnnxScorer Broken() => OnnxScorer.Open(Fixtures.Path("models", "fixture-broken46"));

    private string Tensor(float value)
    {
        string path = Path.Combine(_temp.FullName, $"tensor-{value}.npy");
        var shape = new VolumeShape(46, 46, 46);
        using var file = File.Create(path);
        NpyFile.Write(file, new Float32Tensor([.. Enumerable.Repeat(value, (int)shape.VoxelCount)], shape));
        return path;
    }

    [Theory]
    [InlineData(0.2f, "NaN")]
    [InlineData(1.0f, "2.828")]
    public async Task FileScorer_ModelOutputNotAProbability_IsFailedWithInvalidModelOutputAndNoLabel(float voxel, string reported)
    {
        using var scorer = Broken();

        var result = await new FileScorer(scorer).ScoreAsync(Tensor(voxel));

        Assert.Equal(ScanStatus.Failed, result.Status);
        Assert.Equal(ScanErrorCodes.InvalidModelOutput, result.Error!.Code);
        Assert.Contains(reported, result.Error.Message);
        Assert.Null(result.Label);
        Assert.Null(result.ProbabilityAbnormal);
        Assert.Empty(Contracts.ResultSchema.Errors(ContractsJson.Serialize(result)));
    }

    [Fact]
    public void Score_NaNOutput_ThrowsInsteadOfLabellingNormal()
    {
        using var scorer = Broken();

        var error = Assert.Throws<InvalidModelOutputException>(() => scorer.Score(Enumerable.Repeat(0.2f, 46 * 46 * 46).ToArray()));

        Assert.Contains("a probability must lie in [0, 1]", error.Message);
    }

    [Fact]
    public void Score_ProbabilityInRange_IsScored()
    {
        using var scorer = Broken();

        var score = scorer.Score(Enumerable.Repeat(0.52f, 46 * 46 * 46).ToArray());

        Assert.Equal(4 * Math.Sqrt(0.02), score.ProbabilityAbnormal, 1e-3); // float32: 0.52f − 0.5 is 0.0200001
    }
}
