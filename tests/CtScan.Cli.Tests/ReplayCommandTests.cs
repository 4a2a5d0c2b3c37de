using CtScan.Cli.Commands;
using CtScan.LocalHost.Azurite;

namespace CtScan.Cli.Tests;

/// <summary><c>ctscan replay</c> on a private Azurite (default names), and against storage that does not answer.</summary>
public sealed class ReplayCommandTests(CliAzuriteFixture azurite) : IClassFixture<CliAzuriteFixture>
{
    [Fact]
    public async Task Replay_PoisonPoisonRequest_MovedBackToScoreRequestsAndCounted()
    {
        using var services = new Pipeline.PipelineServices(Pipeline.PipelineOptions.ForConnectionString(azurite.ConnectionString));
        await services.Storage.EnsureCreatedAsync();
        var poisonPoison = services.Clients.QueueService.GetQueueClient("score-requests-poison-poison");
        await poisonPoison.CreateIfNotExistsAsync();
        string scan = $"cli-replay/{Guid.NewGuid():N}.nii.gz";
        var stuck = new Contracts.ScoreRequest(scan, new string('e', 64) + ".npy", new string('e', 64), DateTimeOffset.UtcNow.AddHours(-2), Attempt: 9);
        await new Azure.Storage.Queues.QueueClient(azurite.ConnectionString, poisonPoison.Name,
            new Azure.Storage.Queues.QueueClientOptions { MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64 }).SendMessageAsync(Contracts.ContractsJson.Serialize(stuck));

        var run = await CliRunner.RunAsync("replay", "--no-failed", "--connection", azurite.ConnectionString);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("score-requests-poison-poison: 1 score request(s) moved back to score-requests", run.Output);
        Assert.Contains("1 request(s) requeued, 0 scan(s) ingested again, 0 already answered, 0 gone, 0 unreadable left in place", run.Output);
        Assert.Contains("score-requests-poison-poison: 0 message(s) now (no trigger reads it)", run.Output);
        var moved = (await services.Clients.ScoreRequests.ReceiveMessageAsync()).Value!;
        await services.Clients.ScoreRequests.DeleteMessageAsync(moved.MessageId, moved.PopReceipt);
        var request = Contracts.ContractsJson.DeserializeScoreRequest(moved.Body.ToString());
        Assert.Equal((scan, (int?)null), (request.Scan, request.Attempt));
        Assert.True(request.EnqueuedAt > DateTimeOffset.UtcNow.AddMinutes(-1), $"a fresh retry window: {request.EnqueuedAt:O}");
    }

    [Fact]
    public async Task Replay_StorageNotRunning_Exits4()
    {
        int port = AzuriteServer.FreePort();
        string nothing = $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};" +
                         $"BlobEndpoint=http://127.0.0.1:{port}/{AzuriteServer.AccountName};QueueEndpoint=http://127.0.0.1:{port}/{AzuriteServer.AccountName};";

        var run = await CliRunner.RunAsync("replay", "--connection", nothing);

        Assert.Equal(CliErrors.StorageUnavailable, run.ExitCode);
        Assert.Contains($"cannot reach the storage account (3 tries): Connection refused (127.0.0.1:{port})", run.Error);
    }
}
