using System.CommandLine;
using System.Diagnostics;
using System.IO.Compression;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Preprocessing;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan bench</c>: times the seed preprocessing of an int16 scan (default 512 × 512 × 64) from .nii and .nii.gz,
/// next to gzip decoding the same file alone, and reports managed allocation per scan.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var shape = new ShapeOption("--shape", "Scan size", new VolumeShape(512, 512, 64));
        var iterations = new Option<int>("--iterations") { Description = "Timed runs per case (after one warm-up)", DefaultValueFactory = _ => 15 };
        var allCores = new Option<bool>("--all-cores") { Description = "Do not pin the process to one core" };
        // Without a subcommand, bench runs the preprocessing benchmark (its original behaviour); `bench model` times inference.
        var command = new Command("bench", "Benchmark preprocessing of an int16 scan (.nii and .nii.gz) on one core; `bench model` times inference")
        {
            shape.Option, iterations, allCores, BenchModelCommand.Create(), BenchStartupCommand.Create(), BenchColdStartCommand.Create(), BenchPipelineCommand.Create(), BenchHostileCommand.Create(), BenchSoakCommand.Create(),
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
        {
            var size = shape.GetValue(parse);
            int runs = Math.Max(1, parse.GetValue(iterations));
            bool pinned = !parse.GetValue(allCores) && (OperatingSystem.IsLinux() || OperatingSystem.IsWindows());
            if (pinned && (OperatingSystem.IsLinux() || OperatingSystem.IsWindows()))
                Process.GetCurrentProcess().ProcessorAffinity = 1; // one core, as the target is stated
            Run(stdout, size, runs, pinned, ct);
            return Task.CompletedTask;
        }, cancellationToken));
        return command;
    }

    private static void Run(TextWriter stdout, VolumeShape size, int runs, bool pinned, CancellationToken ct)
    {
        var folder = Directory.CreateTempSubdirectory("ctscan-bench-");
        try
        {
            var nii = Path.Combine(folder.FullName, "scan.nii");
            var niiGz = nii + ".gz";
            var options = new ChestPhantomOptions { Shape = size, Seed = 1, Label = PhantomLabel.Abnormal };
            ChestPhantomFile.Write(nii, options, ct);
            ChestPhantomFile.Write(niiGz, options, ct);
            long rawBytes = size.VoxelCount * sizeof(short);
            stdout.WriteLine($"scan: {size} int16 ({rawBytes / 1048576.0:F1} MiB raw; .nii.gz {new FileInfo(niiGz).Length / 1048576.0:F1} MiB), " +
                              $"target {VolumeShape.SeedTarget}, {runs} runs, {Environment.ProcessorCount} cores visible, " +
                              $"{(pinned ? "pinned to one core" : "all cores")}");

            var preprocessor = new ScanPreprocessor();
            // The alternatives to one-thread zlib-ng inflate (docs/benchmarks.md#inflate-in-ctscan-bench): managed inflaters, and
            // inflating on a second thread ahead of the reader (opt-in). Cases take turns, run
            // by run, so that a change in the machine's load falls on all of them alike.
            var measured = MeasureInTurn(runs,
                () => Preprocess(preprocessor, nii, ct),
                () => Gunzip(niiGz),
                () => Preprocess(preprocessor, niiGz, ct),
                () => Drain(new ICSharpCode.SharpZipLib.GZip.GZipInputStream(File.OpenRead(niiGz))),
                () => Drain(new SharpCompress.Compressors.Deflate.GZipStream(File.OpenRead(niiGz), SharpCompress.Compressors.CompressionMode.Decompress)),
                () => Preprocess(preprocessor, niiGz, ct, new NiftiReadOptions { InflateAhead = true }));
            var (plain, gunzip, gz, sharpZipLib, sharpCompress, ahead) = (measured[0], measured[1], measured[2], measured[3], measured[4], measured[5]);

            stdout.WriteLine($"{"case",-34} {"median ms",10} {"min ms",8} {"alloc MiB",10} {"alloc/raw",10}");
            Print(stdout, "preprocess .nii", plain, rawBytes);
            Print(stdout, "gunzip .nii.gz alone", gunzip, rawBytes);
            Print(stdout, "preprocess .nii.gz", gz, rawBytes);
            Print(stdout, "gunzip: SharpZipLib (managed)", sharpZipLib, rawBytes);
            Print(stdout, "gunzip: SharpCompress (managed)", sharpCompress, rawBytes);
            Print(stdout, "preprocess .nii.gz, inflate ahead", ahead, rawBytes);
            stdout.WriteLine($"targets: .nii median ≤ 60 ms → {(plain.MedianMs <= 60 ? "met" : "NOT met")}; " +
                              $".nii.gz / gunzip = {gz.MedianMs / gunzip.MedianMs:F2} (≤ 1.3 → {(gz.MedianMs <= 1.3 * gunzip.MedianMs ? "met" : "NOT met")}); " +
                              $"allocation ≤ 3 × raw → {(plain.AllocatedBytes <= 3 * rawBytes && gz.AllocatedBytes <= 3 * rawBytes ? "met" : "NOT met")}");
            stdout.WriteLine($"inflate: SharpZipLib takes {sharpZipLib.MedianMs / gunzip.MedianMs:F2}×, SharpCompress {sharpCompress.MedianMs / gunzip.MedianMs:F2}× " +
                              $"the time of System.IO.Compression (zlib-ng); inflating ahead on a second thread (NiftiReadOptions.InflateAhead, off by default): .nii.gz in {ahead.MedianMs / gz.MedianMs:F2}× the time of inflating inline" +
                              (pinned ? " (pinned: both threads share one core; --all-cores gives it a second)" : ""));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static void Preprocess(ScanPreprocessor preprocessor, string path, CancellationToken ct, NiftiReadOptions? options = null)
    {
        using var image = NiftiImage.Open(path, options);
        preprocessor.Process(image.OpenVolume(), ct);
    }

    private static void Gunzip(string path) => Drain(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));

    /// <summary>Reads <paramref name="inflater"/> to its end into one reused 1 MiB buffer, then disposes it.</summary>
    private static void Drain(Stream inflater)
    {
        using (inflater)
        {
            var buffer = new byte[1 << 20];
            while (inflater.Read(buffer) > 0) { }
        }
    }

    private readonly record struct Measurement(double MedianMs, double MinMs, long AllocatedBytes);

    /// <summary>Runs each action once (warm-up: JIT, page cache), then <paramref name="runs"/> rounds of all of them in turn.</summary>
    private static Measurement[] MeasureInTurn(int runs, params Action[] actions)
    {
        foreach (var action in actions) action();
        var times = new double[actions.Length][];
        var allocated = new long[actions.Length];
        for (int a = 0; a < actions.Length; a++)
        {
            times[a] = new double[runs];
            allocated[a] = long.MaxValue;
        }
        for (int r = 0; r < runs; r++)
        {
            for (int a = 0; a < actions.Length; a++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                var clock = Stopwatch.StartNew();
                actions[a]();
                times[a][r] = clock.Elapsed.TotalMilliseconds;
                allocated[a] = Math.Min(allocated[a], GC.GetTotalAllocatedBytes(precise: true) - before);
            }
        }
        var results = new Measurement[actions.Length];
        for (int a = 0; a < actions.Length; a++)
        {
            Array.Sort(times[a]);
            results[a] = new Measurement(times[a][runs / 2], times[a][0], allocated[a]);
        }
        return results;
    }

    private static void Print(TextWriter stdout, string name, Measurement m, long rawBytes) =>
        stdout.WriteLine($"{name,-34} {m.MedianMs,10:F1} {m.MinMs,8:F1} {m.AllocatedBytes / 1048576.0,10:F1} {m.AllocatedBytes / (double)rawBytes,10:F2}");
}
