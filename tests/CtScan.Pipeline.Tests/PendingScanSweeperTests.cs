using CtScan.Contracts;
using CtScan.Phantoms;

namespace CtScan.Pipeline.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class PendingScanSweeperTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Sweep_ScanWithoutResultNeverIngested_ReingestedAndQueued_OthersLeftAlone()
    {
        await using var context = await PipelineTestContext.CreateAsync(azurite);
        var clients = context.Services.Clients;
        await clients.Scans.UploadBlobAsync("stranded.nii.gz", BinaryData.FromBytes(context.Phantom(PhantomLabel.Normal, seed: 3)));
        await clients.Scans.UploadBlobAsync("done.nii.gz", BinaryData.FromBytes(context.Phantom(PhantomLabel.Normal, seed: 4)));
        await context.Services.Results.WriteAsync(new ScanResult { Scan = "done.nii.gz", Status = ScanStatus.Rejected, Error = new ScanError("x", "y"), CreatedAt = DateTimeOffset.UtcNow });
        await clients.Scans.UploadBlobAsync("seen.nii.gz", BinaryData.FromBytes(context.Phantom(PhantomLabel.Normal, seed: 5)));
        await using (var seen = await clients.Scans.GetBlobClient("seen.nii.gz").OpenReadAsync())
            await context.Services.Ingestor.IngestAsync("seen.nii.gz", seen);
        await clients.ScoreRequests.ClearMessagesAsync();
        var sweeper = new PendingScanSweeper(clients, context.Services.Ingestor);

        var young = await sweeper.SweepAsync(grace: TimeSpan.FromMinutes(5));
        var swept = await sweeper.SweepAsync(grace: TimeSpan.Zero, ingestedGrace: TimeSpan.FromMinutes(5));

        Assert.Empty(young);
        Assert.Equal(["stranded.nii.gz"], swept);
        var request = ContractsJson.DeserializeScoreRequest((await context.ReceiveRequestAsync())!);
        Assert.Equal("stranded.nii.gz", request.Scan);
        Assert.Null(await context.ReceiveRequestAsync());
    }

    [Fact]
    public async Task Sweep_ScanQueuedByAnotherHost_WaitsForTheIngestedGrace()
    {
        await using var context = await PipelineTestContext.CreateAsync(azurite);
        var clients = context.Services.Clients;
        await clients.Scans.UploadBlobAsync("other-host.nii.gz", BinaryData.FromBytes(context.Phantom(PhantomLabel.Normal, seed: 6)));
        // A second host (its own ingestor) takes the scan from the blob trigger: it queues the request and tags the blob.
        using (var otherHost = new PipelineServices(context.Options))
            Assert.True((await otherHost.Ingestor.IngestBlobAsync("other-host.nii.gz"))!.Queued);
        await clients.ScoreRequests.ClearMessagesAsync();
        var sweeper = new PendingScanSweeper(clients, context.Services.Ingestor);

        // This host never saw the scan, but the tag says it is in hand: only the ingested grace applies.
        var inHand = await sweeper.SweepAsync(grace: TimeSpan.Zero, ingestedGrace: TimeSpan.FromMinutes(5));
        var overdue = await sweeper.SweepAsync(grace: TimeSpan.FromMinutes(5), ingestedGrace: TimeSpan.Zero);

        Assert.Empty(inHand);
        Assert.Equal(["other-host.nii.gz"], overdue);
    }
}
