using System.CommandLine;
using System.Diagnostics;
using CtScan.Contracts;
using CtScan.LocalHost;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using CtScan.Pipeline;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan bench soak</c>: many small scans through one local host (its own process, on a private Azurite, with a
/// private temp folder), in waves; after each wave the host's working set, managed heap, open file descriptors,
/// threads and spool/model-cache files, as the host itself reports them (<see cref="HostStats"/>). Ends with a verdict
/// per measure: flat, or growing when the last quarter's mean exceeds the second quarter's by more than the tolerance
/// (<see cref="SoakVerdict"/>).
/// </summary>
internal static class BenchSoakCommand
{
    public static Command Create()
    {
        var scans = new Option<int>("--scans") { Description = "Scans in all", DefaultValueFactory = _ => 1000 };
        var every = new Option<int>("--every") { Description = "Scans per wave: the host is sampled after each", DefaultValueFactory = _ => 50 };
        var size = new ShapeOption("--size", "Scan size (int16 .nii.gz phantoms, each different)", new VolumeShape(64, 64, 16));
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model folder to serve (default: the bundled demo model)" };
        var command = new Command("soak", "Soak one local host with many small scans; print its memory, handles, threads and temp files per wave, and whether they grow")
        {
            scans, every, size.Option, model,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
            RunAsync(stdout, Math.Max(1, parse.GetValue(scans)), Math.Max(1, parse.GetValue(every)), size.GetValue(parse), parse.GetValue(model), ct), cancellationToken));
        return command;
    }

    private static async Task RunAsync(TextWriter stdout, int scans, int every, VolumeShape size, DirectoryInfo? modelOption, CancellationToken ct)
    {
        string modelDirectory = modelOption?.FullName ?? DemoModel.Directory;
        if (!Directory.Exists(modelDirectory)) throw new DirectoryNotFoundException($"--model {modelDirectory} does not exist");
        var temp = Directory.CreateTempSubdirectory("ctscan-bench-soak-");
        try
        {
            // The host's own temp folder: its spool files and (default) model cache land there, and nothing else does.
            string hostTemp = Directory.CreateDirectory(Path.Combine(temp.FullName, "host-tmp")).FullName;
            await using var azurite = await AzuriteServer.StartAsync(cancellationToken: ct);
            using var services = new PipelineServices(PipelineOptions.ForConnectionString(azurite.ConnectionString) with { ModelCacheDirectory = Path.Combine(temp.FullName, "client-models") });
            await services.Storage.EnsureCreatedAsync(ct);
            var published = await services.Registry.PublishAsync(modelDirectory, new PublishOptions { Promote = true, Force = true }, ct);
            string statsFile = Path.Combine(temp.FullName, "host-stats.json");
            await using var host = await BenchPipelineCommand.HostProcess.StartAsync(azurite.ConnectionString, temp.FullName, statsFile, ct,
                new Dictionary<string, string> { ["TMPDIR"] = hostTemp, ["CtScan__ModelCacheDirectory"] = Path.Combine(hostTemp, "ctscan-model-cache") });
            stdout.WriteLine($"soak: {scans} scans of {size} in waves of {every} through one local host (pid {host.Id}), model {published.Version}; {Environment.ProcessorCount} cores");
            stdout.WriteLine($"{"after",7} {"scans/min",10} {"working set MiB",16} {"GC heap MiB",12} {"GC committed MiB",17} {"open fds",9} {"threads",8} {"temp files",11} {"ORT sessions",13}");

            var samples = new List<SoakSample>();
            var statuses = new Dictionary<ScanStatus, int>();
            var small = Directory.CreateDirectory(Path.Combine(temp.FullName, "scans")).FullName;
            for (int done = 0; done < scans;)
            {
                int wave = Math.Min(every, scans - done);
                var files = Enumerable.Range(done, wave).Select(i =>
                {
                    string file = Path.Combine(small, $"{i}.nii.gz");
                    ChestPhantomFile.Write(file, new ChestPhantomOptions { Shape = size, Seed = 9000 + i, Label = (PhantomLabel)(i % 2) }, ct);
                    return ($"soak/{i:D6}.nii.gz", file);
                }).ToList();
                var clock = Stopwatch.StartNew();
                var names = await BenchPipelineCommand.UploadAllAsync(services, files, ct);
                var results = await BenchPipelineCommand.WaitAllAsync(services, names, TimeSpan.FromMinutes(10), ct);
                double minutes = clock.Elapsed.TotalMinutes;
                foreach (var (_, file) in files) File.Delete(file);
                foreach (var result in results) statuses[result.Status] = statuses.GetValueOrDefault(result.Status) + 1;
                done += wave;

                await Task.Delay(TimeSpan.FromSeconds(1.5), ct); // a stats snapshot taken after the wave
                var stats = HostStats.TryRead(statsFile) ?? throw new InvalidOperationException($"the host wrote no stats to {statsFile}");
                var sample = new SoakSample(done, stats.WorkingSetBytes / 1048576.0, stats.ManagedHeapBytes / 1048576.0, stats.GcCommittedBytes / 1048576.0,
                    stats.OpenFileDescriptors, stats.Threads, stats.TempFiles);
                samples.Add(sample);
                stdout.WriteLine($"{done,7} {wave / minutes,10:F0} {sample.WorkingSetMiB,16:F0} {sample.ManagedHeapMiB,12:F0} {sample.GcCommittedMiB,17:F0} {sample.OpenFileDescriptors,9} {sample.Threads,8} {sample.TempFiles,11} {$"{stats.ScorersCreated}/{stats.ScorersLive}",13}");
            }
            stdout.WriteLine($"results: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Value} {s.Key.ToString().ToLowerInvariant()}"))}");
            foreach (var line in SoakVerdict.Of(samples).Lines) stdout.WriteLine(line);
        }
        finally
        {
            try { temp.Delete(recursive: true); } catch (IOException) { }
        }
    }
}

