using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Preprocessing;
using CtScan.Quantization;
using CtScan.Scoring;
using CtScan.Tensors;
using Xunit.Abstractions;

namespace CtScan.Tests.Quantization;

/// <summary>
/// Issue 13's accuracy target on the bundled demo model (models/demo): quantized with <c>ctscan model quantize</c>'s
/// code, calibrated on 20 phantoms, it scores 200 other phantoms (100 normal, 100 abnormal) within |Δp| ≤ 0.02 of the
/// float32 model and gives the same label for at least 99 %; the quantized folder passes the checks every model passes
/// (the probe, the importer) and its manifest says what it is.
/// </summary>
public sealed class DemoModelQuantizationTests(QuantizedDemoModel demo, ITestOutputHelper output) : IClassFixture<QuantizedDemoModel>
{
    private const int Scans = 200;

    [Fact]
    public void Quantize_DemoModel_TwoHundredPhantomsWithinTwoHundredthsAndSameLabel()
    {
        using var fp32 = OnnxScorer.Open(QuantizedDemoModel.Source, new OnnxScorerOptions { IntraOpThreads = 2 });
        using var int8 = OnnxScorer.Open(demo.Folder, new OnnxScorerOptions { IntraOpThreads = 2 });

        double worst = 0, sum = 0;
        int sameLabel = 0, abnormal = 0;
        for (int seed = 1; seed <= Scans; seed++)
        {
            var scan = demo.Phantom(seed);
            var a = fp32.Score(scan);
            var b = int8.Score(scan);
            double difference = Math.Abs(a.ProbabilityAbnormal - b.ProbabilityAbnormal);
            worst = Math.Max(worst, difference);
            sum += difference;
            if (a.Label == b.Label) sameLabel++;
            if (a.Label == ScanLabels.Abnormal) abnormal++;
        }
        output.WriteLine($"int8 [{string.Join(", ", demo.Report.QuantizedConvs)}], float [{string.Join(", ", demo.Report.KeptFloat)}], calibration max |Δlogit| {demo.Report.MaxLogitError:F3}");
        output.WriteLine($"{Scans} phantoms: max |Δp| {worst:F5}, mean {sum / Scans:F5}, same label {sameLabel}/{Scans}, float32 abnormal {abnormal}");
        // Both labels occur, or label agreement would prove little.
        Assert.InRange(abnormal, Scans / 4, 3 * Scans / 4);
        Assert.True(worst <= 0.02, $"max |Δp| {worst:F5} > 0.02");
        Assert.True(sameLabel >= 0.99 * Scans, $"same label for {sameLabel}/{Scans} < 99 %");
    }

    [Fact]
    public void Quantize_DemoModel_FolderPassesProbeImporterAndRecordsPrecision()
    {
        var source = ModelFolder.ReadManifest(QuantizedDemoModel.Source);
        var manifest = ModelFolder.ReadManifest(demo.Folder);
        Assert.Equal(ModelManifest.Int8Precision, manifest.Precision);
        Assert.Equal(source.Version + "-int8", manifest.Version);
        Assert.Equal(source.Version, manifest.Quantization!.SourceVersion);
        Assert.Equal(source.Sha256, manifest.Quantization.SourceSha256);
        Assert.Equal(QuantizedDemoModel.CalibrationScans, manifest.Quantization.CalibrationTensors);
        Assert.Equal(demo.Report.QuantizedConvs, manifest.Quantization.Int8Layers);
        Assert.Contains("block2.conv", demo.Report.QuantizedConvs);
        // The fingerprint: SHA-256 over the sorted tensor hashes, one per line.
        var hashes = demo.Calibration.Select(f => Sha256Hex.Of(File.ReadAllBytes(f))).Order(StringComparer.Ordinal);
        Assert.Equal(Sha256Hex.Of(System.Text.Encoding.UTF8.GetBytes(string.Concat(hashes.Select(h => h + "\n")))), manifest.Quantization.CalibrationFingerprint);
        Assert.Equal((source.Input.Name, source.Input.Layout), (manifest.Input.Name, manifest.Input.Layout));
        Assert.Equal(source.Input.Shape, manifest.Input.Shape);
        Assert.Equal(source.Output, manifest.Output);
        Assert.True(new FileInfo(Path.Combine(demo.Folder, "model.onnx")).Length < new FileInfo(Path.Combine(QuantizedDemoModel.Source, "model.onnx")).Length,
            "int8 weights should make the model file smaller");

        ModelProbe.Check(Path.Combine(demo.Folder, manifest.ModelFile), manifest);
        var imported = ModelImporter.Import(Path.Combine(demo.Folder, "model.onnx"), demo.Temp("imported"),
            new ModelImportOptions { Layout = TensorLayout.Ncdhw, OutputKind = OutputKind.Sigmoid, Version = "imported-int8" });
        Assert.Equal(manifest.Sha256, imported.Sha256);
        Assert.Equal(source.InputVolume, imported.InputVolume);
    }

