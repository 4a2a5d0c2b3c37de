using CtScan.Contracts;

namespace CtScan.Cli.Tests;

/// <summary>
/// <c>model import</c> runs the model once on a zero scan before writing the folder: a model that loads but does not
/// answer a probability is refused, and no folder is left behind.
/// </summary>
public sealed class ModelImportScoreCheckTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly ScoreChangingModel _model = new();

    public void Dispose()
    {
        _model.Dispose();
        _temp.Dispose();
    }

    private string WithExtraNode(string op, float constant)
    {
        string path = _temp.Path($"{op}-{constant}.onnx");
        _model.Write(op, constant, path);
        return path;
    }

    [Theory]
    [InlineData("Add", 2f, "sigmoid", "a probability in [0, 1]")]   // 2 + p: above 1
    [InlineData("Sub", 1.5f, "sigmoid", "a probability in [0, 1]")] // p − 1.5: below 0
    [InlineData("Mul", float.NaN, "logit", "a logit, not NaN")]      // NaN whatever the kind
    public async Task Import_OutputNotAProbability_IsRefusedAndWritesNoFolder(string op, float constant, string kind, string expected)
    {
        string onnx = WithExtraNode(op, constant);
        string folder = _temp.Path("imported");

        var (exit, stdout, error) = await CliRunner.RunAsync("model", "import", onnx, "--output-kind", kind, "--out", folder);

        Assert.Equal(3, exit); // model unusable (docs/cli-errors.md)
        Assert.Empty(stdout);
        Assert.Contains(Path.GetFileName(onnx), error);
        Assert.Contains("for a zero scan of 46×46×46", error);
        Assert.Contains(expected, error);
        Assert.False(File.Exists(Path.Combine(folder, "manifest.json")));
    }

    [Fact]
    public async Task Import_ShiftedOutputWithinRange_IsAccepted()
    {
        // p × 0.5 is still a probability: the check refuses what cannot be one, not what looks unusual.
        string onnx = WithExtraNode("Mul", 0.5f);
        string folder = _temp.Path("imported");

        var (exit, stdout, error) = await CliRunner.RunAsync("model", "import", onnx, "--out", folder);

        Assert.True(exit == 0, error);
        var manifest = ContractsJson.DeserializeManifest(stdout);
        Assert.Equal(("scan", "score"), (manifest.Input.Name, manifest.Output.Name));
        Assert.True(File.Exists(Path.Combine(folder, "manifest.json")));
    }
}
