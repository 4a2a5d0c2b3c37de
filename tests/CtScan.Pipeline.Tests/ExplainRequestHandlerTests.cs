using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Nifti;
using CtScan.Phantoms;

namespace CtScan.Pipeline.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class ExplainRequestHandlerTests(AzuriteFixture azurite)
{
    private static readonly VolumeShape ScanShape = new(64, 64, 24);

    private static Func<PipelineOptions, PipelineOptions> ExplainOn(bool on = true) =>
        o => o with { Explain = on, ExplainRequestsQueue = $"{o.ScoreRequestsQueue}-explain" };

    [Fact]
    public async Task HandleAsync_ScoredPhantom_WritesMapOnTheScansGridAndLinksItInTheResult()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, ExplainOn());
        try
        {
            await t.PublishAsync(PipelineTestContext.ModelSmall);
            var bytes = t.Phantom(PhantomLabel.Abnormal, seed: 3, shape: ScanShape);
            await t.Services.Clients.Scans.GetBlobClient("ward/a.nii.gz").UploadAsync(new BinaryData(bytes));
            await t.IngestAsync("ward/a.nii.gz", bytes);
            await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);
            string request = (await t.Services.Clients.ExplainRequests.ReceiveMessageAsync()).Value.Body.ToString();

            var outcome = await t.Services.Explainer.HandleAsync(request);

            Assert.Null(outcome.Dropped);
            var result = (await t.ReadResultAsync("ward/a.nii.gz.json"))!;
            Assert.Equal(new ScanExplanation(ExplanationMethods.Occlusion, "ward/a.nii.gz.saliency.nii.gz", "ward/a.nii.gz.saliency.png"), result.Explanation);
            Assert.Equal(ScanStatus.Scored, result.Status);
            string mapPath = t.TempPath("map.nii.gz"), scanPath = t.TempPath("scan.nii.gz");
            await t.Services.Clients.Results.GetBlobClient(result.Explanation!.Map).DownloadToAsync(mapPath);
            File.WriteAllBytes(scanPath, bytes);
            using var map = NiftiImage.Open(mapPath);
            using var scan = NiftiImage.Open(scanPath);
            Assert.Equal(scan.Header.DataShape, map.Header.DataShape);
            Assert.Equal(scan.Header.GetBestAffine().Cast<double>(), map.Header.GetBestAffine().Cast<double>());
            var montage = (await t.Services.Clients.Results.GetBlobClient(result.Explanation.Montage).DownloadContentAsync()).Value;
            Assert.Equal("image/png", montage.Details.ContentType);
            Assert.Equal(0x89, montage.Content.ToArray()[0]);
        }
        finally
        {
            await t.Services.Clients.ExplainRequests.DeleteIfExistsAsync();
        }
    }

    [Fact]
    public async Task ScoreRequest_ExplainOff_QueuesNothing()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, ExplainOn(on: false));
        try
        {
            await t.Services.Clients.ExplainRequests.CreateIfNotExistsAsync();
            await t.PublishAsync(PipelineTestContext.ModelSmall);
            await t.IngestAsync("b.nii.gz", t.Phantom(PhantomLabel.Normal, seed: 4, shape: ScanShape));

            var scored = await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);

            Assert.Equal(ScanStatus.Scored, scored.Result!.Status);
            Assert.Null((await t.Services.Clients.ExplainRequests.ReceiveMessageAsync()).Value);
        }
        finally
        {
            await t.Services.Clients.ExplainRequests.DeleteIfExistsAsync();
        }
    }

    [Fact]
    public async Task HandleAsync_ResultReplacedByOtherContent_DropsAndLeavesTheNewerResult()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, ExplainOn());
        try
        {
            await t.PublishAsync(PipelineTestContext.ModelSmall);
            var original = t.Phantom(PhantomLabel.Abnormal, seed: 5, shape: ScanShape);
            await t.Services.Clients.Scans.GetBlobClient("c.nii.gz").UploadAsync(new BinaryData(original));
            await t.IngestAsync("c.nii.gz", original);
            await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);
            string request = (await t.Services.Clients.ExplainRequests.ReceiveMessageAsync()).Value.Body.ToString();
            // The scan is replaced and scored again before the explain step runs.
            var replaced = t.Phantom(PhantomLabel.Normal, seed: 6, shape: ScanShape);
            await t.Services.Clients.Scans.GetBlobClient("c.nii.gz").UploadAsync(new BinaryData(replaced), overwrite: true);
            await t.IngestAsync("c.nii.gz", replaced);
            await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);
            var newer = (await t.ReadResultAsync("c.nii.gz.json"))!;

            var outcome = await t.Services.Explainer.HandleAsync(request);

            Assert.NotNull(outcome.Dropped);
            var after = (await t.ReadResultAsync("c.nii.gz.json"))!;
            Assert.Equal(newer.Input!.Sha256, after.Input!.Sha256);
            Assert.Null(after.Explanation);
            Assert.False(await t.Services.Clients.Results.GetBlobClient("c.nii.gz.saliency.nii.gz").ExistsAsync());
        }
        finally
        {
            await t.Services.Clients.ExplainRequests.DeleteIfExistsAsync();
        }
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"scan\":\"a.nii\",\"sha256\":\"xyz\",\"model\":{\"version\":\"v\",\"sha256\":\"x\"},\"enqueuedAt\":\"2026-01-01T00:00:00Z\"}")]
    public async Task HandleAsync_MalformedMessage_IsDroppedWithItsReason(string message)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, ExplainOn());

        var outcome = await t.Services.Explainer.HandleAsync(message);

        Assert.StartsWith("invalid explain request", outcome.Dropped);
        Assert.Null(outcome.Explanation);
    }
}
