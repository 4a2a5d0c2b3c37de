using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CtScan.Phantoms;

namespace CtScan.Cli.Tests;

/// <summary>
/// <c>ctscan bench startup</c> at a tiny size (child processes of this build's ctscan and of the seed's Python), and
/// what a <c>ctscan preprocess</c> process loads.
/// </summary>
public sealed partial class BenchStartupCommandTests
{
    [Fact]
    public async Task BenchStartup_TinyScan_PrintsEveryCaseAndTheRatioWhenPythonHasTheModules()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("bench", "startup", "--shape", "32", "32", "16", "--runs", "1");

        Assert.True(exit == 0, error);
        foreach (var name in (string[])["ctscan --version (runtime start-up)", "ctscan info, 16×16×8 file", "ctscan preprocess"])
        {
            var row = Row(stdout, name);
            Assert.InRange(row.WallMedian, 1, 60_000);
            Assert.Equal(row.WallMedian, row.WallMin); // one run: the median is that run
            Assert.InRange(row.CpuMedian!.Value, 1, 60_000); // Linux: getrusage of the children
        }
        if (stdout.Contains("python: none of", StringComparison.Ordinal))
        {
            Assert.DoesNotContain("python / ctscan preprocess", stdout);
            return;
        }
        var seed = Row(stdout, "python: seed preprocessing");
        var ratio = RatioLine().Match(stdout);
        Assert.True(ratio.Success, stdout);
        double wallRatio = double.Parse(ratio.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(Math.Round(seed.WallMedian / Row(stdout, "ctscan preprocess").WallMedian, 1), wallRatio, 0.11); // rows print whole ms
        Assert.Equal(wallRatio >= 15 ? "met" : "NOT met", ratio.Groups[2].Value);
        var parity = ParityLine().Match(stdout);
        Assert.True(parity.Success, stdout);
        Assert.True(double.Parse(parity.Groups[1].Value, CultureInfo.InvariantCulture) <= 1e-6, parity.Value);
        Assert.Equal("1048576", parity.Groups[2].Value); // the seed's 128×128×64 target
    }

    [Fact]
    public async Task BenchStartup_NoUsablePython_SaysSoAndTimesCtScanAlone()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("bench", "startup", "--shape", "16", "16", "8", "--runs", "1", "--python", "/nonexistent/python3");

        Assert.True(exit == 0, error);
        Assert.Contains("python: none of /nonexistent/python3 imports numpy, scipy and nibabel; timing ctscan alone", stdout);
        Assert.InRange(Row(stdout, "ctscan preprocess").WallMedian, 1, 60_000);
        Assert.DoesNotContain("python: seed preprocessing", stdout);
        Assert.DoesNotContain("python / ctscan preprocess", stdout);
    }

    [Fact]
    public void Preprocess_AsAProcess_LoadsNeitherOnnxRuntimeNorLibTorch()
    {
        using var temp = new TempFolder();
        string scan = temp.Path("scan.nii.gz");
        ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = new VolumeShape(32, 32, 16), Seed = 3 });

        // glibc's loader lists every shared object it maps; ONNX Runtime and libtorch are native libraries.
        string loads = LoadedLibraries("preprocess", scan, temp.Path("t.npy"));

        Assert.Contains("libSystem.IO.Compression.Native.so", loads); // the listing works: inflate's zlib-ng is there
        Assert.DoesNotContain("onnxruntime", loads, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("torch", loads, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Runs this build's ctscan with LD_DEBUG=files and returns the loader's lines.</summary>
    private static string LoadedLibraries(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "ctscan")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["LD_DEBUG"] = "files";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors + output.Result);
        return string.Join('\n', errors.Split('\n').Where(line => line.Contains("file=", StringComparison.Ordinal)));
    }

    private sealed record TimingRow(double WallMedian, double WallMin, double? CpuMedian);

    private static TimingRow Row(string stdout, string name)
    {
        var line = stdout.Split('\n').SingleOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal))
                   ?? throw new Xunit.Sdk.XunitException($"no row '{name}' in:\n{stdout}");
        var cells = line[name.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, cells.Length);
        return new TimingRow(double.Parse(cells[0], CultureInfo.InvariantCulture), double.Parse(cells[1], CultureInfo.InvariantCulture),
            cells[2] == "n/a" ? null : double.Parse(cells[2], CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"python / ctscan preprocess: ([0-9.]+)× wall.*target ≥ 15× wall → (met|NOT met)")]
    private static partial Regex RatioLine();

    [GeneratedRegex(@"parity: max \|ctscan − python\| = (\S+) over (\d+) values")]
    private static partial Regex ParityLine();
}
