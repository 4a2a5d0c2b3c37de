using CtScan.Onnx;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Tensors;
using CtScan.Tests;
using CtScan.Tests.Contracts;
using CtScan.Training;
using CtScan.Training.Onnx;
using CtScan.Training.Tests.Onnx;

namespace CtScan.Cli.Tests;

/// <summary>export → score → model import, end to end on a small (46×46×46, width 0.25) checkpoint.</summary>
public sealed class ModelCommandsTests : IDisposable
{
    private static readonly ModelOptions Small = new() { Input = new VolumeShape(46, 46, 46), WidthMultiplier = 0.25 };
    private readonly TempFolder _temp = new();
    private readonly CtScanNet _model = TrainedLookingModel.Create(Small, seed: 31);

    public void Dispose()
    {
        _model.Dispose();
        _temp.Dispose();
    }

    private async Task<string> ExportAsync(params string[] extra)
    {
        string checkpoint = _temp.Path("checkpoint");
        ModelCheckpoint.Save(_model, checkpoint);
        string folder = _temp.Path("model");
        var (exit, _, error) = await CliRunner.RunAsync(["export", checkpoint, "--out", folder, .. extra]);
        Assert.True(exit == 0, error);
        return folder;
    }

    private string Tensor(string name, VolumeShape shape, int seed)
    {
        var random = new Random(seed);
        var data = new float[shape.VoxelCount];
        for (int n = 0; n < data.Length; n++) data[n] = random.NextSingle();
        string path = _temp.Path(name);
        using var file = File.Create(path);
        NpyFile.Write(file, new Float32Tensor(data, shape));
        return path;
    }

    private static float[] ReadTensor(string path)
    {
        using var file = File.OpenRead(path);
        return NpyFile.Read(file).Data;
    }

    [Fact]
    public async Task Export_Checkpoint_WritesModelAndManifestWithDefaultVersion()
    {
        string folder = await ExportAsync("--threshold", "0.3");

        var manifest = ContractsJson.DeserializeManifest(File.ReadAllText(Path.Combine(folder, "manifest.json")));

        Assert.True(File.Exists(Path.Combine(folder, "model.onnx")));
        Assert.Equal(Sha256Hex.OfFile(Path.Combine(folder, "model.onnx")), manifest.Sha256);
        Assert.Matches(new Regex($"^\\d{{8}}-\\d{{4}}-{manifest.Sha256[..6]}$"), manifest.Version);
        Assert.Equal(0.3, manifest.Threshold);
        Assert.Equal([46, 46, 46], manifest.Input.Shape);
        Assert.Equal([46, 46, 46], manifest.Preprocessing.TargetShape);
        Assert.Equal(("scan", "probability", TensorLayout.Ncdhw), (manifest.Input.Name, manifest.Output.Name, manifest.Input.Layout));
    }

    [Fact]
    public async Task Score_Tensor_PrintsASchemaValidResultWithTorchSharpsProbability()
    {
        string folder = await ExportAsync("--version", "v-test");
        string tensor = Tensor("scan.npy", Small.Input, 1);

        var (exit, stdout, error) = await CliRunner.RunAsync("score", tensor, "--model", folder);

        Assert.True(exit == 0, error + stdout);
        Assert.Empty(ResultSchema.Errors(stdout));
        var result = ContractsJson.DeserializeResult(stdout);
        Assert.Equal(ScanStatus.Scored, result.Status);
        Assert.Equal("v-test", result.Model!.Version);
        Assert.Equal(Sha256Hex.OfFile(tensor), result.Input!.Sha256);
        Assert.Equal(TrainedLookingModel.Forward(_model, ReadTensor(tensor), 1)[0], result.ProbabilityAbnormal!.Value, 1e-5);
        Assert.Equal(ScanLabels.For(result.ProbabilityAbnormal.Value, 0.5), result.Label);
        Assert.Contains("inference", result.TimingsMs.Keys);
    }