/// <summary>The host after a wave of the soak: <see cref="Scans"/> scans done so far.</summary>
internal sealed record SoakSample(int Scans, double WorkingSetMiB, double ManagedHeapMiB, double GcCommittedMiB, int OpenFileDescriptors, int Threads, int TempFiles);

/// <summary>
/// Flat or growing, per measure: the mean of the last quarter of the samples against the mean of the second quarter
/// (the first quarter is warm-up: JIT, model session, pools). Growing when the difference exceeds the larger of a
/// relative and an absolute tolerance; the absolute part keeps small counts (a thread or two coming and going with
/// the thread pool) from reading as a leak.
/// </summary>
internal sealed record SoakVerdict(IReadOnlyList<string> Lines, bool Flat)
{
    /// <summary>Relative tolerance: 10 % of the second quarter's mean.</summary>
    public const double RelativeTolerance = 0.10;

    private static readonly (string Name, string Unit, double Slack, Func<SoakSample, double> Get)[] Measures =
    [
        ("working set", "MiB", 32, s => s.WorkingSetMiB),
        ("GC heap", "MiB", 16, s => s.ManagedHeapMiB),
        ("GC committed", "MiB", 32, s => s.GcCommittedMiB),
        ("open fds", "", 8, s => s.OpenFileDescriptors),
        ("threads", "", 4, s => s.Threads),
        ("temp files", "", 2, s => s.TempFiles),
    ];

    public static SoakVerdict Of(IReadOnlyList<SoakSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count < 4) return new SoakVerdict([$"verdict: not enough samples ({samples.Count}; need 4 or more: use more --scans or a smaller --every)"], Flat: false);
        int quarter = samples.Count / 4;
        var second = samples.Skip(quarter).Take(quarter).ToList();
        var last = samples.Skip(samples.Count - quarter).ToList();
        var lines = new List<string> { $"second quarter: after {second[0].Scans}–{second[^1].Scans} scans; last quarter: after {last[0].Scans}–{last[^1].Scans} scans; tolerance: the larger of {RelativeTolerance:P0} and the slack shown" };
        var growing = new List<string>();
        foreach (var (name, unit, slack, get) in Measures)
        {
            double before = second.Average(get), after = last.Average(get);
            double tolerance = Math.Max(RelativeTolerance * before, slack);
            bool grows = after - before > tolerance;
            if (grows) growing.Add(name);
            string u = unit.Length > 0 ? " " + unit : "";
            lines.Add($"  {name,-12} {before,9:F1} → {after,9:F1}{u} (slack {slack}{u}): {(grows ? "GROWING" : "flat")}");
        }
        lines.Add(growing.Count == 0 ? "verdict: flat" : $"verdict: growing ({string.Join(", ", growing)})");
        return new SoakVerdict(lines, growing.Count == 0);
    }
}
