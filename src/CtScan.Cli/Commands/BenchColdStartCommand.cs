using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CtScan.LocalHost.Azurite;
using CtScan.Pipeline;
using CtScan.Scoring;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan bench coldstart</c>: the scoring function's cold start, each run in a fresh process on a private Azurite
/// with an empty model cache: read models/current.json, download the model and check its SHA-256, create the ONNX
/// Runtime session (the scorer hashes the file again), first inference (the probe on a zero scan, as
/// <see cref="ModelProvider"/> runs it), then one more inference for the warm figure. Runs alternate with runs of
/// <see cref="ModelProvider.AcquireAsync"/> itself, the host's own path through the same steps, as a cross-check.
/// </summary>
internal static class BenchColdStartCommand
{
    /// <summary>The issue's target for the seed-size model: current.json to the first inference's answer.</summary>
    public const double TargetMs = 1500;

    private const string ChildMarker = "coldstart-child:";

    public static Command Create()
    {
        var runs = new Option<int>("--runs") { Description = "Fresh processes per path (phases, ModelProvider)", DefaultValueFactory = _ => 3 };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model folder (default: a seed-size 128×128×64, width 1 model with random weights, exported on the fly)" };
        var childConnection = new Option<string?>("--child-connection") { Description = "Internal: run one cold start against this storage and print its phases", Hidden = true };
        var childProvider = new Option<bool>("--child-provider") { Description = "Internal: time ModelProvider.AcquireAsync instead of the phases", Hidden = true };
        var childCache = new Option<string?>("--child-cache") { Description = "Internal: the (empty) model cache folder", Hidden = true };
        var command = new Command("coldstart", "Cold start of the scoring function (model download, hash, ONNX Runtime session, first inference), each run in a fresh process")
        {
            runs, model, childConnection, childProvider, childCache,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
            parse.GetValue(childConnection) is { } connection
                ? RunChildAsync(stdout, connection, parse.GetValue(childCache)!, parse.GetValue(childProvider), ct)
                : RunAsync(stdout, Math.Max(1, parse.GetValue(runs)), parse.GetValue(model), ct), cancellationToken));
        return command;
    }

    private static async Task RunAsync(TextWriter stdout, int runs, DirectoryInfo? modelOption, CancellationToken ct)
    {
        var temp = Directory.CreateTempSubdirectory("ctscan-bench-coldstart-");
        try
        {
            string modelDirectory = BenchPipelineCommand.ResolveModel(modelOption, temp.FullName, stdout);
            await using var azurite = await AzuriteServer.StartAsync(cancellationToken: ct);
            using (var services = new PipelineServices(PipelineOptions.ForConnectionString(azurite.ConnectionString) with { ModelCacheDirectory = Path.Combine(temp.FullName, "publisher-cache") }))
            {
                await services.Storage.EnsureCreatedAsync(ct);
                var published = await services.Registry.PublishAsync(modelDirectory, new PublishOptions { Promote = true, Force = true }, ct);
                long bytes = new DirectoryInfo(modelDirectory).EnumerateFiles().Sum(f => f.Length);
                stdout.WriteLine($"model {published.Version} ({bytes / 1048576.0:F1} MB) on a private Azurite; {runs} fresh processes per path, paths in turn, " +
                                 $"each with an empty model cache; {Environment.ProcessorCount} cores visible; load average {LoadAverage()} at start");
            }

            var phases = new List<Dictionary<string, double>>();
            var provider = new List<Dictionary<string, double>>();
            for (int run = 0; run < runs; run++)
            {
                phases.Add(await ChildAsync(azurite.ConnectionString, Path.Combine(temp.FullName, $"cache-p{run}"), usesProvider: false, ct));
                provider.Add(await ChildAsync(azurite.ConnectionString, Path.Combine(temp.FullName, $"cache-m{run}"), usesProvider: true, ct));
            }

            stdout.WriteLine($"{"phase (fresh process, empty cache)",-44} {"median ms",10} {"min ms",8}");
            foreach (var (key, name) in PhaseNames) Print(stdout, name, phases.Select(p => p[key]));
            var cold = phases.Select(p => p["pointer"] + p["download"] + p["session"] + p["first"]).ToList();
            Print(stdout, "cold start: current.json → first answer", cold);
            Print(stdout, "second inference (warm)", phases.Select(p => p["second"]));
            Print(stdout, "ModelProvider.AcquireAsync (the host's path)", provider.Select(p => p["acquire"]));
            Print(stdout, "  its first scan inference after that", provider.Select(p => p["scan"]));
            double median = Median(cold);
            stdout.WriteLine($"load average {LoadAverage()} at end");
            stdout.WriteLine($"cold start median {median:F0} ms (+ {Median(phases.Select(p => p["runtime"])):F0} ms of process start-up); target ≤ {TargetMs:F0} ms → {(median <= TargetMs ? "met" : "NOT met")}");
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    private static readonly (string Key, string Name)[] PhaseNames =
    [
        ("runtime", "process start → verb (runtime, CLI)"),
        ("pointer", "read models/current.json"),
        ("download", "download model + SHA-256"),
        ("session", "ONNX Runtime session (hash again, load)"),
        ("first", "first inference (probe, zero scan)"),
    ];

    /// <summary>One cold start in this process: prints <c>coldstart-child: key=ms …</c> for the parent.</summary>
    private static async Task RunChildAsync(TextWriter stdout, string connection, string cache, bool usesProvider, CancellationToken ct)
    {
        using (var self = Process.GetCurrentProcess())
            stdout.Write($"{ChildMarker} runtime={(DateTime.Now - self.StartTime).TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture)}");
        var options = PipelineOptions.ForConnectionString(connection) with { ModelCacheDirectory = cache };
        using var services = new PipelineServices(options);
        var clock = Stopwatch.StartNew();
        if (usesProvider)
        {
            using var lease = await services.Models.AcquireAsync(ct);
            Mark(stdout, "acquire", clock);
            lease.Scorer.Score(new float[lease.Scorer.VoxelsPerScan], ct);
            Mark(stdout, "scan", clock);
        }
        else
        {
            // ModelProvider.LoadAsync's steps, one by one.
            var pointer = await services.Registry.GetCurrentAsync(ct) ?? throw new InvalidOperationException("no model is current");
            Mark(stdout, "pointer", clock);
            var (directory, manifest) = await services.Registry.GetCachedAsync(pointer.Version, pointer.Sha256, cache, ct);
            Mark(stdout, "download", clock);
            using var scorer = new OnnxScorer(Path.Combine(directory, manifest.ModelFile), manifest, options.OnnxScorerOptions);
            Mark(stdout, "session", clock);
            ModelProbe.Check(scorer, $"model {pointer.Version}", ct);
            Mark(stdout, "first", clock);
            scorer.Score(new float[scorer.VoxelsPerScan], ct);
            Mark(stdout, "second", clock);
        }
        stdout.WriteLine();
    }

    private static void Mark(TextWriter stdout, string key, Stopwatch clock)
    {
        stdout.Write($" {key}={clock.Elapsed.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture)}");
        clock.Restart();
    }

    private static async Task<Dictionary<string, double>> ChildAsync(string connection, string cache, bool usesProvider, CancellationToken ct)
    {
        var child = await ChildProcess.RunCtscanAsync(
            ["bench", "coldstart", "--child-connection", connection, "--child-cache", cache, .. usesProvider ? (string[])["--child-provider"] : []], ct);
        string line = child.Output.Split('\n').FirstOrDefault(l => l.StartsWith(ChildMarker, StringComparison.Ordinal))
                      ?? throw new InvalidOperationException($"the cold-start child exited {child.ExitCode} without its figures: {child.Errors.Trim()}");
        if (child.ExitCode != 0) throw new InvalidOperationException($"the cold-start child exited {child.ExitCode}: {child.Errors.Trim()}");
        return line[ChildMarker.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('='))
            .ToDictionary(pair => pair[0], pair => double.Parse(pair[1], CultureInfo.InvariantCulture));
    }

    private static void Print(TextWriter stdout, string name, IEnumerable<double> values)
    {
        var list = values.ToList();
        stdout.WriteLine($"{name,-44} {Median(list),10:F0} {list.Min(),8:F0}");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage() =>
        OperatingSystem.IsLinux() && File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
}
