using System.Text.Json.Nodes;
using CtScan.Cli.Commands;
using CtScan.Contracts;
using CtScan.Validation;

namespace CtScan.Cli.Tests;

/// <summary><c>ctscan score</c> under the work budget: hostile files are rejected as too-large, the flags change the budget.</summary>
public sealed class WorkBudgetCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static JsonNode Result(string stdout) => JsonNode.Parse(stdout)!;

    [Fact]
    public async Task Score_PhantomFollowedBy64MiBOfGzippedZeros_Exits2TooLargeNamingTheFile()
    {
        string bomb = _temp.Path("bomb.nii.gz");
        BudgetConstructions.WriteTrailingZeros(bomb, new VolumeShape(32, 32, 16), 64L << 20);

        var (exit, stdout, _) = await CliRunner.RunAsync("score", bomb);

        Assert.Equal(CliErrors.BadInput, exit);
        var result = Result(stdout);
        Assert.Equal("rejected", (string?)result["status"]);
        Assert.Equal(ScanErrorCodes.TooLarge, (string?)result["error"]!["code"]);
        Assert.StartsWith($"{bomb}: more than 4 MiB (4194304 bytes) of decompressed data follow the voxel data", (string?)result["error"]!["message"]);
    }

    [Fact]
    public async Task Score_TrailingBoundRaisedByFlag_ScoresTheSameFile()
    {
        string bomb = _temp.Path("bomb.nii.gz");
        BudgetConstructions.WriteTrailingZeros(bomb, new VolumeShape(32, 32, 16), 8L << 20);

        var (exit, stdout, _) = await CliRunner.RunAsync("score", bomb, "--max-trailing-mb", "16");

        Assert.Equal(CliErrors.Success, exit);
        Assert.Equal("scored", (string?)Result(stdout)["status"]);
    }

    [Fact]
    public async Task Score_VoxOffsetGapOf16MiB_Exits2TooLarge()
    {
        string gap = _temp.Path("gap.nii.gz");
        BudgetConstructions.WriteOffsetGap(gap, new VolumeShape(32, 32, 16), 1L << 24);

        var (exit, stdout, _) = await CliRunner.RunAsync("score", gap);

        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Equal(ScanErrorCodes.TooLarge, (string?)Result(stdout)["error"]!["code"]);
        Assert.Contains("vox_offset 16777216 leaves a gap of 16776868 bytes", (string?)Result(stdout)["error"]!["message"]);
    }

    [Fact]
    public async Task Score_MemoryBudgetOf1MiB_RefusesANormalScanWithTheFigure()
    {
        string scan = _temp.Path("normal.nii.gz");
        BudgetConstructions.WriteTrailingZeros(scan, new VolumeShape(128, 128, 64), 0);

        var (exit, stdout, _) = await CliRunner.RunAsync("score", scan, "--memory-budget-mb", "1");

        Assert.Equal(CliErrors.BadInput, exit);
        string message = (string?)Result(stdout)["error"]!["message"] ?? "";
        Assert.Equal(ScanErrorCodes.TooLarge, (string?)Result(stdout)["error"]!["code"]);
        Assert.Matches(@"^.+normal\.nii\.gz: preprocessing this 128×128×64 int16 scan needs ~\d+ MB \(the streamed resize to 64×64×46\), budget 1 MB$", message);
    }

    [Fact]
    public async Task Score_NegativeMemoryBudget_Exits2NamingTheFlag()
    {
        string scan = _temp.Path("normal.nii.gz");
        BudgetConstructions.WriteTrailingZeros(scan, new VolumeShape(32, 32, 16), 0);

        var (exit, _, error) = await CliRunner.RunAsync("score", scan, "--memory-budget-mb", "-1");

        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Contains("--memory-budget-mb: expected a positive number; got -1", error);
    }
}
