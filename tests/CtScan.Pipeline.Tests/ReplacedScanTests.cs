using Azure.Storage.Blobs.Models;
using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Preprocessing;
using CtScan.Tensors;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// A scan blob replaced while its first content is in flight: the result always describes the blob's current content,
/// whatever order the steps run in; and cached tensors are checked against the request before they are scored.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReplacedScanTests(AzuriteFixture azurite)
{
    private const string Name = "ward/replaced scan.nii.gz";

    private static async Task<PipelineTestContext> ContextAsync(AzuriteFixture azurite)
    {
        var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelLow);
        return t;
    }

    private static Task UploadAsync(PipelineTestContext t, byte[] bytes) =>
        t.Services.Clients.Scans.GetBlobClient(Name).UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);

    [Fact]
    public async Task OldMessageReleasedAfterNewContentScored_DroppedAndResultStaysNew()
    {
        await using var t = await ContextAsync(azurite);
        byte[] first = t.Phantom(PhantomLabel.Normal, seed: 61), second = t.Phantom(PhantomLabel.Abnormal, seed: 62);
        await UploadAsync(t, first);
        Assert.True((await t.Services.Ingestor.IngestBlobAsync(Name))!.Queued);
        string held = (await t.ReceiveRequestAsync())!; // the first version's message, held back

        await UploadAsync(t, second);
        Assert.True((await t.Services.Ingestor.IngestBlobAsync(Name))!.Queued);
        var fresh = await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);
        var stale = await t.Services.Scorer.HandleAsync(held);

        Assert.Equal(Sha256Hex.Of(second), fresh.Result!.Input!.Sha256);
        Assert.Null(stale.Result);
        Assert.Null(stale.ResultBlobName);
        var stored = (await t.ReadResultAsync(Name + ".json"))!;
        Assert.Equal(Sha256Hex.Of(second), stored.Input!.Sha256);
        Assert.Equal(fresh.Result.CreatedAt, stored.CreatedAt);
        Assert.Equal(Sha256Hex.Of(first), ContractsJson.DeserializeScoreRequest(held).Sha256);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReplacedWhileFirstIsPreprocessed_OnlyNewContentsResult(bool oldScoredFirst)
    {
        await using var t = await ContextAsync(azurite);
        byte[] first = t.Phantom(PhantomLabel.Normal, seed: 63), second = t.Phantom(PhantomLabel.Abnormal, seed: 64);
        await UploadAsync(t, first);
        // The first content is read; the blob is replaced before its preprocessing ends and its request is queued.
        var download = (await t.Services.Clients.Scans.GetBlobClient(Name).DownloadStreamingAsync()).Value;
        await UploadAsync(t, second);
        await using (var content = download.Content)
            Assert.True((await t.Services.Ingestor.IngestAsync(Name, content, new IngestSource(download.Details.ETag, null, false))).Queued);
        string old = (await t.ReceiveRequestAsync())!;
        Assert.True((await t.Services.Ingestor.IngestBlobAsync(Name))!.Queued);
        string current = (await t.ReceiveRequestAsync())!;

        var outcomes = oldScoredFirst
            ? new[] { await t.Services.Scorer.HandleAsync(old), await t.Services.Scorer.HandleAsync(current) }
            : [await t.Services.Scorer.HandleAsync(current), await t.Services.Scorer.HandleAsync(old)];

        var stored = (await t.ReadResultAsync(Name + ".json"))!;
        Assert.Equal(Sha256Hex.Of(second), stored.Input!.Sha256);
        Assert.Single(outcomes, o => o.Result is not null);
        // The stale ingest left no tag: the blob is tagged with the new content only.
        var properties = (await t.Services.Clients.Scans.GetBlobClient(Name).GetPropertiesAsync()).Value;
        Assert.Equal(Sha256Hex.Of(second), properties.Metadata[ContentMetadata.Sha256]);
    }

    [Fact]
    public async Task PoisonedRequestForReplacedContent_NoFailedResultForContentNoLongerThere()
    {
        await using var t = await ContextAsync(azurite);
        byte[] first = t.Phantom(PhantomLabel.Normal, seed: 71), second = t.Phantom(PhantomLabel.Abnormal, seed: 72);
        await UploadAsync(t, first);
        await t.Services.Ingestor.IngestBlobAsync(Name);
        string poisoned = (await t.ReceiveRequestAsync())!;
        await UploadAsync(t, second); // the new content is still on its way when the old request is poisoned

        bool written = await t.Services.Poison.HandleScoreRequestAsync(poisoned);
        await t.Services.Ingestor.IngestBlobAsync(Name);
        await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);

        Assert.False(written);
        var stored = (await t.ReadResultAsync(Name + ".json"))!;
        Assert.Equal((ScanStatus.Scored, Sha256Hex.Of(second)), (stored.Status, stored.Input!.Sha256));
    }

    [Fact]
    public async Task WriteWhileCurrent_NewerResultWrittenBetweenReadAndWrite_NotOverwritten()
    {
        await using var t = await ContextAsync(azurite);
        byte[] first = t.Phantom(PhantomLabel.Normal, seed: 65);
        await UploadAsync(t, first);
        var etag = (await t.Services.Clients.Scans.GetBlobClient(Name).GetPropertiesAsync()).Value.ETag;
        var older = new ScanResult { Scan = Name, Status = ScanStatus.Rejected, Error = new ScanError("older", "older content"), CreatedAt = DateTimeOffset.UtcNow };
        var newer = older with { Error = new ScanError("newer", "newer content") };
        int asked = 0;

        // The first "still current?" answer is yes, but before the write the scan is replaced and the newer content's
        // result lands; the conditional write fails, the loop asks again and now hears no.
        string? written = await t.Services.Results.WriteWhileCurrentAsync(older, new ScanVersion(Sha256Hex.Of(first), etag), async ct =>
        {
            if (++asked > 1) return false;
            await t.Services.Results.WriteAsync(newer, ct);
            return true;
        });

        Assert.Null(written);
        Assert.Equal(2, asked);
        Assert.Equal("newer", (await t.ReadResultAsync(Name + ".json"))!.Error!.Code);
    }

    [Fact]
    public async Task IngestBlob_TaggedContent_SkippedUnlessRequeued()
    {
        await using var t = await ContextAsync(azurite);
        byte[] bytes = t.Phantom(PhantomLabel.Normal, seed: 66);
        await UploadAsync(t, bytes);

        var first = (await t.Services.Ingestor.IngestBlobAsync(Name))!;
        var again = (await t.Services.Ingestor.IngestBlobAsync(Name))!;
        var requeued = (await t.Services.Ingestor.IngestBlobAsync(Name, requeue: true))!;

        Assert.True(first.Queued);
        Assert.False(again.Queued); // the tag write re-fires polling triggers: the second call must not queue twice
        Assert.True(requeued.Queued);
        Assert.Equal(Sha256Hex.Of(bytes), (await t.Services.Clients.Scans.GetBlobClient(Name).GetPropertiesAsync()).Value.Metadata[ContentMetadata.Sha256]);
        Assert.NotNull(first.Request!.ScanETag);
    }

    [Fact]
    public async Task IngestBlob_RefiredByItsOwnTag_SkippedWithoutReadingTheScan()
    {
        await using var t = await ContextAsync(azurite);
        byte[] bytes = t.Phantom(PhantomLabel.Normal, seed: 67);
        await UploadAsync(t, bytes);
        var blob = t.Services.Clients.Scans.GetBlobClient(Name);

        var first = (await t.Services.Ingestor.IngestBlobAsync(Name))!;
        var refired = (await t.Services.Ingestor.IngestBlobAsync(Name))!;
        // Another host never saw the tag written: it reads and hashes the scan to trust the tag.
        var otherHost = new ScanIngestor(t.Services.Clients, t.Services.Models, t.Services.Results);
        var elsewhere = (await otherHost.IngestBlobAsync(Name))!;

        Assert.True(first.Queued);
        Assert.True(first.TimingsMs.ContainsKey("read"));
        Assert.False(refired.Queued);
        Assert.False(refired.TimingsMs.ContainsKey("read")); // one properties request, no download
        Assert.Equal(Sha256Hex.Of(bytes), refired.Sha256);
        Assert.False(elsewhere.Queued);
        Assert.True(elsewhere.TimingsMs.ContainsKey("read"));

        // Any other write since the tag (here metadata only, the tag kept) moves the ETag: read and hashed again.
        var metadata = (await blob.GetPropertiesAsync()).Value.Metadata;
        metadata["ward"] = "7";
        await blob.SetMetadataAsync(metadata);
        var afterWrite = (await t.Services.Ingestor.IngestBlobAsync(Name))!;
        Assert.False(afterWrite.Queued);
        Assert.True(afterWrite.TimingsMs.ContainsKey("read"));

        // New content under the same name is ingested.
        await UploadAsync(t, t.Phantom(PhantomLabel.Abnormal, seed: 68));
        Assert.True((await t.Services.Ingestor.IngestBlobAsync(Name))!.Queued);
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("foreign")]
    public async Task CachedTensorCorruptOrOfAnotherScan_RebuiltFromScanAndScored(string damage)
    {
        await using var t = await ContextAsync(azurite);
        byte[] bytes = t.Phantom(PhantomLabel.Abnormal, seed: 67), other = t.Phantom(PhantomLabel.Normal, seed: 68);
        await UploadAsync(t, bytes);
        var ingest = (await t.Services.Ingestor.IngestBlobAsync(Name))!;
        var expected = await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);
        var tensor = t.Services.Clients.Tensors.GetBlobClient(ingest.Tensor);
        var metadata = (await tensor.GetPropertiesAsync()).Value.Metadata;
        if (damage == "corrupt")
            await tensor.UploadAsync(BinaryData.FromString("\u0093NUMPY this is not a tensor"), new BlobUploadOptions { Metadata = metadata });
        else
        {
            // Another scan's tensor under this name: its recorded hash gives it away.
            var otherIngest = await t.IngestAsync("other.nii.gz", other);
            await t.ReceiveRequestAsync();
            var otherTensor = t.Services.Clients.Tensors.GetBlobClient(otherIngest.Tensor);
            var otherMetadata = (await otherTensor.GetPropertiesAsync()).Value.Metadata;
            await tensor.UploadAsync((await otherTensor.DownloadContentAsync()).Value.Content, new BlobUploadOptions { Metadata = otherMetadata });
        }

        await t.Services.Ingestor.IngestBlobAsync(Name, requeue: true);
        var outcome = await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);

        Assert.Equal(ScanStatus.Scored, outcome.Result!.Status);
        Assert.Equal(expected.Result!.ProbabilityAbnormal!.Value, outcome.Result.ProbabilityAbnormal!.Value, 6);
        var repaired = (await tensor.DownloadContentAsync()).Value;
        Assert.Equal(Sha256Hex.Of(bytes), repaired.Details.Metadata[TensorMetadata.Sha256]);
        Assert.Equal([128, 128, 64], NpyFile.Read(repaired.Content.ToStream()).Shape);
        // The rebuild happened in the score step for a corrupt blob, at ingest for a foreign one (its hash is in the metadata).
        Assert.Equal(damage == "corrupt", outcome.TensorRebuilt);
    }

    [Fact]
    public async Task Sweep_ResultForReplacedContent_Reingested_CurrentResultLeftAlone()
    {
        await using var t = await ContextAsync(azurite);
        var clients = t.Services.Clients;
        byte[] first = t.Phantom(PhantomLabel.Normal, seed: 69), second = t.Phantom(PhantomLabel.Abnormal, seed: 70);
        await clients.Scans.GetBlobClient("kept.nii.gz").UploadAsync(BinaryData.FromBytes(first));
        await UploadAsync(t, first);
        foreach (var name in new[] { "kept.nii.gz", Name })
        {
            await t.Services.Ingestor.IngestBlobAsync(name);
            await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);
        }
        await UploadAsync(t, second); // its event is lost: no ingest
        var sweeper = new PendingScanSweeper(clients, new ScanIngestor(clients, t.Services.Models, t.Services.Results));

        var swept = await sweeper.SweepAsync(grace: TimeSpan.Zero);

        Assert.Equal([Name], swept);
        var request = ContractsJson.DeserializeScoreRequest((await t.ReceiveRequestAsync())!);
        Assert.Equal((Name, Sha256Hex.Of(second)), (request.Scan, request.Sha256));
        await t.Services.Scorer.HandleAsync(ContractsJson.Serialize(request));
        Assert.Equal(Sha256Hex.Of(second), (await t.ReadResultAsync(Name + ".json"))!.Input!.Sha256);
        Assert.Empty(await sweeper.SweepAsync(grace: TimeSpan.Zero));
    }
}
