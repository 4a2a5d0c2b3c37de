using System.Globalization;
using System.Text.RegularExpressions;
using CtScan.Tests;

namespace CtScan.Cli.Tests;

/// <summary><c>bench coldstart</c> with a tiny model (46³, width 0.125), one fresh child process per path, on its own Azurite.</summary>
public sealed class BenchColdStartCommandTests
{
    private static double Row(string stdout, string name)
    {
        var row = Regex.Match(stdout, $@"^{Regex.Escape(name)}\s+(\d+)\s+(\d+)\s*$", RegexOptions.Multiline);
        Assert.True(row.Success, $"no row '{name}' in:\n{stdout}");
        Assert.Equal(row.Groups[1].Value, row.Groups[2].Value); // one run: the median is the minimum
        return double.Parse(row.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task BenchColdStart_TinyModel_PrintsPhasesThatAddUpAndTheTargetCheck()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("bench", "coldstart", "--runs", "1", "--model", Fixtures.Path("models", "fixture-small46-auc075"));

        Assert.True(exit == 0, error + stdout);
        Assert.Matches(@"^model fixture-small46-auc075 \(\d+\.\d MB\) on a private Azurite; 1 fresh processes per path", stdout);
        double[] phases = [.. ((string[])["read models/current.json", "download model + SHA-256", "ONNX Runtime session (hash again, load)", "first inference (probe, zero scan)"]).Select(name => Row(stdout, name))];
        Assert.All(phases, ms => Assert.InRange(ms, 0, 60_000));
        double cold = Row(stdout, "cold start: current.json → first answer");
        Assert.InRange(cold, phases.Sum() - 2, phases.Sum() + 2); // each printed rounded to whole ms
        Assert.InRange(Row(stdout, "process start → verb (runtime, CLI)"), 1, 60_000);
        Assert.InRange(Row(stdout, "ModelProvider.AcquireAsync (the host's path)"), 1, 60_000);
        var verdict = Regex.Match(stdout, @"cold start median (\d+) ms \(\+ \d+ ms of process start-up\); target ≤ 1500 ms → (met|NOT met)");
        Assert.True(verdict.Success, stdout);
        Assert.Equal(cold, double.Parse(verdict.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Equal(cold <= 1500 ? "met" : "NOT met", verdict.Groups[2].Value);
    }
}
