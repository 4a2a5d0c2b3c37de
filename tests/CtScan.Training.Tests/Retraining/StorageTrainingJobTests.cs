using System.Diagnostics;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using CtScan.Pipeline;
using CtScan.Retraining;
using static CtScan.Training.Tests.Retraining.RetrainingTestData;

namespace CtScan.Training.Tests.Retraining;

/// <summary>
/// The retraining job (<see cref="StorageTrainingJob"/>) against a real Azurite, through its typed options and report:
/// first model promoted, a worse one kept out by the gate, <c>Force</c> promotes it, and the pipeline then serves the
/// newly published version. It trains, so it runs alone (<see cref="Training.TorchGlobalState"/>): a Grad-CAM or
/// training test running beside it drew from torch's global generator and its first model's AUC fell to 0.75.
/// </summary>
[Collection(Training.TorchGlobalState.Name)]
public sealed class StorageTrainingJobTests(Xunit.Abstractions.ITestOutputHelper log)
{
    [Fact]
    public async Task RunAsync_PromotesFirst_GateKeepsWorse_ForcePromotes_PipelineServesIt()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        using var temp = new TempFolder();
        string connection = azurite.ConnectionString;
        var service = new BlobServiceClient(connection);
        var models = service.GetBlobContainerClient("models");
        await UploadPhantomsAsync(service.GetBlobContainerClient("training"), temp.Directory.FullName, perClass: 12, Folders);
        string work = temp.Path("work");

        // 1. The first model: trained, evaluated, published and current (no model was current).
        var watch = Stopwatch.StartNew();
        var firstLog = new StringWriter();
        var first = await Job(connection, work, SmallTraining(epochs: 12), firstLog).RunAsync();
        log.WriteLine(firstLog.ToString());
        var firstSeconds = watch.Elapsed.TotalSeconds;
        Assert.Contains("training data (folders): 24 scans (12 normal, 12 abnormal); 24 downloaded, 0 already here, 0 removed", firstLog.ToString());
        var firstReport = first.Report;
        Assert.Equal(firstReport.ToJson(), (await StoredReportAsync(models, first)).ToJson());   // the stored report is the returned one
        Assert.Equal(RetrainingDecision.Promoted, firstReport.Decision);
        Assert.Equal("no model was current", firstReport.Reason);
        Assert.Null(firstReport.CurrentBefore);
        string firstVersion = firstReport.Candidate.Version;
        Assert.Equal(firstVersion, firstReport.CurrentAfter);
        var current = (await CurrentAsync(models))!;
        Assert.Equal(firstVersion, current.Version);
        Assert.Equal(firstReport.Candidate.Sha256, current.Sha256);
        double firstAuc = firstReport.Candidate.Metrics!.Auc!.Value;
        Assert.True(firstAuc >= 0.8, $"the first model should separate phantoms; val AUC {firstAuc}\n{firstLog}");
        Assert.Equal(8, firstReport.Candidate.Metrics.N);   // 30 % of each class of 12 → 4 + 4
        Assert.Equal(first.Candidate.Auc, firstAuc);
        var firstManifest = await ManifestAsync(models, firstVersion);
        Assert.Equal(firstAuc, firstManifest.TrainingMetrics!["valAuc"]);
        Assert.Equal(firstReport.Candidate.Metrics.Accuracy, firstManifest.TrainingMetrics["valAccuracy"]);
        Assert.Equal(firstReport.Data.Fingerprint, firstManifest.DataFingerprint);
        Assert.Matches("^[0-9a-f]{64}$", firstManifest.DataFingerprint);
        Assert.Null(firstReport.Current);
        Assert.Equal((24, 12, 12, 16, 8), (firstReport.Data.Scans, firstReport.Data.Normal, firstReport.Data.Abnormal, firstReport.Data.TrainingScans, firstReport.Data.ValidationScans));
        Assert.Equal(["download", "evaluation", "export", "publish", "tensorSeeding", "total", "training"], firstReport.TimingsSeconds.Keys);
        foreach (string file in new[] { "history.json", "metrics.json", "split.json", "curves.png", "report.json" })
            Assert.True((await models.GetBlobClient(first.ReportBlobPrefix + file).ExistsAsync()).Value, $"models/{first.ReportBlobPrefix}{file} missing");
        // The version carries its TorchSharp checkpoint, so the pipeline's explain step can run Grad-CAM on it.
        foreach (string file in CtScan.Scoring.ModelFolder.CheckpointFiles)
            Assert.True((await models.GetBlobClient($"{firstVersion}/checkpoint/{file}").ExistsAsync()).Value, $"models/{firstVersion}/checkpoint/{file} missing");
        var split = JsonNode.Parse((await models.GetBlobClient(first.ReportBlobPrefix + "split.json").DownloadContentAsync()).Value.Content.ToString())!;
        Assert.All(split["validation"]!.AsArray(), e => Assert.Matches(@"^CT-(0|23)/(normal|abnormal)-\d\d\.nii$", (string)e!["scan"]!));
        Assert.Contains(firstVersion, (await new ModelRegistryClient(models).ListAsync()).Select(m => m.Version));
        Assert.DoesNotContain("runs", (await new ModelRegistryClient(models).ListAsync()).Select(m => m.Version));

