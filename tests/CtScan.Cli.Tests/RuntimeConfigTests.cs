using System.Text.Json.Nodes;

namespace CtScan.Cli.Tests;

/// <summary>
/// The runtime settings of the processes that host the pipeline locally: ctscan (`up` runs the triggers in-process) and
/// the local host (bench pipeline, bench soak), read from the runtimeconfig.json files the build writes.
/// </summary>
public sealed class RuntimeConfigTests
{
    [Theory]
    [InlineData("ctscan.runtimeconfig.json")]
    [InlineData("CtScan.LocalHost.runtimeconfig.json")]
    public void PipelineHosts_RunWithoutDynamicPgo(string file)
    {
        var properties = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, file)))!["runtimeOptions"]!["configProperties"]!.AsObject();

        // Measured in docs/benchmarks.md: the instrumented tier costs a fresh scoring host ~0.1 core-s a scan.
        Assert.Equal(false, (bool?)properties["System.Runtime.TieredPGO"]);
    }
}
