using CtScan.Phantoms;

namespace CtScan.Pipeline.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class ModelProviderTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task AcquireAsync_NewPromotion_SeenAfterIntervalNotBefore_OldLeaseFinishes()
    {
        var time = new ManualTime();
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { ModelRefreshInterval = TimeSpan.FromSeconds(30) }, time);
        await t.PublishAsync(PipelineTestContext.ModelLow);
        await t.PublishAsync(PipelineTestContext.ModelHigh, promote: false);
        var models = t.Services.Models;

        var first = await models.AcquireAsync();
        Assert.Equal(PipelineTestContext.ModelLow, first.Manifest.Version);
        int checks = models.PointerChecks;

        await t.Services.Registry.PromoteAsync(PipelineTestContext.ModelHigh);
        time.Advance(TimeSpan.FromSeconds(10));
        using (var stillOld = await models.AcquireAsync())
            Assert.Equal(PipelineTestContext.ModelLow, stillOld.Manifest.Version);
        Assert.Equal(checks, models.PointerChecks); // no storage call inside the interval

        time.Advance(TimeSpan.FromSeconds(21));
        using var next = await models.AcquireAsync();
        Assert.Equal(PipelineTestContext.ModelHigh, next.Manifest.Version);
        Assert.Equal(checks + 1, models.PointerChecks);

        // The replaced scorer still serves the lease taken before the switch, and is disposed when it ends.
        var input = new float[first.Scorer.VoxelsPerScan];
        Assert.Equal(0.5, first.Scorer.Score(input).ProbabilityAbnormal, 6);
        var oldScorer = first.Scorer;
        first.Dispose();
        Assert.Throws<ObjectDisposedException>(() => oldScorer.Score(input));
        Assert.Equal(0.5, next.Scorer.Score(input).ProbabilityAbnormal, 6);
    }

    [Fact]
    public async Task AcquireAsync_SameVersion_ReusesOneScorer_AndCachesDownload()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelLow);

        using var a = await t.Services.Models.AcquireAsync();
        using var b = await t.Services.Models.AcquireAsync();

        Assert.Same(a.Scorer, b.Scorer);
        var cached = Directory.GetDirectories(t.Options.ModelCacheDirectory!);
        Assert.Equal(PipelineTestContext.ModelLow + "-" + a.Manifest.Sha256[..12], Path.GetFileName(Assert.Single(cached)));
    }

    [Fact]
    public async Task Pipeline_PromotionDuringTraffic_NextResultNamesNewModel()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { ModelRefreshInterval = TimeSpan.FromMilliseconds(200) });
        await t.PublishAsync(PipelineTestContext.ModelLow);
        await t.IngestAsync("p1.nii.gz", t.Phantom(PhantomLabel.Normal, seed: 9));
        var r1 = (await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!)).Result!;

        await t.PublishAsync(PipelineTestContext.ModelHigh);
        await Task.Delay(300);
        await t.IngestAsync("p2.nii.gz", t.Phantom(PhantomLabel.Normal, seed: 9));
        var r2 = (await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!)).Result!;

        Assert.Equal(PipelineTestContext.ModelLow, r1.Model!.Version);
        Assert.Equal(PipelineTestContext.ModelHigh, r2.Model!.Version);
        Assert.Equal(PipelineTestContext.Manifest(PipelineTestContext.ModelHigh).Sha256, r2.Model.Sha256);
    }
}
