using System.Security.Cryptography;
using System.Text;
using CtScan.Contracts;
using CtScan.Training;
using CtScan.Training.Onnx;
using CtScan.Training.Tests.Onnx;

namespace CtScan.Cli.Tests;

/// <summary><c>ctscan export</c> and <see cref="ModelExport.FromCheckpoint"/> fill trainingMetrics and dataFingerprint from the run's files.</summary>
public sealed class ExportMetricsTests : IDisposable
{
    private static readonly ModelOptions Small = new() { Input = new VolumeShape(46, 46, 46), WidthMultiplier = 0.25 };
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private const string Sha0 = "0000000000000000000000000000000000000000000000000000000000000000";
    private const string ShaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string ShaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    /// <summary>OUT/checkpoint with OUT/metrics.json (sensitivity null: undefined) and OUT/split.json.</summary>
    private string RunFolder(bool withHashes = true)
    {
        string run = _temp.Path("run");
        using (var model = TrainedLookingModel.Create(Small, seed: 5))
            ModelCheckpoint.Save(model, Path.Combine(run, "checkpoint"));
        File.WriteAllText(Path.Combine(run, "metrics.json"), """
            { "stopReason": "Completed", "epochsRun": 4, "steps": 8, "trainingScans": 4, "validationScans": 2, "bestEpoch": 3,
              "validation": { "loss": 0.4125, "acc": 0.75, "auc": 0.8125, "sensitivity": null, "specificity": 0.5, "threshold": 0.5,
                              "confusionMatrix": { "truePositives": 1, "falsePositives": 1, "trueNegatives": 1, "falseNegatives": 0 } } }
            """);
        string Hash(string sha) => withHashes ? $", \"sha256\": \"{sha}\"" : "";
        File.WriteAllText(Path.Combine(run, "split.json"), $$"""
            { "training": [ { "scan": "/d/CT-23/b.nii", "label": 1{{Hash(ShaB)}} }, { "scan": "/d/CT-0/a.nii", "label": 0{{Hash(ShaA)}} } ],
              "validation": [ { "scan": "/d/CT-0/z.nii", "label": 0{{Hash(Sha0)}} } ] }
            """);
        return run;
    }

    private static string ExpectedFingerprint() =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Sha0},0\n{ShaA},0\n{ShaB},1\n")));

    [Fact]
    public async Task Export_RunWithMetricsAndSplit_FillsTrainingMetricsAndFingerprint()
    {
        string run = RunFolder();

        var (exit, output, error) = await CliRunner.RunAsync("export", Path.Combine(run, "checkpoint"), "--out", _temp.Path("model"));

        Assert.True(exit == 0, error);
        var manifest = ContractsJson.DeserializeManifest(File.ReadAllText(_temp.Path("model/manifest.json")));
        Assert.Equal(new Dictionary<string, double>
        {
            ["valAuc"] = 0.8125, ["valAccuracy"] = 0.75, ["valLoss"] = 0.4125, ["valSpecificity"] = 0.5, ["bestEpoch"] = 3,
        }, manifest.TrainingMetrics!.OrderBy(p => p.Key).ToDictionary());
        Assert.Equal(ExpectedFingerprint(), manifest.DataFingerprint);
        Assert.Contains("\"valAuc\": 0.8125", output);
    }

    [Fact]
    public void FromCheckpoint_SplitWithoutHashes_HasMetricsButNoFingerprint()
    {
        string run = RunFolder(withHashes: false);

        var manifest = ModelExport.FromCheckpoint(Path.Combine(run, "checkpoint"), _temp.Path("model"), new ModelExportOptions { Version = "v1" });

        Assert.Equal(0.8125, manifest.TrainingMetrics!["valAuc"]);
        Assert.Null(manifest.DataFingerprint);
        Assert.Equal("v1", manifest.Version);
    }

    [Fact]
    public async Task Export_CheckpointAlone_HasNeitherMetricsNorFingerprint()
    {
        string checkpoint = _temp.Path("lonely/checkpoint");
        using (var model = TrainedLookingModel.Create(Small, seed: 5)) ModelCheckpoint.Save(model, checkpoint);

        var (exit, _, error) = await CliRunner.RunAsync("export", checkpoint, "--out", _temp.Path("model"));

        Assert.True(exit == 0, error);
        var manifest = ContractsJson.DeserializeManifest(File.ReadAllText(_temp.Path("model/manifest.json")));
        Assert.Null(manifest.TrainingMetrics);
        Assert.Null(manifest.DataFingerprint);
    }

    [Fact]
    public void TrainingRun_SplitJson_RecordsEachScansSha256()
    {
        var split = new DataSplit([new LabeledScan("/x/a.nii", 0)], [new LabeledScan("/x/b.nii", 1)]);

        var json = TrainingReport.Split(split, new Dictionary<string, string> { ["/x/a.nii"] = ShaA, ["/x/b.nii"] = ShaB });

        Assert.Equal(ShaA, (string?)json["training"]![0]!["sha256"]);
        Assert.Equal(ShaB, (string?)json["validation"]![0]!["sha256"]);
    }
}
