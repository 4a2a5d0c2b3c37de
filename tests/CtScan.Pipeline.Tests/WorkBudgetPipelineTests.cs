using CtScan.Contracts;
using CtScan.Tests.Validation;
using CtScan.Validation;

namespace CtScan.Pipeline.Tests;

/// <summary>The pipeline's ingest step holds every scan to the work budget: over it, the stored result is <c>rejected</c>, <c>too-large</c>.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class WorkBudgetPipelineTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Ingest_GzipBombVoxOffsetGapAndOverBudgetScan_RejectedTooLarge()
    {
        // A 1 MB memory budget (as CtScan__ScanMemoryBudgetBytes sets it) refuses the 128×128×64 scan, not the small ones.
        await using var t = await PipelineTestContext.CreateAsync(azurite,
            options => options with { WorkBudget = options.WorkBudget with { MaxMemoryBytes = 1_000_000 } });
        string model = HostileCorpus.WriteModel(t.TempPath("model"));
        await t.Services.Registry.PublishAsync(model, new PublishOptions { Promote = true, Force = true });
        string bomb = t.TempPath("bomb.nii.gz"), gap = t.TempPath("gap.nii.gz"), big = t.TempPath("big.nii.gz");
        BudgetConstructions.WriteTrailingZeros(bomb, new VolumeShape(32, 32, 16), 64L << 20);
        BudgetConstructions.WriteOffsetGap(gap, new VolumeShape(32, 32, 16), 1L << 24);
        BudgetConstructions.WriteTrailingZeros(big, new VolumeShape(128, 128, 64), 0);

        var expected = new Dictionary<string, string>
        {
            ["bomb.nii.gz"] = "bomb.nii.gz: more than 4 MiB (4194304 bytes) of decompressed data follow the voxel data",
            ["gap.nii.gz"] = "gap.nii.gz: vox_offset 16777216 leaves a gap of 16776868 bytes before the voxel data",
            ["big.nii.gz"] = "big.nii.gz: preprocessing this 128×128×64 int16 scan needs ~",
        };
        foreach (var (name, message) in expected)
        {
            var ingest = await t.IngestAsync(name, await File.ReadAllBytesAsync(t.TempPath(name)));
            Assert.False(ingest.Queued, name);
            var result = await t.ReadResultAsync(ScanNames.ResultBlobName(name));
            Assert.Equal(ScanStatus.Rejected, result!.Status);
            Assert.Equal(ScanErrorCodes.TooLarge, result.Error!.Code);
            Assert.StartsWith(message, result.Error.Message);
        }
    }

    [Fact]
    public void FromSettings_WorkBudgetSettings_SetTheBudgetAndTheReaderBounds()
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["CtScan__ScanMemoryBudgetBytes"] = "500000000",
            ["CtScan__ScanTimeBudgetSeconds"] = "30",
            ["CtScan__MaxTrailingDataBytes"] = "1048576",
            ["CtScan__MaxDataOffsetGapBytes"] = "65536",
        };

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));

        Assert.Equal(new ScanWorkBudget { MaxMemoryBytes = 500_000_000, MaxDuration = TimeSpan.FromSeconds(30) }, options.WorkBudget);
        Assert.Equal(1_048_576, options.NiftiReadOptions.MaxTrailingDataBytes);
        Assert.Equal(65_536, options.NiftiReadOptions.MaxDataOffsetGapBytes);
    }

    [Fact]
    public void FromSettings_ZeroMemoryBudget_RefusedNamingTheSetting()
    {
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true", ["CtScan__ScanMemoryBudgetBytes"] = "0" };

        var error = Assert.Throws<PipelineConfigurationException>(() => PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key)));

        Assert.StartsWith("WorkBudget: the memory budget must be positive; got 0 bytes", error.Message);
    }
}
