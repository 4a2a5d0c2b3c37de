using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Preprocessing;
using CtScan.Scoring;
using CtScan.Tensors;

namespace CtScan.Pipeline.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class ScoreRequestHandlerTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task HandleAsync_IngestedPhantom_WritesScoredResultOfCurrentModel()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelHigh);
        var bytes = t.Phantom(PhantomLabel.Abnormal, seed: 5);
        await t.IngestAsync("ward/scan é.nii.gz", bytes);
        string message = (await t.ReceiveRequestAsync())!;

        var outcome = await t.Services.Scorer.HandleAsync(message);

        Assert.Equal("ward/scan é.nii.gz.json", outcome.ResultBlobName);
        var result = (await t.ReadResultAsync("ward/scan é.nii.gz.json"))!;
        var manifest = PipelineTestContext.Manifest(PipelineTestContext.ModelHigh);
        Assert.Equal(ScanStatus.Scored, result.Status);
        Assert.Equal(new ModelReference(manifest.Version, manifest.Sha256), result.Model);
        Assert.Equal(manifest.Threshold, result.Threshold);
        Assert.Equal(ScanLabels.For(result.ProbabilityAbnormal!.Value, manifest.Threshold), result.Label);
        Assert.Equal(Sha256Hex.Of(bytes), result.Input!.Sha256);
        Assert.Equal([64, 64, 16], result.Input.Shape);
        Assert.Equal("int16", result.Input.Datatype);
        Assert.Equal(0.7, result.Input.SpacingMm![0], 5);
        Assert.Equal(5.0, result.Input.SpacingMm[2], 5);
        foreach (var key in new[] { "queueWait", "download", "inference", "preprocess", "total" })
            Assert.True(result.TimingsMs.ContainsKey(key), $"timingsMs lacks {key}: {string.Join(", ", result.TimingsMs.Keys)}");
        Assert.Null(result.Error);

        // Independently: preprocess the same file locally and score it with the fixture model directly.
        string path = t.TempPath("same.nii.gz");
        File.WriteAllBytes(path, bytes);
        using var image = NiftiImage.Open(path);
        var local = new ScanPreprocessor().Process(image.OpenVolume());
        using var scorer = OnnxScorer.Open(PipelineTestContext.ModelDirectory(PipelineTestContext.ModelHigh));
        Assert.Equal(scorer.Score(local.Tensor.Data).ProbabilityAbnormal, result.ProbabilityAbnormal!.Value, 6);
    }

    [Fact]
    public async Task HandleAsync_SameMessageTwice_RewritesTheSameResult()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelLow);
        await t.IngestAsync("x.nii.gz", t.Phantom(PhantomLabel.Normal, seed: 6));
        string message = (await t.ReceiveRequestAsync())!;

        var first = (await t.Services.Scorer.HandleAsync(message)).Result!;
        var second = (await t.Services.Scorer.HandleAsync(message)).Result!;

        Assert.Equal(first.ProbabilityAbnormal, second.ProbabilityAbnormal);
        Assert.Equal(first.Model, second.Model);
        Assert.Equal(second.CreatedAt, (await t.ReadResultAsync("x.nii.gz.json"))!.CreatedAt);
        Assert.Single(await t.ResultBlobNamesAsync());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"scan\":\"a.nii\"}")]
    [InlineData("{\"scan\":\"a.nii\",\"tensor\":\"t.npy\",\"sha256\":\"XYZ\",\"enqueuedAt\":\"2026-01-01T00:00:00Z\"}")]
    public async Task HandleAsync_MalformedMessage_RejectedResultNotRetry(string message)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);

        var outcome = await t.Services.Scorer.HandleAsync(message);

        Assert.StartsWith(ScanNames.InvalidMessagesFolder + "/", outcome.ResultBlobName);
        var stored = (await t.ReadResultAsync(outcome.ResultBlobName!))!;
        Assert.Equal(ScanStatus.Rejected, stored.Status);
        Assert.Equal(PipelineErrorCodes.InvalidRequest, stored.Error!.Code);
        Assert.Contains(message.Length > 20 ? message[..20] : message, stored.Error.Message);
    }

    [Fact]
    public async Task HandleAsync_TensorAndScanGone_FailedTensorMissing()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelLow);
        string sha = new('a', 64);
        var message = ContractsJson.Serialize(new ScoreRequest("gone.nii.gz", sha + ".npy", sha, DateTimeOffset.UtcNow));

        var outcome = await t.Services.Scorer.HandleAsync(message);

        Assert.Equal(ScanStatus.Failed, outcome.Result!.Status);
        Assert.Equal(PipelineErrorCodes.TensorMissing, outcome.Result.Error!.Code);
        Assert.Equal(ScanStatus.Failed, (await t.ReadResultAsync("gone.nii.gz.json"))!.Status);
    }

    [Fact]
    public async Task HandleAsync_TensorEvictedButScanPresent_RebuildsAndScores()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelLow);
        var bytes = t.Phantom(PhantomLabel.Normal, seed: 7);
        await t.Services.Clients.Scans.UploadBlobAsync("r.nii.gz", BinaryData.FromBytes(bytes));
        var ingest = await t.IngestAsync("r.nii.gz", bytes);
        await t.Services.Clients.Tensors.DeleteBlobAsync(ingest.Tensor);

        var outcome = await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);

        Assert.True(outcome.TensorRebuilt);
        Assert.Equal(ScanStatus.Scored, outcome.Result!.Status);
        Assert.True(await t.Services.Clients.Tensors.GetBlobClient(ingest.Tensor).ExistsAsync());
    }

    [Fact]
    public async Task HandleAsync_ModelChangedPreprocessingSinceIngest_RebuildsTensorForNewModel()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { ModelRefreshInterval = TimeSpan.Zero });
        await t.PublishAsync(PipelineTestContext.ModelLow);
        var bytes = t.Phantom(PhantomLabel.Abnormal, seed: 8);
        await t.Services.Clients.Scans.UploadBlobAsync("m.nii.gz", BinaryData.FromBytes(bytes));
        await t.IngestAsync("m.nii.gz", bytes);
        await t.Services.Registry.PromoteAsync((await t.PublishAsync(PipelineTestContext.ModelSmall, promote: false)).Version);

        var outcome = await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);

        Assert.True(outcome.TensorRebuilt);
        Assert.Equal(PipelineTestContext.ModelSmall, outcome.Result!.Model!.Version);
        Assert.True(await t.Services.Clients.Tensors.GetBlobClient(TensorNames.For(Sha256Hex.Of(bytes), new PreprocessingOptions { TargetShape = new VolumeShape(46, 46, 46) })).ExistsAsync());
    }

    [Fact]
    public async Task HandleAsync_NoCurrentModel_ThrowsForRetry()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.IngestAsync("n.nii.gz", t.Phantom(PhantomLabel.Normal));

        await Assert.ThrowsAsync<ModelUnavailableException>(async () => await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!));
        Assert.Empty(await t.ResultBlobNamesAsync());
    }
}
