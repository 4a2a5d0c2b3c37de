using System.Text.Json;
using CtScan.Contracts;
using CtScan.Phantoms;

namespace CtScan.Pipeline.Tests;

public sealed class RetryScheduleTests
{
    private static readonly PipelineOptions Defaults = PipelineOptions.ForConnectionString("UseDevelopmentStorage=true");

    [Fact]
    public void DelayBefore_Defaults_DoublesFromTenSecondsToFiveMinutes()
    {
        var schedule = new RetrySchedule(Defaults);

        double[] seconds = [.. Enumerable.Range(1, 8).Select(n => schedule.DelayBefore(n).TotalSeconds)];

        Assert.Equal([10, 20, 40, 80, 160, 300, 300, 300], seconds);
        Assert.Equal(TimeSpan.FromMinutes(15), schedule.Window);
        // Seven retries fit in the default window: an outage of up to ~15 minutes costs time, not results.
        Assert.Equal(910, seconds.Take(7).Sum());
    }

    [Fact]
    public void WithinWindow_MeasuredFromFirstAttempt()
    {
        var time = new ManualTime();
        var schedule = new RetrySchedule(Defaults, timeProvider: time);
        var first = time.Now;

        time.Advance(TimeSpan.FromMinutes(14.9));
        Assert.True(schedule.WithinWindow(first));
        time.Advance(TimeSpan.FromMinutes(0.1));
        Assert.False(schedule.WithinWindow(first));
    }

