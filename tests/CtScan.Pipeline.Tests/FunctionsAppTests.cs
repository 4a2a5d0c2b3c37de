using System.Text.Json.Nodes;
using CtScan.Contracts;
using Microsoft.Extensions.Configuration;
using CtFunctions;
using Microsoft.Extensions.DependencyInjection;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// The Azure Functions app cannot start here (no Functions host), but its build generates functions.metadata, which
/// is what the host reads to bind triggers: these tests check it lists the four functions with the right bindings.
/// </summary>
public class FunctionsAppTests
{
    internal static JsonArray Metadata()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory); // tests/CtScan.Pipeline.Tests/bin/<Config>/net10.0/
        string configuration = testBin.Parent!.Name;
        var path = CtScan.Tests.Fixtures.Path("..", "..", "src", "CtFunctions", "bin", configuration, "net10.0", "functions.metadata");
        Assert.True(File.Exists(path), $"no functions.metadata at {path}: the CtFunctions build did not generate it");
        return JsonNode.Parse(File.ReadAllText(path))!.AsArray();
    }

    private static JsonObject Binding(string function)
    {
        var entry = Metadata().Single(f => (string?)f!["name"] == function)!;
        Assert.Equal("dotnet-isolated", (string?)entry["language"]);
        return entry["bindings"]!.AsArray().Single()!.AsObject();
    }

    [Fact]
    public void Metadata_ListsExactlyThePipelinesFunctions()
    {
        var names = Metadata().Select(f => (string)f!["name"]!).Order().ToArray();
        Assert.Equal(["BlobTriggerPoison", "ExplainScan", "PreprocessScan", "ScoreScan", "ScoreScanPoison", "SweepPendingScans"], names);
    }

    [Fact]
    public void PreprocessScan_IsAnEventGridBlobTriggerOnScans()
    {
        var binding = Binding("PreprocessScan");
        Assert.Equal("blobTrigger", (string?)binding["type"]);
        Assert.Equal("scans/{name}", (string?)binding["path"]);
        Assert.Equal("EventGrid", (string?)binding["source"]); // Flex Consumption supports only this source
        Assert.Equal("AzureWebJobsStorage", (string?)binding["connection"]);
    }

    [Theory]
    [InlineData("ScoreScan", "score-requests")]
    [InlineData("ScoreScanPoison", "score-requests-poison")]
    [InlineData("BlobTriggerPoison", "webjobs-blobtrigger-poison")]
    [InlineData("ExplainScan", "explain-requests")]
    public void QueueFunctions_ListenOnTheContractQueues(string function, string queue)
    {
        var binding = Binding(function);
        Assert.Equal("queueTrigger", (string?)binding["type"]);
        Assert.Equal(queue, (string?)binding["queueName"]);
        Assert.Equal("AzureWebJobsStorage", (string?)binding["connection"]);
    }
}

/// <summary>
/// The Functions app's own service registrations (<see cref="CtFunctions.FunctionsAppServices.AddCtScanPipeline"/>, what
/// Program.cs calls) built from app settings against Azurite, and a function class activated from them the way the
/// worker does (ActivatorUtilities) and run: the closest this machine gets to the deployed app's start.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class FunctionsAppWiringTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task AppWiring_FromSettings_ScoreScanPoisonWritesAFailedResult()
    {
        var cache = Directory.CreateTempSubdirectory("ctscan-functions-wiring-");
        try
        {
            // App settings reach the worker as environment variables; configuration reads '__' as ':'.
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["AzureWebJobsStorage"] = azurite.ConnectionString,
                    ["CtScan:ModelCacheDirectory"] = cache.FullName,
                    ["CtScan:LogScanNames"] = "False",
                })
                .Build();
            await using var provider = new ServiceCollection().AddLogging().AddCtScanPipeline(configuration).BuildServiceProvider();
            var pipeline = provider.GetRequiredService<PipelineServices>();
            await pipeline.Storage.EnsureCreatedAsync();
            string scan = $"wiring/{Guid.NewGuid():N}.nii.gz";
            // Queued longer ago than the retry window (default 15 min): the poison trigger fails it instead of retrying.
            string message = ContractsJson.Serialize(new ScoreRequest(scan, new string('c', 64) + ".npy", new string('c', 64), DateTimeOffset.UtcNow.AddMinutes(-20)));

            var function = ActivatorUtilities.CreateInstance<CtFunctions.ScoreScanPoison>(provider);
            await function.RunAsync(message, CancellationToken.None);

            var stored = await pipeline.Clients.Results.GetBlobClient(ScanNames.ResultBlobName(scan)).DownloadContentAsync();
            var result = ContractsJson.DeserializeResult(stored.Value.Content.ToString());
            Assert.Equal(ScanStatus.Failed, result.Status);
            Assert.Equal(PipelineErrorCodes.RetriesExhausted, result.Error!.Code);
            Assert.Equal(scan, result.Scan);
            Assert.False(pipeline.Options.LogScanNames);
            // The worker hands glibc's free memory back while it runs (the soak's working-set growth).
            Assert.Contains(provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>(), s => s is CtFunctions.NativeMemoryTrim);
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }
}