    [Fact]
    public void Quantize_AlreadyQuantizedFolder_RefusesNamingIt()
    {
        var error = Assert.Throws<ModelLoadException>(() => ModelQuantizer.Quantize(demo.Folder, demo.Temp("again"), demo.Calibration));
        Assert.Contains("already int8", error.Message);
        Assert.Contains(demo.Folder, error.Message);
    }

    [Fact]
    public void Quantize_CalibrationTensorOfAnotherShape_NamesTheFileAndBothShapes()
    {
        string path = demo.Temp("wrong.npy");
        using (var file = File.Create(path)) NpyFile.Write(file, new float[8 * 8 * 8], [8, 8, 8]);
        var error = Assert.Throws<InvalidDataException>(() => ModelQuantizer.Quantize(QuantizedDemoModel.Source, demo.Temp("out"), [path]));
        Assert.Contains(path, error.Message);
        Assert.Contains("[8, 8, 8]", error.Message);
        Assert.Contains("64×64×46", error.Message);
        Assert.False(File.Exists(Path.Combine(demo.Temp("out"), "manifest.json")));
    }
}

/// <summary>The demo model quantized once for the class (calibration: 20 phantoms, seeds 10000–10019, none of the scored ones).</summary>
public sealed class QuantizedDemoModel : IDisposable
{
    public const int CalibrationScans = 20;
    private static readonly VolumeShape PhantomShape = new(96, 96, 64);
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-quantize-test-");
    private readonly ScanPreprocessor _preprocessor;

    public QuantizedDemoModel()
    {
        var source = ModelFolder.ReadManifest(Source);
        _preprocessor = new ScanPreprocessor(PreprocessingSpecs.ToOptions(source.Preprocessing));
        var volume = source.InputVolume;
        var calibration = new List<string>();
        for (int n = 0; n < CalibrationScans; n++)
        {
            string path = Temp($"calibration-{n:D2}.npy");
            using (var file = File.Create(path)) NpyFile.Write(file, Phantom(10_000 + n), [volume.Width, volume.Height, volume.Depth]);
            calibration.Add(path);
        }
        Calibration = calibration;
        Folder = Temp("int8");
        Report = ModelQuantizer.Quantize(Source, Folder, calibration, new ModelQuantizerOptions { IntraOpThreads = 2 });
    }

    public static string Source => Fixtures.Path("..", "..", "models", "demo");

    public string Folder { get; }

    public QuantizationReport Report { get; }

    public IReadOnlyList<string> Calibration { get; }

    public string Temp(string name) => Path.Combine(_temp.FullName, name);

    /// <summary>A chest phantom (odd seeds abnormal) through the demo model's preprocessing.</summary>
    public float[] Phantom(int seed) =>
        _preprocessor.Process(new ChestPhantom(new ChestPhantomOptions
        {
            Shape = PhantomShape, Seed = seed, Label = seed % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal,
        })).Tensor.Data;

    public void Dispose() => _temp.Delete(recursive: true);
}
