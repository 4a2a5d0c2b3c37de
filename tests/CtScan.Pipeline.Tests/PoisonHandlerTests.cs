using System.Text.Json;
using CtScan.Contracts;

namespace CtScan.Pipeline.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class PoisonHandlerTests(AzuriteFixture azurite)
{
    private static string Request(string scan, DateTimeOffset enqueuedAt) =>
        ContractsJson.Serialize(new ScoreRequest(scan, new string('b', 64) + ".npy", new string('b', 64), enqueuedAt));

    /// <summary>Queued longer ago than the retry window (15 min by default): no retry left.</summary>
    private static DateTimeOffset PastWindow => DateTimeOffset.UtcNow.AddMinutes(-20);

    [Fact]
    public async Task HandleScoreRequestAsync_NoResultAfterWindow_WritesFailedWithAttempts()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { MaxDequeueCount = 3 });

        bool written = await t.Services.Poison.HandleScoreRequestAsync(Request("dir/p.nii.gz", PastWindow));

        Assert.True(written);
        var result = (await t.ReadResultAsync("dir/p.nii.gz.json"))!;
        Assert.Equal(ScanStatus.Failed, result.Status);
        Assert.Equal(PipelineErrorCodes.RetriesExhausted, result.Error!.Code);
        Assert.Contains("scoring failed on attempt 1, 20.0 min after it was first queued (retry window 15 min", result.Error.Message);
        Assert.Contains("last error: the host's 3 tries of attempt 1 all failed", result.Error.Message);
    }

    [Fact]
    public async Task HandleScoreRequestAsync_NewerResultExists_KeepsIt()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        var scored = new ScanResult
        {
            Scan = "k.nii", Status = ScanStatus.Scored, ProbabilityAbnormal = 0.25, Label = "normal", Threshold = 0.5,
            Model = new ModelReference("v1", new string('c', 64)), Input = new InputDescription(new string('d', 64), [64, 64, 16], "int16"),
            CreatedAt = DateTimeOffset.UtcNow,
        };
        await t.Services.Results.WriteAsync(scored);

        bool written = await t.Services.Poison.HandleScoreRequestAsync(Request("k.nii", PastWindow));

        Assert.False(written);
        var kept = (await t.ReadResultAsync("k.nii.json"))!;
        Assert.Equal(ScanStatus.Scored, kept.Status);
        Assert.Equal(0.25, kept.ProbabilityAbnormal);
    }

    [Fact]
    public async Task HandleScoreRequestAsync_StaleResultFromEarlierUpload_Replaced()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.Services.Results.WriteAsync(new ScanResult { Scan = "s.nii", Status = ScanStatus.Scored, CreatedAt = DateTimeOffset.UtcNow.AddHours(-1) });

        Assert.True(await t.Services.Poison.HandleScoreRequestAsync(Request("s.nii", PastWindow)));
        Assert.Equal(ScanStatus.Failed, (await t.ReadResultAsync("s.nii.json"))!.Status);
    }

    /// <summary>Without an ingestor (no delayed re-ingest), the blob-trigger poison handler fails the scan at once.</summary>
    [Fact]
    public async Task HandleBlobTriggerPoisonAsync_NoIngestor_WritesFailedForBlob_UnlessResultExists()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        var poison = new PoisonHandler(t.Services.Clients, t.Services.Results);
        await t.Services.Clients.Scans.UploadBlobAsync("folder/b.nii.gz", BinaryData.FromString("x"));
        string message = JsonSerializer.Serialize(new
        {
            Type = "BlobTrigger", FunctionId = "Host.Functions.PreprocessScan", BlobType = "BlockBlob",
            ContainerName = t.Options.ScansContainer, BlobName = "folder/b.nii.gz", ETag = "\"0x8DE1\"",
        });

        Assert.True(await poison.HandleBlobTriggerPoisonAsync(message));
        var result = (await t.ReadResultAsync("folder/b.nii.gz.json"))!;
        Assert.Equal(ScanStatus.Failed, result.Status);
        Assert.Contains("PreprocessScan failed after 5 attempts", result.Error!.Message);

        // A second poison message for the same blob leaves the (newer-than-the-blob) result alone.
        Assert.False(await poison.HandleBlobTriggerPoisonAsync(message));
    }

    [Fact]
    public async Task HandleBlobTriggerPoisonAsync_UnsafeBlobName_StaysInsideResults()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        string message = JsonSerializer.Serialize(new { ContainerName = "scans", BlobName = "../../x.nii" });

        Assert.True(await t.Services.Poison.HandleBlobTriggerPoisonAsync(message));

        Assert.StartsWith(ScanNames.UnsafeNamesFolder + "/", Assert.Single(await t.ResultBlobNamesAsync()));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("{\"BlobName\":\"\"}")]
    public async Task PoisonHandlers_UnreadableMessage_RecordedNotDropped(string message)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);

        Assert.True(await t.Services.Poison.HandleBlobTriggerPoisonAsync(message));
        Assert.True(await t.Services.Poison.HandleScoreRequestAsync(message + " "));

        var names = await t.ResultBlobNamesAsync();
        Assert.Equal(2, names.Count);
        Assert.All(names, n => Assert.StartsWith(ScanNames.InvalidMessagesFolder + "/", n));
    }
}
