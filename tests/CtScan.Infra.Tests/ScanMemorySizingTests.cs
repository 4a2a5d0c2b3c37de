using System.Text.Json.Nodes;
using CtScan.Nifti;
using CtScan.Pipeline;
using CtScan.Preprocessing;

namespace CtScan.Infra.Tests;

/// <summary>
/// The memory budget per scan the template gives the Functions app (CtScan__ScanMemoryBudgetBytes), read by the code
/// the app runs and checked against the instance it runs on: the scans one instance preprocesses at once (host.json)
/// and the model must fit the instance memory, and an ordinary chest CT stored RAS must fit the budget.
/// </summary>
[Collection(MainTemplateCollection.Name)]
public sealed class ScanMemorySizingTests(MainTemplateFixture main)
{
    private const long MiB = 1024 * 1024;

    /// <summary>The Functions host and the OS (docs/operations.md keeps 512 MiB of a 2048 MB instance for them).</summary>
    private const long HostAndSystem = 512 * MiB;

    /// <summary>The worker without scans or inferences: runtime, ONNX Runtime session, tensors in hand.</summary>
    internal const long WorkerBase = 724 * MiB;

    /// <summary>One seed-size scan's activations in an inference (the first convolution's output alone is 252 MB).</summary>
    internal const long ActivationsPerScan = 300 * MiB;

    /// <summary>The worker with the inferences the template's settings allow at once: one inference of one scan is
    /// 1024 MiB (docs/operations.md measured 1045–1311 MiB for the whole worker with scans in flight).</summary>
    private long ModelAllowance
    {
        get
        {
            var options = InferenceSettingsTests.AppOptions(main);
            return WorkerBase + options.MaxConcurrentInferences * options.MaxInferenceBatch * ActivationsPerScan;
        }
    }

    private const string Expression = "[string(mul(variables('scanMemoryBudgetMiB')[string(parameters('instanceMemoryMB'))], 1048576))]";

    private JsonObject FunctionsModule => main.Compiled.Module("functions")["properties"]!["template"]!.AsObject();

    /// <summary>The setting's value as ARM computes it for an instance of <paramref name="instanceMemoryMB"/>.</summary>
    private string BudgetSetting(int instanceMemoryMB)
    {
        var site = main.Compiled.Single("Microsoft.Web/sites", "functions");
        var value = site.Properties["siteConfig"]!["appSettings"]!.AsArray()
            .Single(s => (string?)s!["name"] == "CtScan__ScanMemoryBudgetBytes")!["value"]!.GetValue<string>();
        // The one form this test evaluates; a new formula must be evaluated here on purpose.
        Assert.Equal(Expression, value);
        var table = FunctionsModule["variables"]!["scanMemoryBudgetMiB"]!.AsObject();
        Assert.True(table.ContainsKey(instanceMemoryMB.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            $"scanMemoryBudgetMiB has no entry for the allowed instance size {instanceMemoryMB} MB: the deployment would fail");
        return (table[instanceMemoryMB.ToString(System.Globalization.CultureInfo.InvariantCulture)]!.GetValue<long>() * 1048576).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private IReadOnlyList<int> AllowedInstanceSizes()
    {
        var top = main.Compiled.Root["parameters"]!["functionsInstanceMemoryMB"]!["allowedValues"]!.AsArray().Select(v => v!.GetValue<int>()).ToList();
        var module = FunctionsModule["parameters"]!["instanceMemoryMB"]!["allowedValues"]!.AsArray().Select(v => v!.GetValue<int>()).ToList();
        Assert.Equal(top, module);
        Assert.Contains(main.Compiled.DefaultOf("functionsInstanceMemoryMB")!.GetValue<int>(), top);
        return top;
    }

    private static int ScansPreprocessedAtOnce()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "host.json")))!;
        return host["extensions"]!["blobs"]!["maxDegreeOfParallelism"]!.GetValue<int>();
    }

    private static PipelineOptions OptionsUnder(string budget)
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage__blobServiceUri"] = "https://stctfuncx7k2.blob.core.windows.net/",
            ["AzureWebJobsStorage__credential"] = "managedidentity",
            ["CtScan__ScanMemoryBudgetBytes"] = budget,
        };
        return PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));
    }

    [Fact]
    public void Budget_TimesScansAtOnce_PlusModel_FitsEveryAllowedInstance()
    {
        int atOnce = ScansPreprocessedAtOnce();
        Assert.Equal(2, atOnce);
        Assert.Equal(1024 * MiB, ModelAllowance);
        foreach (int instanceMB in AllowedInstanceSizes())
        {
            long budget = OptionsUnder(BudgetSetting(instanceMB)).WorkBudget.MaxMemoryBytes;
            long instance = instanceMB * MiB;

            long used = budget * atOnce + ModelAllowance + HostAndSystem;
            Assert.True(used <= instance, $"{instanceMB} MB instance: {atOnce} × {budget} + model {ModelAllowance} + host {HostAndSystem} = {used} bytes");
            // Not wasted either: within an eighth of the instance of what is left.
            Assert.True(used > instance - instance / 8, $"{instanceMB} MB instance: only {used} bytes of {instance} planned");
        }
    }

    [Theory]
    [InlineData(NiftiDataType.Int16, false)]
    [InlineData(NiftiDataType.Int16, true)]
    [InlineData(NiftiDataType.UInt8, false)]
    public void ChestCt512By512By300StoredRas_FitsTheDefaultInstancesBudget(NiftiDataType type, bool scaled)
    {
        long budget = OptionsUnder(BudgetSetting(main.Compiled.DefaultOf("functionsInstanceMemoryMB")!.GetValue<int>())).WorkBudget.MaxMemoryBytes;
        var stored = new VolumeShape(512, 512, 300);
        var options = new PreprocessingOptions { TargetOrientation = "LPS" }; // the seed's 128×128×64, the largest target
        var ras = AxisOrientation.Parse("RAS");
        var map = AxisOrientation.Parse(options.TargetOrientation).MappingFrom(ras);
        Assert.False(Reorientation.IsIdentity(map));

        // What ScanIntake estimates before reading: the reader's raw slice plus the path's peak.
        long needed = stored.SliceVoxelCount * (long)type.BytesPerVoxel()
                      + PreprocessingMemory.Peak(stored, stored, options.TargetShape, reorient: true, resampled: null, CompactVolume.StorageOf(type, scaled));

        Assert.True(needed <= budget, $"a 512×512×300 {type.Name()} scan stored RAS needs {needed} bytes; the budget is {budget}");
        // The float64 path this budget replaced needed 16 bytes a voxel: it would refuse the scan.
        Assert.True(PreprocessingMemory.Peak(stored, stored, options.TargetShape, reorient: true, resampled: null) > budget);
    }
}
