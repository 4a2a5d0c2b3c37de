using CtScan.Contracts;
using CtScan.Tensors;
using CtScan.Training;
using CtScan.Training.Tests.Onnx;

namespace CtScan.Cli.Tests;

/// <summary><c>ctscan model quantize</c> end to end: export → quantize → score with the int8 folder.</summary>
public sealed class ModelQuantizeCommandTests : IDisposable
{
    private static readonly VolumeShape Shape = new(46, 46, 46);
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private async Task<string> ExportAsync()
    {
        using var model = TrainedLookingModel.Create(new ModelOptions { Input = Shape, WidthMultiplier = 0.25 }, seed: 31);
        string checkpoint = _temp.Path("checkpoint");
        ModelCheckpoint.Save(model, checkpoint);
        string folder = _temp.Path("fp32");
        var (exit, _, error) = await CliRunner.RunAsync("export", checkpoint, "--out", folder, "--version", "small-1");
        Assert.True(exit == 0, error);
        return folder;
    }

    private string Tensors(string folder, int count)
    {
        Directory.CreateDirectory(_temp.Path(folder));
        var random = new Random(7);
        for (int t = 0; t < count; t++)
        {
            var data = new float[Shape.VoxelCount];
            for (int n = 0; n < data.Length; n++) data[n] = random.NextSingle();
            using var file = File.Create(Path.Combine(_temp.Path(folder), $"t{t}.npy"));
            NpyFile.Write(file, new Float32Tensor(data, Shape));
        }
        return _temp.Path(folder);
    }

    [Fact]
    public async Task Quantize_ExportedModel_WritesInt8FolderThatScores()
    {
        string fp32 = await ExportAsync();
        string tensors = Tensors("calibration", 3);

        var (exit, stdout, error) = await CliRunner.RunAsync("model", "quantize", fp32, "--out", _temp.Path("int8"), "--calibration", tensors);

        Assert.True(exit == 0, error);
        Assert.Contains("quantized small-1 → small-1-int8: int8 [", stdout);
        var manifest = ContractsJson.DeserializeManifest(File.ReadAllText(_temp.Path("int8/manifest.json")));
        Assert.Equal("int8", manifest.Precision);
        Assert.Equal(3, manifest.Quantization!.CalibrationTensors);
        Assert.NotEmpty(manifest.Quantization.Int8Layers!);

        string scan = Path.Combine(tensors, "t0.npy");
        var a = ContractsJson.DeserializeResult((await CliRunner.RunAsync("score", scan, "--model", fp32)).Output);
        var b = ContractsJson.DeserializeResult((await CliRunner.RunAsync("score", scan, "--model", _temp.Path("int8"))).Output);
        Assert.Equal("small-1-int8", b.Model!.Version);
        Assert.InRange(Math.Abs(a.ProbabilityAbnormal!.Value - b.ProbabilityAbnormal!.Value), 0, 0.05);
    }

    [Fact]
    public async Task Quantize_MissingCalibrationPath_FailsNamingIt()
    {
        string fp32 = await ExportAsync();

        var (exit, _, error) = await CliRunner.RunAsync("model", "quantize", fp32, "--out", _temp.Path("int8"), "--calibration", _temp.Path("nowhere"));

        Assert.NotEqual(0, exit);
        Assert.Contains(_temp.Path("nowhere"), error);
        Assert.False(File.Exists(_temp.Path("int8/manifest.json")));
    }
}
