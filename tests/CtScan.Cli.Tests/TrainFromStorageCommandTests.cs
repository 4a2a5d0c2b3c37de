using Azure.Storage.Blobs;
using CtScan.LocalHost.Azurite;

namespace CtScan.Cli.Tests;

/// <summary>
/// <c>ctscan train --from-storage</c> is a thin verb over the retraining job (src/CtScan.Retraining, tested in
/// CtScan.Training.Tests): these check its argument rules and how the job's failures become exit codes.
/// </summary>
public sealed class TrainFromStorageCommandTests
{
    private static readonly string[] SmallModel = ["--width", "0.5", "--input", "46", "46", "46", "--epochs", "1"];

    [Fact]
    public async Task FromStorage_EmptyTrainingContainer_Exit2NamingTheContainer()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("training").CreateIfNotExistsAsync();
        using var temp = new TempFolder();

        var (exit, _, error) = await CliRunner.RunAsync(["train", "--from-storage", "--connection", azurite.ConnectionString, "--out", temp.Path("work"), .. SmallModel]);

        Assert.Equal(2, exit);
        Assert.Contains("error: the training container 'training'", error);
        Assert.Contains("has no training scans", error);
    }

    [Fact]
    public async Task FromStorage_StorageUnreachable_Exit4WithAClearMessage()
    {
        using var temp = new TempFolder();
        string closed = $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};BlobEndpoint=http://127.0.0.1:9/{AzuriteServer.AccountName};QueueEndpoint=http://127.0.0.1:9/{AzuriteServer.AccountName};";

        var (exit, _, error) = await CliRunner.RunAsync(["train", "--from-storage", "--connection", closed, "--out", temp.Path("work"), .. SmallModel]);

        Assert.Equal(4, exit); // storage unavailable (docs/cli-errors.md)
        Assert.StartsWith("error: cannot reach the storage account", error);
        Assert.Contains("storage unreachable: cannot read http://127.0.0.1:9/devstoreaccount1/training", error); // the container it tried
    }

    [Theory]
    [InlineData(new[] { "train", "data", "--from-storage", "--connection", "UseDevelopmentStorage=true" }, "give either DATA")]
    [InlineData(new[] { "train", "--out", "run" }, "give the training data folder DATA, or --from-storage")]
    [InlineData(new[] { "train", "data" }, "--out is required")]
    [InlineData(new[] { "train", "data", "--out", "run", "--force" }, "--force and --no-promote apply to --from-storage only")]
    public async Task Train_InconsistentArguments_Exit2WithTheReason(string[] args, string message)
    {
        var (exit, _, error) = await CliRunner.RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains(message, error);
    }
}
