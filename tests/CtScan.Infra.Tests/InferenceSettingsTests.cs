using System.Text.Json.Nodes;
using CtScan.Pipeline;

namespace CtScan.Infra.Tests;

/// <summary>
/// The scoring app's inference settings as Azure reads them: the compiled template's app settings, fed to the code
/// the app runs (<see cref="PipelineOptions.FromSettings"/>), against host.json's trigger concurrency.
/// </summary>
[Collection(MainTemplateCollection.Name)]
public sealed class InferenceSettingsTests(MainTemplateFixture main)
{
    /// <summary>The Functions app's app settings with literal values (ARM expressions left out), as PipelineOptions reads them.</summary>
    internal static PipelineOptions AppOptions(MainTemplateFixture main)
    {
        var settings = new Dictionary<string, string>(LiteralSettings(main), StringComparer.Ordinal)
        {
            ["AzureWebJobsStorage__blobServiceUri"] = "https://stctfuncx7k2.blob.core.windows.net/",
            ["AzureWebJobsStorage__credential"] = "managedidentity",
        };
        return PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));
    }

    /// <summary>The app's CtScan__ settings whose values are literals in the compiled template.</summary>
    private static Dictionary<string, string> LiteralSettings(MainTemplateFixture main)
    {
        var site = main.Compiled.Single("Microsoft.Web/sites", "functions");
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var setting in site.Properties["siteConfig"]!["appSettings"]!.AsArray())
        {
            string name = (string)setting!["name"]!;
            string value = setting["value"]!.GetValue<string>();
            if (name.StartsWith("CtScan__", StringComparison.Ordinal) && !value.StartsWith('[')) settings[name] = value;
        }
        return settings;
    }

    private static JsonNode HostJson() => JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "host.json")))!;

    [Fact]
    public void AppSettings_OneInferenceOfOneScanAtATime_NoSpinning_ArenaOn_ThreadsFollowTheCores()
    {
        // Set in the template, where an operator sees and changes them, not left to the code's defaults.
        var literal = LiteralSettings(main);
        Assert.Equal("1", literal.GetValueOrDefault("CtScan__MaxConcurrentInferences"));
        Assert.Equal("1", literal.GetValueOrDefault("CtScan__MaxInferenceBatch"));
        Assert.Equal("false", literal.GetValueOrDefault("CtScan__OnnxSpinning"));
        Assert.Equal("true", literal.GetValueOrDefault("CtScan__OnnxArena"));

        var options = AppOptions(main);
        Assert.Equal(1, options.MaxConcurrentInferences);
        Assert.Equal(1, options.MaxInferenceBatch);
        Assert.False(options.OnnxScorerOptions.AllowSpinning);
        // Not set in the template: one thread per core of the instance, whatever its size.
        Assert.Equal(Environment.ProcessorCount, options.OnnxScorerOptions.IntraOpThreads);
        // The arena keeps one inference's activations, which the memory plan counts once (ScanMemorySizingTests).
        Assert.True(options.OnnxScorerOptions.EnableCpuMemArena);
    }

    [Fact]
    public void HostJson_QueueHandsMoreMessagesThanRunInference_SoDownloadsOverlapIt()
    {
        var options = AppOptions(main);
        var queues = HostJson()["extensions"]!["queues"]!;
        int inHand = queues["batchSize"]!.GetValue<int>() + queues["newBatchThreshold"]!.GetValue<int>();

        // Messages beyond those in the running inferences wait with their tensors downloaded, ready for the next batch.
        int inInference = options.MaxConcurrentInferences * options.MaxInferenceBatch;
        Assert.True(inHand > inInference, $"the queue trigger hands {inHand} messages; the inferences take {inInference} at once");
        // Each waiting message holds its 4 MiB tensor: a bounded amount, kept well under one scan's activations.
        Assert.True((inHand - inInference) * 4 * 1024 * 1024L < ScanMemorySizingTests.ActivationsPerScan);
    }
}
