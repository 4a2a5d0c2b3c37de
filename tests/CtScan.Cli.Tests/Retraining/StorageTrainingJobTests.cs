using System.Diagnostics;
using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using CtScan.Pipeline;
using static CtScan.Cli.Tests.Retraining.RetrainingTestData;

namespace CtScan.Cli.Tests.Retraining;

/// <summary>
/// <c>ctscan train --from-storage</c> against a real Azurite: first model promoted, a worse one kept out by the gate,
/// <c>--force</c> promotes it, and the pipeline then serves the newly published version.
/// </summary>
public sealed class StorageTrainingJobTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private void Log(string run, string output)
    {
        foreach (string line in output.Split('\n').Where(l => l.StartsWith("validation (") || l.StartsWith("decision:") || l.StartsWith("tensors from storage")))
            log.WriteLine($"{run}: {line}");
    }

    [Fact]
    public async Task FromStorage_PromotesFirst_GateKeepsWorse_ForcePromotes_PipelineServesIt()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        using var temp = new TempFolder();
        string connection = azurite.ConnectionString;
        var service = new BlobServiceClient(connection);
        var models = service.GetBlobContainerClient("models");
        await UploadPhantomsAsync(service.GetBlobContainerClient("training"), temp, perClass: 12, Folders);
        string work = temp.Path("work");
        string[] Train(string learningRate, params string[] extra) =>
            ["train", "--from-storage", "--connection", connection, "--out", work, "--learning-rate", learningRate, .. SmallModel, .. extra];

        // 1. The first model: trained, evaluated, published and current (no model was current).
        var watch = Stopwatch.StartNew();
        var first = await CliRunner.RunAsync(Train(LearningRate, "--epochs", "12"));
        Log("first", first.Output);
        Assert.True(first.ExitCode == 0, first.Error + first.Output);
        Assert.Contains("training data (folders): 24 scans (12 normal, 12 abnormal); 24 downloaded, 0 already here, 0 removed", first.Output);
        var (firstPrefix, firstReport) = await ReadReportAsync(models, first.Output);
        Assert.Equal("promoted", (string?)firstReport["decision"]);
        Assert.Equal("no model was current", (string?)firstReport["reason"]);
        string firstVersion = (string)firstReport["candidate"]!["version"]!;
        var current = (await CurrentAsync(models))!;
        Assert.Equal(firstVersion, current.Version);
        Assert.Equal((string)firstReport["candidate"]!["sha256"]!, current.Sha256);
        double firstAuc = (double)firstReport["candidate"]!["metrics"]!["auc"]!;
        Assert.True(firstAuc >= 0.8, $"the first model should separate phantoms; val AUC {firstAuc}\n{first.Output}");
        Assert.Equal(8, (int)firstReport["candidate"]!["metrics"]!["n"]!);   // 30 % of each class of 12 → 4 + 4
        var firstManifest = await ManifestAsync(models, firstVersion);
        Assert.Equal(firstAuc, firstManifest.TrainingMetrics!["valAuc"]);
        Assert.Equal((double)firstReport["candidate"]!["metrics"]!["accuracy"]!, firstManifest.TrainingMetrics["valAccuracy"]);
        Assert.Equal((string?)firstReport["data"]!["fingerprint"], firstManifest.DataFingerprint);
        Assert.Matches("^[0-9a-f]{64}$", firstManifest.DataFingerprint);
        Assert.Null(firstReport["current"]);
        foreach (string file in new[] { "history.json", "metrics.json", "split.json", "curves.png", "report.json" })
            Assert.True((await models.GetBlobClient(firstPrefix + file).ExistsAsync()).Value, $"models/{firstPrefix}{file} missing");
        var split = System.Text.Json.Nodes.JsonNode.Parse((await models.GetBlobClient(firstPrefix + "split.json").DownloadContentAsync()).Value.Content.ToString())!;
        Assert.All(split["validation"]!.AsArray(), e => Assert.Matches(@"^CT-(0|23)/(normal|abnormal)-\d\d\.nii$", (string)e!["scan"]!));
        Assert.Contains(firstVersion, (await new ModelRegistryClient(models).ListAsync()).Select(m => m.Version));
        Assert.DoesNotContain("runs", (await new ModelRegistryClient(models).ListAsync()).Select(m => m.Version));
        var firstSeconds = watch.Elapsed.TotalSeconds;

        // 2. A deliberately worse model (one epoch at a negligible learning rate: the initial weights), on the same data and split.
        var pointerEtag = (await models.GetBlobClient("current.json").GetPropertiesAsync()).Value.ETag;
        var worse = await CliRunner.RunAsync(Train("1e-9", "--epochs", "1"));
        Log("worse", worse.Output);
        Assert.True(worse.ExitCode == 0, worse.Error + worse.Output);
        Assert.Contains("24 scans (12 normal, 12 abnormal); 0 downloaded, 24 already here, 0 removed", worse.Output);
        var (_, worseReport) = await ReadReportAsync(models, worse.Output);
        double worseAuc = (double)worseReport["candidate"]!["metrics"]!["auc"]!;
        // The current model scored again on the same validation scans gives exactly the AUC it was promoted with.
        Assert.Equal(firstVersion, (string?)worseReport["current"]!["version"]);
        Assert.Equal(firstAuc, (double)worseReport["current"]!["metrics"]!["auc"]!);
        Assert.True(worseAuc < firstAuc, $"precondition: the untrained candidate ({worseAuc}) must score below the current model ({firstAuc})");
        Assert.Equal("kept-current", (string?)worseReport["decision"]);
        Assert.StartsWith($"kept {firstVersion}: valAuc", (string?)worseReport["reason"]);
        Assert.Contains("both scored on the same 8 validation scans", (string?)worseReport["reason"]);
        Assert.Contains("decision: kept-current", worse.Output);
        Assert.Equal(pointerEtag, (await models.GetBlobClient("current.json").GetPropertiesAsync()).Value.ETag);
        string worseVersion = (string)worseReport["candidate"]!["version"]!;
        Assert.Equal(worseAuc, (await ManifestAsync(models, worseVersion)).TrainingMetrics!["valAuc"]); // uploaded, not current

        // 3. --force promotes a model the gate refuses.
        var forced = await CliRunner.RunAsync(Train("1e-9", "--epochs", "1", "--force"));
        Log("forced", forced.Output);
        Assert.True(forced.ExitCode == 0, forced.Error + forced.Output);
        var (_, forcedReport) = await ReadReportAsync(models, forced.Output);
        Assert.Equal("promoted", (string?)forcedReport["decision"]);
        Assert.StartsWith("forced: valAuc", (string?)forcedReport["reason"]);
        string forcedVersion = (string)forcedReport["candidate"]!["version"]!;
        current = (await CurrentAsync(models))!;
        Assert.Equal(forcedVersion, current.Version);
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
        Assert.Equal(new ModelReference(forcedVersion, (string)forcedReport["candidate"]!["sha256"]!), outcome.Result.Model);
        Assert.True(firstSeconds < 120, $"the first run took {firstSeconds:0} s");
    }
}
