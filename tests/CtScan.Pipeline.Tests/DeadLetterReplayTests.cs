using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.Phantoms;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// <see cref="DeadLetterReplayer"/> and <see cref="ScheduledSweep"/> on Azurite, fed dead-letter blobs shaped like the
/// ones Event Grid writes (a JSON array of events at <c>&lt;topic&gt;/&lt;subscription&gt;/yyyy/MM/dd/HH/&lt;guid&gt;.json</c>).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DeadLetterReplayTests(AzuriteFixture azurite)
{
    private const string Topic = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/ctscan";

    private static BlobContainerClient DeadLetters(PipelineTestContext context) =>
        context.Services.Clients.BlobService.GetBlobContainerClient(context.Options.ScansContainer.Replace("-scans", "-deadletter", StringComparison.Ordinal));

    private static string DeadLetterBlobName() => $"CTSCAN/SCANS-TO-FUNCTIONS/2026/11/29/12/{Guid.NewGuid()}.json";

    /// <summary>An Event Grid schema BlobCreated event as Event Grid dead-letters it (delivery fields added).</summary>
    private static JsonObject BlobCreated(string container, string blobName, string url) => new()
    {
        ["id"] = Guid.NewGuid().ToString(),
        ["eventTime"] = "2026-11-29T12:00:00.0000000Z",
        ["eventType"] = "Microsoft.Storage.BlobCreated",
        ["dataVersion"] = "",
        ["metadataVersion"] = "1",
        ["topic"] = Topic,
        ["subject"] = $"/blobServices/default/containers/{container}/blobs/{blobName}",
        ["data"] = new JsonObject
        {
            ["api"] = "PutBlob",
            ["contentType"] = "application/gzip",
            ["contentLength"] = 1234,
            ["blobType"] = "BlockBlob",
            ["url"] = url,
        },
        ["deadLetterReason"] = "MaxDeliveryAttemptEventsExceeded",
        ["deliveryAttempts"] = 30,
        ["lastDeliveryOutcome"] = "Probation",
        ["publishTime"] = "2026-11-29T12:00:00.5000000Z",
        ["lastDeliveryAttemptTime"] = "2026-11-30T12:00:00.0000000Z",
    };

    private static JsonObject ScanEvent(PipelineTestContext context, string scan) =>
        BlobCreated(context.Options.ScansContainer, scan, context.Services.Clients.Scans.GetBlobClient(scan).Uri.AbsoluteUri);

    private static async Task<string> WriteDeadLetterAsync(BlobContainerClient deadLetters, string json)
    {
        await deadLetters.CreateIfNotExistsAsync();
        string name = DeadLetterBlobName();
        await deadLetters.GetBlobClient(name).UploadAsync(BinaryData.FromString(json));
        return name;
    }

    private static async Task<List<string>> NamesAsync(BlobContainerClient container)
    {
        var names = new List<string>();
        await foreach (var blob in container.GetBlobsAsync()) names.Add(blob.Name);
        return names;
    }

    private static async Task<List<string>> QueuedScansAsync(PipelineTestContext context)
    {
        var scans = new List<string>();
        while (await context.ReceiveRequestAsync() is { } message) scans.Add(ContractsJson.DeserializeScoreRequest(message).Scan);
        return scans;
    }

    [Fact]
    public async Task Replay_DeadLetteredEvents_ReingestsScansWithoutResult_SkipsScoredAndGone_DeletesTheBlob()
    {
        await using var context = await PipelineTestContext.CreateAsync(azurite);
        var clients = context.Services.Clients;
        var deadLetters = DeadLetters(context);
        const string lost = "ward 3/a b#1 %2F ü.nii.gz";   // spaces, '#', '%', non-ASCII: the subject carries it verbatim
        const string viaUrl = "only-url 5.nii.gz";
        await clients.Scans.UploadBlobAsync(lost, BinaryData.FromBytes(context.Phantom(PhantomLabel.Normal, seed: 3)));
        await clients.Scans.UploadBlobAsync(viaUrl, BinaryData.FromBytes(context.Phantom(PhantomLabel.Normal, seed: 4)));
        await clients.Scans.UploadBlobAsync("scored.nii.gz", BinaryData.FromBytes(context.Phantom(PhantomLabel.Normal, seed: 5)));
        await context.Services.Results.WriteAsync(new ScanResult { Scan = "scored.nii.gz", Status = ScanStatus.Rejected, Error = new ScanError("x", "y"), CreatedAt = DateTimeOffset.UtcNow });
        var urlOnly = ScanEvent(context, viaUrl);
        urlOnly.Remove("subject");   // an event without a subject: the blob comes from data.url (percent-encoded)
        var otherContainer = BlobCreated("elsewhere", "x.nii.gz", "http://127.0.0.1/devstoreaccount1/elsewhere/x.nii.gz");
        string blob = await WriteDeadLetterAsync(deadLetters, new JsonArray(
            ScanEvent(context, lost), urlOnly, ScanEvent(context, "scored.nii.gz"), ScanEvent(context, "deleted.nii.gz"), otherContainer).ToJsonString());
        var replayer = new DeadLetterReplayer(clients, deadLetters, context.Services.Ingestor);

        var report = await replayer.ReplayAsync();

        Assert.Equal([lost, viaUrl], report.Replayed);
        Assert.Equal((1, 1, 1, 1, 0), (report.AlreadyHandled, report.Gone, report.Ignored, report.Blobs, report.Malformed));
        Assert.Equal([viaUrl, lost], (await QueuedScansAsync(context)).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(blob, await NamesAsync(deadLetters));
        var again = await replayer.ReplayAsync();
        Assert.Equal(0, again.Blobs);
        Assert.Empty(again.Replayed);
        await deadLetters.DeleteIfExistsAsync();
    }

    [Fact]
    public async Task Replay_ResultOlderThanTheScansLastUpload_ReingestsIt()
    {
        await using var context = await PipelineTestContext.CreateAsync(azurite);
        var clients = context.Services.Clients;
        var deadLetters = DeadLetters(context);
        await context.Services.Results.WriteAsync(new ScanResult { Scan = "again.nii.gz", Status = ScanStatus.Rejected, Error = new ScanError("x", "y"), CreatedAt = DateTimeOffset.UtcNow });
        await Task.Delay(TimeSpan.FromSeconds(1.1));   // Last-Modified has whole seconds
        await clients.Scans.UploadBlobAsync("again.nii.gz", BinaryData.FromBytes(context.Phantom(PhantomLabel.Abnormal, seed: 6)));
        await WriteDeadLetterAsync(deadLetters, new JsonArray(ScanEvent(context, "again.nii.gz")).ToJsonString());

        var report = await new DeadLetterReplayer(clients, deadLetters, context.Services.Ingestor).ReplayAsync();

        Assert.Equal(["again.nii.gz"], report.Replayed);
        Assert.Equal(["again.nii.gz"], await QueuedScansAsync(context));
        await deadLetters.DeleteIfExistsAsync();
    }

    [Theory]
    [InlineData("this is not json", "not JSON")]
    [InlineData("42", "expected a JSON array of events; got a JSON Number")]
    [InlineData("[\"text\"]", "event 0 is a JSON String, not an object")]
    [InlineData("[{\"id\":\"e1\",\"eventType\":\"Microsoft.Storage.BlobCreated\",\"data\":{}}]", "event 0 (e1) names no blob")]
    public async Task Replay_MalformedBlob_MovedAsideWithTheProblem_NeverReadAgain(string content, string problem)
    {
        await using var context = await PipelineTestContext.CreateAsync(azurite);
        var deadLetters = DeadLetters(context);
        string blob = await WriteDeadLetterAsync(deadLetters, content);
        var replayer = new DeadLetterReplayer(context.Services.Clients, deadLetters, context.Services.Ingestor);

        var first = await replayer.ReplayAsync();
        var second = await replayer.ReplayAsync();

        Assert.Equal((0, 1), (first.Blobs, first.Malformed));
        Assert.Equal((0, 0), (second.Blobs, second.Malformed));
        Assert.Equal([DeadLetterReplayer.MalformedPrefix + blob], await NamesAsync(deadLetters));
        var aside = deadLetters.GetBlobClient(DeadLetterReplayer.MalformedPrefix + blob);
        Assert.Equal(content, (await aside.DownloadContentAsync()).Value.Content.ToString());
        Assert.Contains(problem, (await aside.GetPropertiesAsync()).Value.Metadata["problem"]);
        Assert.Null(await context.ReceiveRequestAsync());
        await deadLetters.DeleteIfExistsAsync();
    }

    [Fact]
    public async Task Replay_NoDeadLetterContainer_DoesNothing()
    {
        await using var context = await PipelineTestContext.CreateAsync(azurite);

        var report = await new DeadLetterReplayer(context.Services.Clients, DeadLetters(context), context.Services.Ingestor).ReplayAsync();

        Assert.Equal(DeadLetterReplayReport.Empty, report);
    }

    [Fact]
    public async Task ScheduledSweep_ScanStrandedAndDeadLettered_IngestedOnce_UnstrandedYoungScanLeftAlone()
    {
        await using var context = await PipelineTestContext.CreateAsync(azurite);
        var clients = context.Services.Clients;
        var deadLetters = DeadLetters(context);
        await clients.Scans.UploadBlobAsync("stranded.nii.gz", BinaryData.FromBytes(context.Phantom(PhantomLabel.Normal, seed: 7)));
        await WriteDeadLetterAsync(deadLetters, new JsonArray(ScanEvent(context, "stranded.nii.gz")).ToJsonString());
        var settings = new ScanSweepSettings { Grace = TimeSpan.Zero, DeadLetterContainer = deadLetters.Name };
        var youngSettings = settings with { Grace = TimeSpan.FromMinutes(15) };

        var young = await new ScheduledSweep(context.Services, youngSettings).RunAsync();
        var queuedByYoung = await QueuedScansAsync(context);
        await WriteDeadLetterAsync(deadLetters, new JsonArray(ScanEvent(context, "stranded.nii.gz")).ToJsonString());
        var old = await new ScheduledSweep(context.Services, settings).RunAsync();

        // Young: the pending sweep waits out the grace; the dead-letter replay ingests the scan Event Grid gave up on.
        Assert.Empty(young.ReIngested);
        Assert.Equal(["stranded.nii.gz"], young.DeadLetters.Replayed);
        Assert.Equal(["stranded.nii.gz"], queuedByYoung);
        // Past the grace, still no result: the pending sweep takes it, and the replay does not ingest it a second time.
        Assert.Equal(["stranded.nii.gz"], old.ReIngested);
        Assert.Empty(old.DeadLetters.Replayed);
        Assert.Equal(1, old.DeadLetters.AlreadyHandled);
        Assert.Equal(["stranded.nii.gz"], await QueuedScansAsync(context));
        Assert.Empty(await NamesAsync(deadLetters));
        await deadLetters.DeleteIfExistsAsync();
    }

    [Theory]
    [InlineData(null, null, 15.0, "eventgrid-deadletter")]
    [InlineData("2.5", "dead-letters", 2.5, "dead-letters")]
    public void Settings_FromAppSettings_DefaultsAndOverrides(string? grace, string? container, double expectedMinutes, string expectedContainer)
    {
        var values = new Dictionary<string, string?> { [ScanSweepSettings.GraceSetting] = grace, [ScanSweepSettings.DeadLetterContainerSetting] = container };

        var settings = ScanSweepSettings.FromSettings(key => values.GetValueOrDefault(key));

        Assert.Equal(TimeSpan.FromMinutes(expectedMinutes), settings.Grace);
        Assert.Equal(expectedContainer, settings.DeadLetterContainer);
    }

    [Theory]
    [InlineData(ScanSweepSettings.GraceSetting, "0", "CtScan__SweepGraceMinutes must be a positive number of minutes; got '0'")]
    [InlineData(ScanSweepSettings.GraceSetting, "soon", "CtScan__SweepGraceMinutes must be a positive number of minutes; got 'soon'")]
    [InlineData(ScanSweepSettings.DeadLetterContainerSetting, "Dead_Letters", "CtScan__DeadLetterContainer must be a blob container name")]
    public void Settings_BadValue_NamesTheSettingAndTheValue(string key, string value, string message)
    {
        var error = Assert.Throws<PipelineConfigurationException>(() => ScanSweepSettings.FromSettings(k => k == key ? value : null));

        Assert.Contains(message, error.Message);
    }
}
