using System.Text.Json.Nodes;

namespace CtScan.Infra.Tests;

/// <summary>
/// The Functions worker's runtime settings as the .NET host reads them in Azure: CtFunctions.runtimeconfig.json, built
/// from the project (the same file deploys with the app).
/// </summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void FunctionsWorker_RunsWithoutDynamicPgo()
    {
        var properties = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "CtFunctions.runtimeconfig.json")))!
            ["runtimeOptions"]!["configProperties"]!.AsObject();

        // Measured in docs/benchmarks.md: the instrumented tier costs a fresh scoring host ~0.1 core-s a scan.
        Assert.Equal(false, (bool?)properties["System.Runtime.TieredPGO"]);
    }
}
