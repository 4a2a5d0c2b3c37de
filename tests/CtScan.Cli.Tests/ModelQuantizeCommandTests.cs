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

    private string Tensors(string folder, int count) => Tensors(folder, count, Shape);

    private string Tensors(string folder, int count, VolumeShape shape)
    {
        Directory.CreateDirectory(_temp.Path(folder));
        var random = new Random(7);
        for (int t = 0; t < count; t++)
        {
            var data = new float[shape.VoxelCount];
            for (int n = 0; n < data.Length; n++) data[n] = random.NextSingle();
            using var file = File.Create(Path.Combine(_temp.Path(folder), $"t{t}.npy"));
            NpyFile.Write(file, new Float32Tensor(data, shape));
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

    /// <summary>The bundled demo model (64×64×46) and labelled phantoms for it: CT-0/ and CT-23/ under "labelled".</summary>
    private async Task<(string Model, string Labelled)> DemoModelAndPhantomsAsync()
    {
        string model = _temp.Path("demo");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "demo-model")))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        string labelled = _temp.Path("labelled");
        var (exit, _, error) = await CliRunner.RunAsync("phantoms", "--out", labelled, "--count", "8", "--seed", "40", "--shape", "64", "64", "46");
        Assert.True(exit == 0, error);
        return (model, labelled);
    }

    [Fact]
    public async Task Quantize_WithValidation_ScoresBothModels_KeepsACopyWhoseAucIsNotLower()
    {
        var (model, labelled) = await DemoModelAndPhantomsAsync();
        Directory.CreateDirectory(_temp.Path("calibration"));
        foreach (var (scan, n) in Directory.EnumerateFiles(labelled, "*.nii.gz", SearchOption.AllDirectories).Order().Select((s, n) => (s, n)))
            Assert.Equal(0, (await CliRunner.RunAsync("preprocess", scan, _temp.Path($"calibration/t{n}.npy"), "--target", "64", "64", "46")).ExitCode);

        var (exit, stdout, error) = await CliRunner.RunAsync("model", "quantize", model, "--out", _temp.Path("int8"), "--calibration", _temp.Path("calibration"),
            "--validation", labelled);

        Assert.True(exit == 0, error);
        var figures = System.Text.RegularExpressions.Regex.Match(stdout, @"validation on 8 labelled scans .*: AUC float32 ([0-9.]+), int8 ([0-9.]+)");
        Assert.True(figures.Success, stdout);
        Assert.True(double.Parse(figures.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)
                    >= double.Parse(figures.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), stdout);
        Assert.True(File.Exists(_temp.Path("int8/manifest.json")));
    }

    [Fact]
    public async Task Quantize_WithValidation_ACopyThatRanksWorse_IsRemovedAndTheCommandFails()
    {
        var (model, labelled) = await DemoModelAndPhantomsAsync();
        // Ranges from the median of noise: every layer quantized, its activations clipped far below what scans reach.
        string noise = Tensors("noise", 2, new VolumeShape(64, 64, 46));

        var (exit, stdout, error) = await CliRunner.RunAsync("model", "quantize", model, "--out", _temp.Path("int8"), "--calibration", noise,
            "--percentile", "50.01", "--max-logit-error", "0", "--validation", labelled);

        Assert.NotEqual(0, exit);
        Assert.Contains("the int8 copy ranks worse than", error);
        Assert.Matches(@"lower AUC|different label for [1-8] of 8 scans", error);
        Assert.Contains(labelled, error);
        Assert.False(File.Exists(_temp.Path("int8/manifest.json")), stdout);
        Assert.False(File.Exists(_temp.Path("int8/model.onnx")));
    }
}
