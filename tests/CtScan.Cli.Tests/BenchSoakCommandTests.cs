using System.Globalization;
using System.Text.RegularExpressions;
using CtScan.Tests;

namespace CtScan.Cli.Tests;

/// <summary>
/// <c>bench soak</c> at a tiny size (4 scans of 64×64×16 in waves of 1, a 46³ fixture model): the table's counts come
/// from the host process itself, and the verdict compares the quarters.
/// </summary>
public sealed class BenchSoakCommandTests
{
    [Fact]
    public async Task BenchSoak_FourScansOneAtATime_SamplesRealCountsAndGivesAVerdict()
    {
        string model = Fixtures.Path("models", "fixture-small46-auc075");

        var (exit, stdout, error) = await CliRunner.RunAsync("bench", "soak", "--model", model, "--scans", "4", "--every", "1", "--size", "64", "64", "16");

        Assert.True(exit == 0, error + stdout);
        Assert.Matches(@"^soak: 4 scans of 64×64×16 in waves of 1 through one local host \(pid \d+\), model fixture-small46-auc075", stdout);
        var rows = Regex.Matches(stdout, @"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/(\d+)\s*$", RegexOptions.Multiline);
        Assert.Equal(["1", "2", "3", "4"], rows.Select(r => r.Groups[1].Value));
        foreach (Match row in rows)
        {
            int Value(int group) => int.Parse(row.Groups[group].Value, CultureInfo.InvariantCulture);
            Assert.True(Value(3) > 0, $"working set: {row.Value}");
            Assert.True(Value(5) > 0, $"GC committed: {row.Value}");
            Assert.True(Value(6) > 2, $"open fds (a host has stdio, sockets, the model file): {row.Value}");
            Assert.True(Value(7) > 1, $"threads: {row.Value}");
            // The model cache holds the served version's model.onnx and manifest.json; no spool file outlives its scan.
            Assert.Equal(2, Value(8));
            Assert.Equal((1, 1), (Value(9), Value(10)));
        }
        Assert.Contains("results: 4 scored", stdout);
        Assert.Matches(@"second quarter: after 2–2 scans; last quarter: after 4–4 scans", stdout);
        Assert.Matches(@"(?m)^  temp files\s+2\.0 →\s+2\.0 \(slack 2\): flat$", stdout);
        Assert.Matches(@"(?m)^verdict: (flat|growing \(.+\))$", stdout);
    }
}