    [Fact]
    public async Task Score_Nifti_PreprocessesWithTheManifestsTargetShape()
    {
        string folder = await ExportAsync();
        string scan = _temp.Path("phantom.nii.gz");
        ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = new VolumeShape(96, 80, 50), Seed = 2, Label = PhantomLabel.Abnormal });

        var (exit, stdout, error) = await CliRunner.RunAsync("score", scan, "--model", folder);

        Assert.True(exit == 0, error + stdout);
        Assert.Empty(ResultSchema.Errors(stdout));
        var result = ContractsJson.DeserializeResult(stdout);
        Assert.Equal([96, 80, 50], result.Input!.Shape);
        Assert.Equal([0.7, 0.7, 5.0], result.Input.SpacingMm!.Select(v => Math.Round(v, 3)));
        Assert.Equal(["inference", "preprocess", "read", "total"], result.TimingsMs.Keys.Order());
    }

    [Theory]
    [InlineData("wrong.npy", ScanErrorCodes.ShapeMismatch)]
    [InlineData("garbage.npy", ScanErrorCodes.UnreadableInput)]
    [InlineData("scan.txt", ScanErrorCodes.UnsupportedFormat)]
    [InlineData("garbage.nii", ScanErrorCodes.UnreadableInput)]
    public async Task Score_BadInput_PrintsARejectedResultAndExits2(string name, string code)
    {
        string folder = await ExportAsync();
        string path = name == "wrong.npy" ? Tensor(name, new VolumeShape(46, 46, 40), 3) : _temp.Path(name);
        if (name != "wrong.npy") File.WriteAllText(path, "this is not a scan");

        var (exit, stdout, _) = await CliRunner.RunAsync("score", path, "--model", folder);

        Assert.Equal(2, exit);
        Assert.Empty(ResultSchema.Errors(stdout));
        var result = ContractsJson.DeserializeResult(stdout);
        Assert.Equal(ScanStatus.Rejected, result.Status);
        Assert.Equal(code, result.Error!.Code);
        Assert.Null(result.ProbabilityAbnormal);
    }

    [Fact]
    public async Task Score_MrImage_PrintsARejectedResultSayingWhatItLooksLikeAndExits2()
    {
        var (exit, stdout, _) = await CliRunner.RunAsync("score", Fixtures.RealNifti("anatomical.nii"));

        Assert.Equal(2, exit);
        Assert.Empty(ResultSchema.Errors(stdout));
        var result = ContractsJson.DeserializeResult(stdout);
        Assert.Equal(ScanErrorCodes.NotACtVolume, result.Error!.Code);
        Assert.Contains("MR image", result.Error.Message);
        Assert.Equal("LAS", result.Input!.Orientation);
    }

    [Fact]
    public async Task Score_FewSlices_Exits0WithTheWarningInJsonAndOnStderr()
    {
        string scan = _temp.Path("short.nii.gz");
        ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 12), Seed = 3 });

        var (exit, stdout, error) = await CliRunner.RunAsync("score", scan);

        Assert.True(exit == 0, error);
        var result = ContractsJson.DeserializeResult(stdout);
        Assert.Equal(ScanStatus.Scored, result.Status);
        Assert.Equal(ScanWarningCodes.FewSlices, Assert.Single(result.Warnings!).Code);
        Assert.Contains("warning: few-slices: the scan has 12 slices", error);
        Assert.Equal("LPS", result.Input!.Orientation);
    }

    [Fact]
    public async Task Score_ModelOutputNotAProbability_PrintsAFailedResultAndExits1()
    {
        // fixture-broken46 returns 4·sqrt(mean − 0.5): NaN for this tensor's mean of 0.1.
        string tensor = _temp.Path("dark.npy");
        using (var file = File.Create(tensor))
            NpyFile.Write(file, new Float32Tensor([.. Enumerable.Repeat(0.1f, (int)Small.Input.VoxelCount)], Small.Input));

        var (exit, stdout, _) = await CliRunner.RunAsync("score", tensor, "--model", Fixtures.Path("models", "fixture-broken46"));

        Assert.Equal(1, exit);
        var result = ContractsJson.DeserializeResult(stdout);
        Assert.Equal(ScanStatus.Failed, result.Status);
        Assert.Equal(ScanErrorCodes.InvalidModelOutput, result.Error!.Code);
        Assert.Null(result.Label);
    }

    [Fact]
    public async Task Export_RunRecordedAnOrientation_WritesItIntoTheManifest()
    {
        // split.json beside the checkpoint is where `ctscan train` records the training scans' orientation.
        File.WriteAllText(_temp.Path("split.json"), """{ "training": [], "validation": [], "orientation": "LPS" }""");

        string folder = await ExportAsync();

        var manifest = ContractsJson.DeserializeManifest(File.ReadAllText(Path.Combine(folder, "manifest.json")));
        Assert.Equal("LPS", manifest.Preprocessing.Orientation);
    }

    [Fact]
    public async Task Score_ModelFolderWithoutManifest_Exits3SayingSo()
    {
        string tensor = Tensor("scan.npy", Small.Input, 4);
        Directory.CreateDirectory(_temp.Path("empty"));

        var (exit, stdout, error) = await CliRunner.RunAsync("score", tensor, "--model", _temp.Path("empty"));

        Assert.Equal(3, exit);
        Assert.Empty(stdout);
        Assert.Contains("has no manifest.json", error);
    }

    [Fact]
    public async Task Score_NoModelOption_UsesTheBundledDemoModel()
    {
        var manifest = ContractsJson.DeserializeManifest(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "demo-model", "manifest.json")));
        string scan = _temp.Path("abnormal.nii.gz");
        ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 32), Seed = 3, Label = PhantomLabel.Abnormal });

        var (exit, stdout, error) = await CliRunner.RunAsync("score", scan);

        Assert.True(exit == 0, error);
        var result = ContractsJson.DeserializeResult(stdout);
        Assert.Equal(ScanStatus.Scored, result.Status);
        Assert.Equal(manifest.Version, result.Model!.Version);
        Assert.Equal(manifest.Sha256, result.Model.Sha256);
        Assert.Contains("phantoms", manifest.Description);
        Assert.True(manifest.NotForClinicalUse);
    }

    [Fact]
    public async Task Score_ReadmeTourPhantoms_BundledDemoModelLabelsBothRight()
    {
        // README's five-minute tour: `phantoms --out out/scans --count 2 --seed 1` (512×512×64), then both are scored.
        var (made, _, madeError) = await CliRunner.RunAsync("phantoms", "--out", _temp.Path("scans"), "--count", "2", "--seed", "1");
        Assert.True(made == 0, madeError);

        foreach (var (file, label) in new[] { ("CT-0/phantom-00001.nii.gz", "normal"), ("CT-23/phantom-00002.nii.gz", "abnormal") })
        {
            var (exit, stdout, error) = await CliRunner.RunAsync("score", _temp.Path(Path.Combine("scans", file)));

            Assert.True(exit == 0, error);
            var result = ContractsJson.DeserializeResult(stdout);
            Assert.Equal((ScanStatus.Scored, label), (result.Status, result.Label));
        }
    }

    [Fact]
    public async Task Import_ChannelsLastModel_ScoresTheSameAsTheChannelsFirstExport()
    {
        string exported = await ExportAsync();
        string onnx = _temp.Path("keras-style.onnx");
        File.WriteAllBytes(onnx, CtScanOnnxExporter.Export(_model, new OnnxExportOptions { Layout = TensorLayout.Ndhwc, InputName = "input_1", OutputName = "dense_1" }));
        string imported = _temp.Path("imported");
        string tensor = Tensor("scan.npy", Small.Input, 6);

        var (exit, stdout, error) = await CliRunner.RunAsync("model", "import", onnx, "--layout", "NDHWC", "--threshold", "0.4", "--out", imported);
        Assert.True(exit == 0, error);
        var manifest = ContractsJson.DeserializeManifest(stdout);
        var first = ContractsJson.DeserializeResult((await CliRunner.RunAsync("score", tensor, "--model", exported)).Output);
        var last = ContractsJson.DeserializeResult((await CliRunner.RunAsync("score", tensor, "--model", imported)).Output);

        Assert.Equal(("input_1", "dense_1", TensorLayout.Ndhwc, 0.4), (manifest.Input.Name, manifest.Output.Name, manifest.Input.Layout, manifest.Threshold));
        Assert.Equal([46, 46, 46], manifest.Input.Shape);
        Assert.Equal(first.ProbabilityAbnormal!.Value, last.ProbabilityAbnormal!.Value, 1e-6);
        Assert.Equal(0.4, last.Threshold);
    }

    [Fact]
    public async Task Import_WrongLayout_IsRefusedShowingTheShape()
    {
        string onnx = _temp.Path("channels-last.onnx");
        File.WriteAllBytes(onnx, CtScanOnnxExporter.Export(_model, new OnnxExportOptions { Layout = TensorLayout.Ndhwc }));

        var (exit, _, error) = await CliRunner.RunAsync("model", "import", onnx, "--layout", "NCDHW", "--out", _temp.Path("m"));

        Assert.Equal(3, exit); // model unusable (docs/cli-errors.md)
        Assert.Contains("[?, 46, 46, 46, 1]", error);
        Assert.Contains("--layout", error);
    }

    [Fact]
    public async Task Import_TwoOutputs_IsRefusedNamingThem()
    {
        var model = CtScanOnnxExporter.Build(CtScanNetWeights.From(_model));
        var hidden = new OnnxValueInfo("dense.relu.out", [OnnxDimension.Symbol("N"), Small.DenseUnits]);
        model = model with { Graph = model.Graph with { Outputs = [.. model.Graph.Outputs, hidden] } };
        string onnx = _temp.Path("two-outputs.onnx");
        OnnxWriter.Write(model, onnx);

        var (exit, _, error) = await CliRunner.RunAsync("model", "import", onnx, "--out", _temp.Path("m"));

        Assert.Equal(3, exit); // model unusable (docs/cli-errors.md)
        Assert.Contains("2 outputs [probability, dense.relu.out]", error);
    }

    [Fact]
    public async Task BenchModel_SmallModel_ReportsBothEnginesAndGflops()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("bench", "model", "--runs", "1", "--input", "46", "46", "46", "--width", "0.25");

        Assert.True(exit == 0, error);
        Assert.Matches(new Regex(@"ONNX Runtime \(folded\)\s+\d+\.\d"), stdout);
        Assert.Matches(new Regex(@"TorchSharp eval\s+\d+\.\d"), stdout);
        Assert.Matches(new Regex(@"ONNX Runtime int8 \(QDQ\)\s+\d+\.\d"), stdout);
        Assert.Matches(new Regex(@"int8 / float32 \(ONNX Runtime\) = \d+\.\d\d"), stdout);
        Assert.Contains("GFLOP per scan", stdout);
    }
}
