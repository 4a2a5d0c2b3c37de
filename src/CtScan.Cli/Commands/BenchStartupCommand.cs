using System.CommandLine;
using System.Globalization;
using System.Reflection.PortableExecutable;
using CtScan.Phantoms;
using CtScan.Tensors;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan bench startup</c>: whole-process preprocessing of one .nii.gz by <c>ctscan preprocess</c> and by the seed
/// Keras example's Python (bench/seed_preprocess.py), run in turn in one session so load affects both alike, with the
/// start-up floors of each (<c>ctscan --version</c>, <c>ctscan info</c> on a tiny file, Python's imports alone).
/// Without a Python that has numpy, scipy and nibabel it says so and times the .NET side alone. With <c>--native</c>,
/// the Native AOT launcher (src/CtScan.Cli.Native) is timed on the same cases next to the managed CLI.
/// </summary>
internal static class BenchStartupCommand
{
    /// <summary>The issue's target: the seed's Python takes at least this many times as long as ctscan.</summary>
    public const double TargetRatio = 15;

    public static Command Create()
    {
        var shape = new ShapeOption("--shape", "Scan size", new VolumeShape(512, 512, 64));
        var runs = new Option<int>("--runs") { Description = "Timed runs per case (after one warm-up each); cases take turns", DefaultValueFactory = _ => 5 };
        var python = new Option<string?>("--python") { Description = "Python to run the seed's preprocessing with (default: the first of python3 on PATH, /usr/bin/python3 that imports numpy, scipy and nibabel)" };
        var native = new Option<FileInfo?>("--native")
        {
            Description = "Also time this Native AOT ctscan (dotnet publish src/CtScan.Cli.Native -c Release -o DIR; docs/cli.md) on the same cases",
        };
        var command = new Command("startup", "Whole-process preprocessing of a .nii.gz: ctscan preprocess (managed, and native with --native) vs the seed's Python, side by side, with start-up floors")
        {
            shape.Option, runs, python, native,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
            RunAsync(stdout, shape.GetValue(parse), Math.Max(1, parse.GetValue(runs)), parse.GetValue(python), NativePath(parse.GetValue(native)), ct), cancellationToken));
        return command;
    }

    private static string? NativePath(FileInfo? native)
    {
        if (native is null) return null;
        if (!native.Exists) throw new FileNotFoundException($"--native {native.FullName} does not exist (dotnet publish src/CtScan.Cli.Native -c Release -o DIR writes DIR/ctscan)", native.FullName);
        if (ChildProcess.IsDotnetAppHost(native.FullName))
            throw new ArgumentException($"--native {native.FullName} is .NET's apphost of the managed ctscan, not the Native AOT launcher (dotnet publish src/CtScan.Cli.Native -c Release -o DIR)");
        return native.FullName;
    }

    private static async Task RunAsync(TextWriter stdout, VolumeShape size, int runs, string? pythonOption, string? native, CancellationToken ct)
    {
        var folder = Directory.CreateTempSubdirectory("ctscan-bench-startup-");
        try
        {
            string scan = Path.Combine(folder.FullName, "scan.nii.gz");
            string tiny = Path.Combine(folder.FullName, "tiny.nii.gz");
            ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = size, Seed = 1, Label = PhantomLabel.Abnormal }, ct);
            ChestPhantomFile.Write(tiny, new ChestPhantomOptions { Shape = new VolumeShape(16, 16, 8), Seed = 1 }, ct);
            string dotnetOut = Path.Combine(folder.FullName, "ctscan.npy");
            string pythonOut = Path.Combine(folder.FullName, "python.npy");
            string nativeOut = Path.Combine(folder.FullName, "native.npy");

            var (ctscan, prefix) = ChildProcess.ManagedCtscan();
            var python = await SeedPython.FindAsync(pythonOption is null ? SeedPython.DefaultCandidates : [pythonOption], ct);
            stdout.WriteLine($"scan: {size} int16 .nii.gz ({new FileInfo(scan).Length / 1048576.0:F1} MiB) → {VolumeShape.SeedTarget}; {runs} runs per case, cases in turn, " +
                             $"after a warm-up each; {Environment.ProcessorCount} cores visible; load average {LoadAverage()} at start");
            stdout.WriteLine($"ctscan: {string.Join(' ', [ctscan, .. prefix])} (ctscan.dll {(IsReadyToRun(typeof(BenchStartupCommand).Assembly.Location) ? "ReadyToRun" : "IL only, JIT-compiled at start: build with -c Release for ReadyToRun")})");
            stdout.WriteLine(python is null
                ? $"python: none of {string.Join(", ", pythonOption is null ? SeedPython.DefaultCandidates : [pythonOption])} imports numpy, scipy and nibabel; timing ctscan alone " +
                  "(on Debian: apt-get install python3-numpy python3-scipy python3-nibabel)"
                : $"python: {python.Executable} ({python.Versions})");
            if (native is not null) stdout.WriteLine($"native ctscan: {native} (Native AOT: preprocess and info in-process, other verbs handed to the managed ctscan.dll beside it)");

            var cases = new List<Case>
            {
                new("ctscan --version (runtime start-up)", ctscan, [.. prefix, "--version"]),
                new("ctscan info, 16×16×8 file", ctscan, [.. prefix, "info", tiny]),
                new("ctscan preprocess", ctscan, [.. prefix, "preprocess", scan, dotnetOut]),
            };
            if (native is not null)
            {
                cases.Add(new("native ctscan --version (hands over)", native, ["--version"]));
                cases.Add(new("native ctscan info, 16×16×8 file", native, ["info", tiny]));
                cases.Add(new("native ctscan preprocess", native, ["preprocess", scan, nativeOut]));
            }
            if (python is not null)
            {
                string script = SeedPython.WriteScript(folder.FullName);
                cases.Add(new("python: imports alone", python.Executable, ["-c", "import numpy, scipy.ndimage, nibabel"]));
                cases.Add(new("python: seed preprocessing", python.Executable, [script, scan, pythonOut]));
            }

            foreach (var c in cases) await ChildProcessTimer.RunAsync(c.FileName, c.Arguments, ct); // warm-up: page cache, .pyc files
            for (int run = 0; run < runs; run++)
                foreach (var c in cases) c.Timings.Add(await ChildProcessTimer.RunAsync(c.FileName, c.Arguments, ct));

            stdout.WriteLine($"{"case",-38} {"wall median ms",15} {"wall min ms",12} {"CPU median ms",14}");
            foreach (var c in cases)
                stdout.WriteLine($"{c.Name,-38} {c.WallMedian,15:F0} {c.WallMin,12:F0} {(c.CpuMedian is { } cpu ? cpu.ToString("F0", CultureInfo.InvariantCulture) : "n/a"),14}");
            stdout.WriteLine($"load average {LoadAverage()} at end");
            if (python is null) return;

            var seed = cases[^1];
            stdout.WriteLine(Ratio(seed, cases[2], "ctscan preprocess"));
            if (native is not null) stdout.WriteLine(Ratio(seed, cases.Single(c => c.Name == "native ctscan preprocess"), "native ctscan preprocess"));
            stdout.WriteLine(Parity(dotnetOut, pythonOut, "ctscan"));
            if (native is not null) stdout.WriteLine(Parity(nativeOut, pythonOut, "native ctscan"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static string Ratio(Case seed, Case dotnet, string name)
    {
        double wallRatio = seed.WallMedian / dotnet.WallMedian;
        string cpuRatio = seed.CpuMedian is { } pythonCpu && dotnet.CpuMedian is { } dotnetCpu ? $", {pythonCpu / dotnetCpu:F1}× CPU" : "";
        return $"python / {name}: {wallRatio:F1}× wall{cpuRatio} (medians); target ≥ {TargetRatio:F0}× wall → {(wallRatio >= TargetRatio ? "met" : "NOT met")}";
    }

    /// <summary>The two tensors must agree (the port is within 1e-6 of scipy): a benchmark of different work would mean nothing.</summary>
    private static string Parity(string dotnetPath, string pythonPath, string name)
    {
        Float32Tensor dotnet, python;
        using (var file = File.OpenRead(dotnetPath)) dotnet = NpyFile.Read(file);
        using (var file = File.OpenRead(pythonPath)) python = NpyFile.Read(file);
        if (!dotnet.Shape.SequenceEqual(python.Shape))
            return $"parity: shapes differ ({name} {string.Join("×", dotnet.Shape)}, python {string.Join("×", python.Shape)})";
        var a = dotnet.Data;
        var b = python.Data;
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return $"parity: max |{name} − python| = {max.ToString("G3", CultureInfo.InvariantCulture)} over {a.Length} values";
    }

    /// <summary>Whether <paramref name="path"/> carries ReadyToRun code (crossgen2 sets the CLI header's managed native header).</summary>
    internal static bool IsReadyToRun(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        return pe.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    private static string LoadAverage() =>
        OperatingSystem.IsLinux() && File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    private sealed record Case(string Name, string FileName, string[] Arguments)
    {
        public List<ChildTiming> Timings { get; } = [];

        public double WallMedian => Median(Timings.Select(t => t.WallMs));

        public double WallMin => Timings.Min(t => t.WallMs);

        public double? CpuMedian => Timings.All(t => t.CpuMs is not null) ? Median(Timings.Select(t => t.CpuMs!.Value)) : null;

        private static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }
}