    [Fact]
    public void FromSettings_RetrySettings_Applied()
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["CtScan__RetryWindowMinutes"] = "20",
            ["CtScan__RetryBaseDelaySeconds"] = "0.5",
            ["CtScan__RetryMaxDelaySeconds"] = "4",
        };

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));

        Assert.Equal(TimeSpan.FromMinutes(20), options.RetryWindow);
        Assert.Equal([0.5, 1, 2, 4, 4], Enumerable.Range(1, 5).Select(n => new RetrySchedule(options).DelayBefore(n).TotalSeconds));
    }

    [Theory]
    [InlineData("CtScan__RetryWindowMinutes", "0", "RetryWindow and RetryBaseDelay must be positive")]
    [InlineData("CtScan__RetryBaseDelaySeconds", "600", "RetryMaxDelay at least RetryBaseDelay")]
    [InlineData("CtScan__RetryMaxDelaySeconds", "700000", "at most 7 days")]
    [InlineData("CtScan__RetryWindowMinutes", "soon", "CtScan__RetryWindowMinutes: expected a non-negative number; got 'soon'")]
    public void FromSettings_BadRetrySetting_NamedInError(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true", [key] = value };

        var error = Assert.Throws<PipelineConfigurationException>(() => PipelineOptions.FromSettings(k => settings.GetValueOrDefault(k)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}

/// <summary>The retry paths on a real Azurite: delayed requeues, the window, the blob-trigger re-ingest, replay.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RetryTests(AzuriteFixture azurite)
{
    private static PipelineOptions Fast(PipelineOptions o) => o with { RetryBaseDelay = TimeSpan.FromSeconds(2), RetryMaxDelay = TimeSpan.FromSeconds(8) };

    private static string BlobPoison(string container, string blob, int? retry = null, DateTimeOffset? first = null) =>
        JsonSerializer.Serialize(new BlobTriggerPoisonMessage
        {
            Type = "BlobTrigger", FunctionId = "Host.Functions.PreprocessScan", BlobType = "BlockBlob", ContainerName = container, BlobName = blob,
            ETag = "\"0x8DE1\"", Retry = retry, FirstAttemptAt = first,
        });

    [Fact]
    public async Task ScoreQueue_NoModelYet_RequeuedWithDelayThenScoredOnceModelArrives()
    {
        // The model pointer is read on every request here, so the published model is seen at once.
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => Fast(o) with { ModelRefreshInterval = TimeSpan.Zero });
        var bytes = t.Phantom(PhantomLabel.Normal, seed: 3);
        await t.IngestAsync("retry/a.nii.gz", bytes);
        string first = (await t.ReceiveRequestAsync())!;

        // No model is current: loading fails, which is not the scan's fault.
        var outcome = await t.Services.ScoreQueue.HandleAsync(first);

        Assert.Null(outcome);
        Assert.Null(await t.ReadResultAsync("retry/a.nii.gz.json"));
        Assert.Null(await t.ReceiveRequestAsync()); // invisible for the first delay (2 s)
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        string second = (await t.ReceiveRequestAsync())!;
        var original = ContractsJson.DeserializeScoreRequest(first);
        var retried = ContractsJson.DeserializeScoreRequest(second);
        Assert.Null(original.Attempt);
        Assert.Equal(original with { Attempt = 2 }, retried);

        await t.PublishAsync(PipelineTestContext.ModelLow);
        var scored = await t.Services.ScoreQueue.HandleAsync(second);

        Assert.Equal(ScanStatus.Scored, scored!.Result!.Status);
        Assert.Equal(Sha256Hex.Of(bytes), (await t.ReadResultAsync("retry/a.nii.gz.json"))!.Input!.Sha256);
    }

    [Fact]
    public async Task ScoreQueue_FailsAfterWindow_FailedResultAndNoRequeue()
    {
        var time = new ManualTime { Now = DateTimeOffset.UtcNow };
        await using var t = await PipelineTestContext.CreateAsync(azurite, Fast, time);
        await t.IngestAsync("retry/late.nii.gz", t.Phantom(PhantomLabel.Abnormal, seed: 4));
        var request = ContractsJson.DeserializeScoreRequest((await t.ReceiveRequestAsync())!) with { Attempt = 7 };
        time.Advance(TimeSpan.FromMinutes(15));

        Assert.Null(await t.Services.ScoreQueue.HandleAsync(ContractsJson.Serialize(request)));

        var result = (await t.ReadResultAsync("retry/late.nii.gz.json"))!;
        Assert.Equal(ScanStatus.Failed, result.Status);
        Assert.Equal(PipelineErrorCodes.RetriesExhausted, result.Error!.Code);
        Assert.Contains("scoring failed on attempt 7, 15.0 min after it was first queued (retry window 15 min", result.Error.Message, StringComparison.Ordinal);
        Assert.Contains("ModelUnavailableException: no model is current", result.Error.Message, StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Null(await t.ReceiveRequestAsync());
    }

    [Fact]
    public async Task ScoreQueue_BadInput_RejectedNeverRetried()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, Fast);

        var outcome = await t.Services.ScoreQueue.HandleAsync("{\"scan\": 3}");

        Assert.Equal(ScanStatus.Rejected, outcome!.Result!.Status);
        Assert.Equal(PipelineErrorCodes.InvalidRequest, outcome.Result.Error!.Code);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Null(await t.ReceiveRequestAsync());
    }

    [Fact]
    public async Task PoisonScoreRequest_WithinWindow_BackOnQueueWithNextAttempt()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, Fast);
        var request = new ScoreRequest("p/q.nii.gz", new string('b', 64) + ".npy", new string('b', 64), DateTimeOffset.UtcNow.AddMinutes(-3), Attempt: 3);

        Assert.False(await t.Services.Poison.HandleScoreRequestAsync(ContractsJson.Serialize(request)));

        Assert.Empty(await t.ResultBlobNamesAsync());
        await Task.Delay(TimeSpan.FromSeconds(8.5)); // the third retry waits 2 × 2² = 8 s
        Assert.Equal(request with { Attempt = 4 }, ContractsJson.DeserializeScoreRequest((await t.ReceiveRequestAsync())!));
    }

    [Fact]
    public async Task BlobTriggerPoison_HostMessage_SchedulesDelayedReIngestThatIngests()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, Fast);
        await t.Services.Clients.Scans.UploadBlobAsync("b/scan.nii.gz", BinaryData.FromBytes(t.Phantom(PhantomLabel.Normal, seed: 8)));
        var before = DateTimeOffset.UtcNow;

        Assert.False(await t.Services.Poison.HandleBlobTriggerPoisonAsync(BlobPoison(t.Options.ScansContainer, "b/scan.nii.gz")));

        Assert.Empty(await t.ResultBlobNamesAsync());
        Assert.Null((await t.Services.Clients.BlobTriggerPoison.ReceiveMessageAsync()).Value); // delayed 2 s
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var scheduled = (await t.Services.Clients.BlobTriggerPoison.ReceiveMessageAsync()).Value!;
        var message = JsonSerializer.Deserialize<BlobTriggerPoisonMessage>(scheduled.Body.ToString())!;
        Assert.Equal((1, "b/scan.nii.gz", "Host.Functions.PreprocessScan"), (message.Retry, message.BlobName, message.FunctionId));
        Assert.InRange(message.FirstAttemptAt!.Value, before, DateTimeOffset.UtcNow);

        Assert.False(await t.Services.Poison.HandleBlobTriggerPoisonAsync(scheduled.Body.ToString()));

        var request = ContractsJson.DeserializeScoreRequest((await t.ReceiveRequestAsync())!);
        Assert.Equal("b/scan.nii.gz", request.Scan);
    }

    [Fact]
    public async Task BlobTriggerPoison_RetryFailsAfterWindow_FailedResultNamesRetries()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, Fast);
        // The tensors container is gone: preprocessing works, writing the tensor fails with a storage error.
        await t.Services.Clients.Scans.UploadBlobAsync("gone/x.nii.gz", BinaryData.FromBytes(t.Phantom(PhantomLabel.Normal, seed: 12)));
        await t.Services.Clients.Tensors.DeleteAsync();
        string message = BlobPoison(t.Options.ScansContainer, "gone/x.nii.gz", retry: 6, first: DateTimeOffset.UtcNow.AddMinutes(-16));

        Assert.True(await t.Services.Poison.HandleBlobTriggerPoisonAsync(message));

        var result = (await t.ReadResultAsync("gone/x.nii.gz.json"))!;
        Assert.Equal(ScanStatus.Failed, result.Status);
        Assert.Equal(PipelineErrorCodes.RetriesExhausted, result.Error!.Code);
        Assert.Contains("and on 6 delayed re-ingest(s) over the retry window of 15 min; last error: RequestFailedException: The specified container does not exist.", result.Error.Message, StringComparison.Ordinal);
        Assert.Contains("ctscan replay", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_PoisonQueuesAndFailedResults_BackInThePipeline()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, Fast);
        var clients = t.Services.Clients;
        var queues = PoisonQueues.All(t.Options);
        Assert.Equal([t.Options.ScoreRequestsPoisonQueue, t.Options.ScoreRequestsPoisonQueue + "-poison", t.Options.BlobTriggerPoisonQueue, t.Options.BlobTriggerPoisonQueue + "-poison"],
            queues.Select(q => q.Name));
        var poisonPoison = clients.QueueService.GetQueueClient(t.Options.ScoreRequestsPoisonQueue + "-poison");
        var blobPoisonPoison = clients.QueueService.GetQueueClient(t.Options.BlobTriggerPoisonQueue + "-poison");
        await poisonPoison.CreateIfNotExistsAsync();
        await blobPoisonPoison.CreateIfNotExistsAsync();
        try
        {
            // A request that ran out of retries long ago, one whose scan was answered since, a blob trigger that failed
            // past its poison handler, and a scan with a failed (retries-exhausted) result.
            var old = DateTimeOffset.UtcNow.AddHours(-1);
            var stuck = new ScoreRequest("r/stuck.nii.gz", new string('a', 64) + ".npy", new string('a', 64), old, Attempt: 8);
            var answered = new ScoreRequest("r/answered.nii.gz", new string('c', 64) + ".npy", new string('c', 64), old);
            await t.Services.Results.WriteAsync(new ScanResult { Scan = "r/answered.nii.gz", Status = ScanStatus.Rejected, Error = new ScanError("unreadable-input", "x"), CreatedAt = DateTimeOffset.UtcNow });
            await poisonPoison.SendMessageAsync(ContractsJson.Serialize(stuck));
            await clients.ScoreRequestsPoison.SendMessageAsync(ContractsJson.Serialize(answered));
            await poisonPoison.SendMessageAsync("not a request");
            await clients.Scans.UploadBlobAsync("r/blob.nii.gz", BinaryData.FromBytes(t.Phantom(PhantomLabel.Normal, seed: 9)));
            await blobPoisonPoison.SendMessageAsync(BlobPoison(t.Options.ScansContainer, "r/blob.nii.gz"));
            await clients.Scans.UploadBlobAsync("r/failed.nii.gz", BinaryData.FromBytes(t.Phantom(PhantomLabel.Abnormal, seed: 10)));
            await t.Services.Results.WriteAsync(new ScanResult
            {
                Scan = "r/failed.nii.gz", Status = ScanStatus.Failed, Error = new ScanError(PipelineErrorCodes.RetriesExhausted, "outage"), CreatedAt = old,
            });
            var before = DateTimeOffset.UtcNow;

            var report = await new PoisonReplayer(t.Services).ReplayAsync();

            Assert.Equal(1, report.Requeued[poisonPoison.Name]);
            Assert.Equal(0, report.Requeued[t.Options.ScoreRequestsPoisonQueue]);
            Assert.Equal((1, 1, 0), (report.AlreadyAnswered, report.Unreadable, report.Gone));
            Assert.Equal(["r/blob.nii.gz", "r/failed.nii.gz"], report.ReIngested.Order());
            var requests = new List<ScoreRequest>();
            while (await t.ReceiveRequestAsync() is { } text) requests.Add(ContractsJson.DeserializeScoreRequest(text));
            Assert.Equal(["r/blob.nii.gz", "r/failed.nii.gz", "r/stuck.nii.gz"], requests.Select(r => r.Scan).Order());
            var requeued = requests.Single(r => r.Scan == "r/stuck.nii.gz");
            Assert.Equal(stuck with { EnqueuedAt = requeued.EnqueuedAt, Attempt = null }, requeued);
            Assert.True(requeued.EnqueuedAt >= before, "the replayed request gets a fresh retry window");
            var counts = await PoisonQueues.CountAsync(clients);
            // Only the unreadable message stays (received, so invisible for now: the approximate count still has it).
            Assert.Equal([0, 1, 0, 0], counts.Select(c => c.ApproximateMessages));
        }
        finally
        {
            await poisonPoison.DeleteIfExistsAsync();
            await blobPoisonPoison.DeleteIfExistsAsync();
        }
    }
}
