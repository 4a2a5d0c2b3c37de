using System.Text.Json.Nodes;

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
        Assert.Equal(["BlobTriggerPoison", "PreprocessScan", "ScoreScan", "ScoreScanPoison", "SweepPendingScans"], names);
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
    public void QueueFunctions_ListenOnTheContractQueues(string function, string queue)
    {
        var binding = Binding(function);
        Assert.Equal("queueTrigger", (string?)binding["type"]);
        Assert.Equal(queue, (string?)binding["queueName"]);
        Assert.Equal("AzureWebJobsStorage", (string?)binding["connection"]);
    }
}
