using System.Globalization;
using System.Text.RegularExpressions;
using CtScan.Tests;

namespace CtScan.Cli.Tests;

/// <summary>
/// <c>bench pipeline</c> end to end at a small size: its own Azurite, the local host as a child process, a tiny model
/// (46³, width 0.125), one latency run, a batch of two and one memory wave of two.
/// </summary>
public sealed class BenchPipelineCommandTests
{
    private static double Number(string text) => double.Parse(text, CultureInfo.CurrentCulture);

    private static (double P50, double P95) Row(string stdout, string part)
    {
        var row = Regex.Match(stdout, $@"^\s*{Regex.Escape(part)}\s+(\d+)\s+(\d+)\s*$", RegexOptions.Multiline);
        Assert.True(row.Success, $"no latency row '{part}' in:\n{stdout}");
        return (Number(row.Groups[1].Value), Number(row.Groups[2].Value));
    }

    [Fact]
    public async Task BenchPipeline_SmallRun_ReportsLatencyThroughputAndOneSession()
    {
        string model = Fixtures.Path("models", "fixture-small46-auc075");

        var (exit, stdout, error) = await CliRunner.RunAsync("bench", "pipeline", "--model", model,
            "--size", "64", "64", "16", "--runs", "1", "--scans", "2", "--memory-scans", "2");

        Assert.True(exit == 0, error + stdout);
        Assert.Matches(@"^model fixture-small46-auc075; local host pid \d+", stdout);
        Assert.Contains("latency: 1 sequential runs of one 64×64×16 int16 .nii.gz phantom", stdout);

        // The latency table: p50 and p95 per part; with one run both are that run's value, and the parts fit in the total.
        var total = Row(stdout, "upload → result");
        var queueWait = Row(stdout, "queue wait (enqueued → ScoreScan start)");
        var inference = Row(stdout, "inference");
        Assert.True(total.P50 > 0 && total.P50 == total.P95, $"one run: p50 = p95 = its total; got {total}");
        Assert.Equal(inference.P50, inference.P95);
        Assert.InRange(inference.P50, 0, total.P50);
        Assert.InRange(queueWait.P50, 0, total.P50);

        var throughput = Regex.Match(stdout, @"throughput: 2 × 64×64×16 uploaded in (\S+) s, all results after (\S+) s → (\S+) scans/min \((\d+) scored;");
        Assert.True(throughput.Success, stdout);
        double seconds = Number(throughput.Groups[2].Value);
        // scans/min = 2 / seconds × 60, up to the rounding of the printed seconds (±0.05 s) and rate (±0.05).
        double rate = 2 / seconds * 60;
        Assert.Equal(rate, Number(throughput.Groups[3].Value), rate * 0.05 / seconds + 0.05);
        Assert.Equal("2", throughput.Groups[4].Value);

        // Where the cores' time went: each process's CPU seconds, whole = upload + after, per scan = whole / 2.
        Assert.Matches(@"where the \d+ cores' time went \(core-seconds, from /proc\): upload phase [\d.]+ s, then [\d.]+ s to the last result; load average [\d.]+ at the start, [\d.]+ at the end", stdout);
        foreach (string process in new[] { "scoring host (preprocess, score, storage)", "Azurite (node)", "bench (uploads, result polling)", "idle" })
        {
            var cpu = Regex.Match(stdout, $@"^\s+{Regex.Escape(process)}\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*$", RegexOptions.Multiline);
            Assert.True(cpu.Success, $"no CPU row '{process}' in:\n{stdout}");
            double upload = Number(cpu.Groups[1].Value), after = Number(cpu.Groups[2].Value), whole = Number(cpu.Groups[3].Value), perScan = Number(cpu.Groups[4].Value);
            Assert.Equal(upload + after, whole, 0.11);
            Assert.Equal(whole / 2, perScan, 0.06);
            // The per-scan column has three decimals; the bench's own CPU for two tiny scans can round to 0.0 in the others.
            if (process != "idle") Assert.True(perScan > 0, $"{process} used no CPU: {cpu.Value}");
        }
        Assert.Matches(@"compute bound on \d+ idle cores: scoring host alone \d+ scans/min \([\d.]+ core-s a scan\)", stdout);
        Assert.Matches(@"inference [\d.]+ \(batches of 1\.0 on average\)", stdout);
        var trigger = Regex.Match(stdout, @"PreprocessScan ran (\d+) times for 4 uploads; (\d+) found the scan already ingested");
        Assert.True(trigger.Success, stdout);
        Assert.True(int.Parse(trigger.Groups[1].Value, CultureInfo.InvariantCulture) >= 4, trigger.Value);

        // One wave of two small scans; the host keeps exactly one ONNX Runtime session for the one model version.
        var memory = Regex.Match(stdout, @"^\s+2\s+(\d+)\s+(\d+)\s+(\d+)\s+1/1\s*$", RegexOptions.Multiline);
        Assert.True(memory.Success, stdout);
        Assert.True(Number(memory.Groups[2].Value) >= Number(memory.Groups[1].Value), "peak ≥ working set");
    }

    [Fact]
    public async Task BenchPipeline_HostSettingWithoutEquals_Exits2NamingIt()
    {
        var (exit, _, error) = await CliRunner.RunAsync("bench", "pipeline", "--host-setting", "CtScan__MaxInferenceBatch");

        Assert.Equal(2, exit);
        Assert.Contains("--host-setting 'CtScan__MaxInferenceBatch' is not KEY=VALUE", error);
    }

    [Fact]
    public async Task BenchPipeline_MissingModelFolder_Exits2NamingIt()
    {
        using var temp = new TempFolder();
        string missing = temp.Path("no-such-model");

        var (exit, _, error) = await CliRunner.RunAsync("bench", "pipeline", "--model", missing);

        Assert.Equal(2, exit);
        Assert.Contains($"--model {missing} does not exist", error);
    }
}