        // 2. A deliberately worse model (one epoch at a negligible learning rate: the initial weights), on the same data and split.
        var pointerEtag = (await models.GetBlobClient("current.json").GetPropertiesAsync()).Value.ETag;
        var worseLog = new StringWriter();
        var worse = (await Job(connection, work, SmallTraining(epochs: 1, learningRate: 1e-9), worseLog).RunAsync()).Report;
        log.WriteLine(worseLog.ToString());
        Assert.Contains("24 scans (12 normal, 12 abnormal); 0 downloaded, 24 already here, 0 removed", worseLog.ToString());
        double worseAuc = worse.Candidate.Metrics!.Auc!.Value;
        // The current model scored again on the same validation scans gives exactly the AUC it was promoted with.
        Assert.Equal(firstVersion, worse.Current!.Version);
        Assert.Equal(firstAuc, worse.Current.Metrics!.Auc);
        Assert.True(worseAuc < firstAuc, $"precondition: the untrained candidate ({worseAuc}) must score below the current model ({firstAuc})");
        Assert.Equal(RetrainingDecision.KeptCurrent, worse.Decision);
        Assert.StartsWith($"kept {firstVersion}: valAuc", worse.Reason);
        Assert.Contains("both scored on the same 8 validation scans", worse.Reason);
        Assert.Equal((firstVersion, firstVersion), (worse.CurrentBefore, worse.CurrentAfter));
        Assert.Contains("decision: kept-current", worseLog.ToString());
        Assert.Equal(pointerEtag, (await models.GetBlobClient("current.json").GetPropertiesAsync()).Value.ETag);
        Assert.Equal(worseAuc, (await ManifestAsync(models, worse.Candidate.Version)).TrainingMetrics!["valAuc"]); // uploaded, not current

        // 3. Force promotes a model the gate refuses.
        var forced = (await Job(connection, work, SmallTraining(epochs: 1, learningRate: 1e-9), TextWriter.Null, force: true).RunAsync()).Report;
        Assert.Equal(RetrainingDecision.Promoted, forced.Decision);
        Assert.StartsWith("forced: valAuc", forced.Reason);
        Assert.True(forced.Gate.Force);
        current = (await CurrentAsync(models))!;
        Assert.Equal(forced.Candidate.Version, current.Version);
        Assert.Equal(firstVersion, current.Previous[0].Version);

        // 4. The pipeline serves the version just published: ingest a phantom, score it, read the result.
        using var services = new PipelineServices(PipelineOptions.ForConnectionString(connection) with { ModelCacheDirectory = temp.Path("model-cache") });
        await services.Storage.EnsureCreatedAsync();
        string phantom = temp.Path("served.nii");
        ChestPhantomFile.Write(phantom, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 48), Seed = 999, Label = PhantomLabel.Abnormal });
        var ingest = await services.Ingestor.IngestAsync("served/scan.nii", File.OpenRead(phantom));
        Assert.True(ingest.Queued, ingest.Error?.Message);
        string message = (await services.Clients.ScoreRequests.ReceiveMessageAsync()).Value.Body.ToString();
        var outcome = await services.Scorer.HandleAsync(message);
        Assert.Equal(ScanStatus.Scored, outcome.Result!.Status);
        Assert.Equal(new ModelReference(forced.Candidate.Version, forced.Candidate.Sha256!), outcome.Result.Model);
        // A guard against a run gone pathologically slow, not a benchmark: ~80 s on an idle 2-core machine, 127 s seen under load.
        Assert.True(firstSeconds < 240, $"the first run took {firstSeconds:0} s");
    }

    [Fact]
    public void Report_RoundTripsThroughJson_WithCamelCaseNamesAndNullForUndefinedMetrics()
    {
        var report = new RetrainingReport
        {
            RunId = "20261129-120000-abcdef",
            StartedAt = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero),
            FinishedAt = new DateTimeOffset(2026, 11, 29, 12, 5, 0, TimeSpan.Zero),
            Decision = RetrainingDecision.UploadedOnly,
            Reason = "promotion not asked for",
            Gate = new GateReport(StorageTrainingJob.GateRule, "valAuc", Force: false, Promote: false),
            CurrentBefore = "v1",
            CurrentAfter = "v1",
            Candidate = ModelReport.Of(new ModelEvaluation("v2", new string('a', 64), 8, 0.75, 0.5, 0.69, double.NaN, 1.0, 0.5, [128, 128, 64]), uploaded: true),
            Current = new ModelReport { Version = "v1", Error = "model.onnx is damaged" },
            Data = new DataReport("training", "folders", 24, 12, 12, 16, 8, new string('f', 64), 24, 0),
            Tensors = new TensorReport("seed", 3, 0, 21, 21, 3, null, null),
            Training = new TrainingSettingsReport("cpu", 4, 3, "Completed", 16, 1, [128, 128, 64], 1e-4, 2, 1337),
            TimingsSeconds = new Dictionary<string, double> { ["total"] = 300 },
        };

        string json = report.ToJson();
        var node = JsonNode.Parse(json)!;

        Assert.Equal("uploaded-only", (string?)node["decision"]);
        Assert.Null(node["candidate"]!["metrics"]!["sensitivity"]);   // NaN: undefined, written as null
        Assert.Equal(0.75, (double)node["candidate"]!["metrics"]!["auc"]!);
        Assert.True((bool)node["candidate"]!["uploaded"]!);
        Assert.False(node["current"]!.AsObject().ContainsKey("uploaded"));
        Assert.Equal("model.onnx is damaged", (string?)node["current"]!["error"]);
        Assert.Equal(1, (int)node["schemaVersion"]!);
        var back = RetrainingReport.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal((report.Decision, report.StartedAt, 300.0), (back.Decision, back.StartedAt, back.TimingsSeconds["total"]));
        Assert.Equal([128, 128, 64], back.Candidate.InputShape!);
    }
}
