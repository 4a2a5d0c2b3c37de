using CtScan.Scoring;

namespace CtScan.Pipeline.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class ModelRegistryClientTests(AzuriteFixture azurite)
{
    private const string Low = PipelineTestContext.ModelLow, High = PipelineTestContext.ModelHigh, Small = PipelineTestContext.ModelSmall;

    [Fact]
    public async Task PublishAsync_First_UploadsAndPromotes()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);

        var result = await t.PublishAsync(Low);

        Assert.Equal(PublishOutcome.Promoted, result.Outcome);
        Assert.True(result.Uploaded);
        Assert.Equal(Low, (await t.Services.Registry.GetCurrentAsync())!.Version);
        var manifest = PipelineTestContext.Manifest(Low);
        Assert.Equal(manifest.Sha256, (await t.Services.Registry.GetCurrentAsync())!.Sha256);
        var blob = t.Services.Clients.Models.GetBlobClient($"{Low}/model.onnx");
        Assert.Equal(manifest.Sha256, Contracts.Sha256Hex.Of((await blob.DownloadContentAsync()).Value.Content.ToArray()));
    }

    [Fact]
    public async Task PublishAsync_LowerAuc_KeepsCurrent_ForcePromotes()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(High);

        var kept = await t.PublishAsync(Low);
        Assert.Equal(PublishOutcome.KeptCurrent, kept.Outcome);
        Assert.Equal(High, kept.CurrentVersion);
        Assert.Contains("0.7", kept.Reason);
        Assert.Contains("0.8", kept.Reason);
        Assert.Equal(High, (await t.Services.Registry.GetCurrentAsync())!.Version);

        var forced = await t.PublishAsync(Low, force: true);
        Assert.Equal(PublishOutcome.Promoted, forced.Outcome);
        Assert.False(forced.Uploaded); // same bytes: already in the registry
        Assert.StartsWith("forced", forced.Reason);
        Assert.Equal(Low, (await t.Services.Registry.GetCurrentAsync())!.Version);
    }

    [Fact]
    public async Task PublishAsync_MeasuredComparison_DecidesInsteadOfTheManifests()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(High); // manifest valAuc 0.80; Low's says 0.70

        // Measured on the same validation set, the lower-on-paper candidate is better: it is promoted.
        var promoted = await t.Services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(Low),
            new PublishOptions { Comparison = new GateComparison(High, 0.9, 0.85, "same 6 scans") });
        Assert.Equal(PublishOutcome.Promoted, promoted.Outcome);
        Assert.Equal("gate passed: valAuc 0.9 vs current " + High + "'s 0.85 (same 6 scans)", promoted.Reason);
        Assert.Equal(Low, (await t.Services.Registry.GetCurrentAsync())!.Version);

        // Measured lower: kept, although its manifest's 0.80 beats the current's 0.70.
        var kept = await t.Services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(High),
            new PublishOptions { Comparison = new GateComparison(Low, 0.5, 0.6, "same 6 scans") });
        Assert.Equal(PublishOutcome.KeptCurrent, kept.Outcome);
        Assert.Equal(Low, (await t.Services.Registry.GetCurrentAsync())!.Version);
    }

    [Fact]
    public async Task PublishAsync_ComparisonAgainstAVersionNoLongerCurrent_FallsBackToTheManifests()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(High);

        var kept = await t.Services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(Low),
            new PublishOptions { Comparison = new GateComparison("someone-else", 0.99, 0.1, "stale") });

        Assert.Equal(PublishOutcome.KeptCurrent, kept.Outcome); // 0.70 < 0.80 by the manifests
        Assert.Contains("no longer current", kept.Reason);
    }

    [Fact]
    public async Task PublishAsync_HigherAuc_Promotes_AndRollbackReturnsToPrevious()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(Low);
        var promoted = await t.PublishAsync(High);
        Assert.Equal(PublishOutcome.Promoted, promoted.Outcome);
        Assert.StartsWith("gate passed", promoted.Reason);

        var back = await t.Services.Registry.RollbackAsync();

        Assert.Equal(Low, back.Version);
        Assert.Empty(back.Previous);
        Assert.Equal(Low, (await t.Services.Registry.GetCurrentAsync())!.Version);
        await Assert.ThrowsAsync<ModelRegistryException>(() => t.Services.Registry.RollbackAsync());
    }

    [Fact]
    public async Task PublishAsync_NoPromote_UploadsOnly_ListShowsAllAndCurrent()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(Low);
        var result = await t.PublishAsync(High, promote: false);
        await t.PublishAsync(Small, promote: false);

        var list = await t.Services.Registry.ListAsync();

        Assert.Equal(PublishOutcome.KeptCurrent, result.Outcome);
        Assert.Equal(new[] { High, Low, Small }.Order().ToArray(), list.Select(m => m.Version).Order().ToArray());
        Assert.Equal(Low, Assert.Single(list, m => m.IsCurrent).Version);
        Assert.Equal(0.8, list.Single(m => m.Version == High).ValAuc);
        Assert.Equal([46, 46, 46], list.Single(m => m.Version == Small).InputShape);
    }

    [Fact]
    public async Task PublishAsync_TamperedModelFile_RefusedBeforeUpload()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        string copy = t.TempPath("tampered");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(PipelineTestContext.ModelDirectory(Low)))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        var bytes = File.ReadAllBytes(Path.Combine(copy, "model.onnx"));
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(copy, "model.onnx"), bytes);

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => t.Services.Registry.PublishAsync(copy));

        Assert.Contains("SHA-256", error.Message);
        Assert.Empty(await t.Services.Registry.ListAsync());
        Assert.Null(await t.Services.Registry.GetCurrentAsync());
    }

    [Fact]
    public async Task PromoteAsync_UnknownVersion_Throws()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => t.Services.Registry.PromoteAsync("nope"));
        Assert.Contains("nope", error.Message);
    }

    [Fact]
    public async Task PromoteAsync_Concurrent_BothLandInHistoryNothingLost()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(Small);
        await t.PublishAsync(Low, promote: false);
        await t.PublishAsync(High, promote: false);

        // Two separate clients (as two processes would be), racing on current.json.
        var other = new ModelRegistryClient(t.Services.Clients.Models);
        await Task.WhenAll(t.Services.Registry.PromoteAsync(Low), other.PromoteAsync(High));

        var current = (await t.Services.Registry.GetCurrentAsync())!;
        var chain = new[] { current.Version }.Concat(current.Previous.Select(p => p.Version)).ToArray();
        Assert.Equal(3, chain.Length);
        Assert.Equal(new[] { High, Low }.Order().ToArray(), chain[..2].Order().ToArray());
        Assert.Equal(Small, chain[2]);
    }

    [Fact]
    public async Task PromoteAsync_ConcurrentFirstPromotions_IfNoneMatchKeepsBoth()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(Low, promote: false);
        await t.PublishAsync(High, promote: false);

        await Task.WhenAll(t.Services.Registry.PromoteAsync(Low), new ModelRegistryClient(t.Services.Clients.Models).PromoteAsync(High));

        var current = (await t.Services.Registry.GetCurrentAsync())!;
        Assert.Equal(new[] { High, Low }.Order().ToArray(), new[] { current.Version, Assert.Single(current.Previous).Version }.Order().ToArray());
    }
}
