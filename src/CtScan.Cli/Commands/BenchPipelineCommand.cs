using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CtScan.Contracts;
using CtScan.LocalHost;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using CtScan.Pipeline;
using CtScan.Training;
using CtScan.Training.Onnx;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan bench pipeline</c>: the local pipeline end to end on a private Azurite (in memory) with the local host as
/// a child process, as `ctscan up` runs it: upload-to-result latency of one scan (sequential runs) with where the time
/// goes, throughput for a batch, and the scoring host's working set over many scans with its ONNX Runtime session count;
/// last, the host's peak working set against <see cref="MemoryBudgetMiB"/>.
/// </summary>
internal static partial class BenchPipelineCommand
{
    /// <summary>The scoring host's memory budget (docs/operations.md): 1.5 GiB, leaving a quarter of a 2048 MB Flex instance.</summary>
    public const double MemoryBudgetMiB = 1536;

    public static Command Create()
    {
        var scans = new Option<int>("--scans") { Description = "Scans in the throughput batch", DefaultValueFactory = _ => 50 };
        var size = new ShapeOption("--size", "Scan size for latency and throughput", new VolumeShape(512, 512, 64));
        var runs = new Option<int>("--runs") { Description = "Sequential latency runs (one scan each)", DefaultValueFactory = _ => 5 };
        var memoryScans = new Option<int>("--memory-scans") { Description = "Small scans (64×64×16) for the memory check, in waves of 50", DefaultValueFactory = _ => 200 };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model folder to serve (default: a seed-size 128×128×64, width 1 model with random weights, exported on the fly: the real inference cost; the demo model is much smaller)" };
        var hostSettings = new Option<string[]>("--host-setting")
        {
            Description = "KEY=VALUE app setting for the scoring host, repeatable (e.g. CtScan__MaxInferenceBatch=1, extensions__queues__batchSize=4 over host.json)",
            AllowMultipleArgumentsPerToken = false,
        };
        var hostDll = new Option<FileInfo?>("--host-dll") { Description = "CtScan.LocalHost.dll of another build to run as the scoring host (default: the one beside ctscan), e.g. to compare a branch with main under the same bench" };
        var command = new Command("pipeline", "Benchmark the local pipeline: upload-to-result latency and its parts, throughput and where the cores' time went, host memory")
        {
            scans, size.Option, runs, memoryScans, model, hostSettings, hostDll,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
            RunAsync(stdout, size.GetValue(parse), Math.Max(1, parse.GetValue(runs)), Math.Max(1, parse.GetValue(scans)),
                Math.Max(0, parse.GetValue(memoryScans)), parse.GetValue(model), ParseSettings(parse.GetValue(hostSettings) ?? []), parse.GetValue(hostDll), ct), cancellationToken));
        return command;
    }

    /// <summary>--host-setting values as a dictionary; a value without '=' or with an empty key is refused naming it.</summary>
    internal static Dictionary<string, string> ParseSettings(IEnumerable<string> values)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) throw new ArgumentException($"--host-setting '{value}' is not KEY=VALUE (e.g. CtScan__MaxInferenceBatch=1)");
            settings[value[..equals]] = value[(equals + 1)..];
        }
        return settings;
    }

    private static async Task RunAsync(TextWriter stdout, VolumeShape size, int runs, int batch, int memoryScans, DirectoryInfo? modelOption,
        IReadOnlyDictionary<string, string> hostSettings, FileInfo? hostDll, CancellationToken ct)
    {
        if (hostDll is { Exists: false }) throw new FileNotFoundException($"--host-dll {hostDll.FullName} does not exist", hostDll.FullName);
        var temp = Directory.CreateTempSubdirectory("ctscan-bench-pipeline-");
        try
        {
            string modelDirectory = ResolveModel(modelOption, temp.FullName, stdout);
            await using var azurite = await AzuriteServer.StartAsync(cancellationToken: ct);
            using var services = new PipelineServices(PipelineOptions.ForConnectionString(azurite.ConnectionString) with { ModelCacheDirectory = Path.Combine(temp.FullName, "client-models") });
            await services.Storage.EnsureCreatedAsync(ct);
            var published = await services.Registry.PublishAsync(modelDirectory, new PublishOptions { Promote = true, Force = true }, ct);
            string statsFile = Path.Combine(temp.FullName, "host-stats.json");
            await using var host = await HostProcess.StartAsync(azurite.ConnectionString, temp.FullName, statsFile, ct, hostSettings, hostDll?.FullName);
            if (hostDll is not null) stdout.WriteLine($"scoring host: {hostDll.FullName}");
            stdout.WriteLine($"model {published.Version}; local host pid {host.Id} (queues polled ≤ 1 s; blob trigger: Azurite container scan every 2 s); {Environment.ProcessorCount} cores");
            foreach (var (key, value) in hostSettings) stdout.WriteLine($"host setting {key}={value}");
            // The host reads its settings as the local host does: --host-setting, then this environment (inherited), over the defaults.
            string? Setting(string key) => key == "AzureWebJobsStorage" ? azurite.ConnectionString : hostSettings.GetValueOrDefault(key) ?? Environment.GetEnvironmentVariable(key);
            var hostOptions = PipelineOptions.FromSettings(Setting);
            stdout.WriteLine($"host concurrency: {HostConcurrency.Describe(Path.Combine(hostDll?.DirectoryName ?? AppContext.BaseDirectory, "host.json"), Setting)}; {(hostDll is null ? "" : "as this build reads the settings: ")}{hostOptions.MaxConcurrentInferences} inference(s) at a time of up to {hostOptions.MaxInferenceBatch} scan(s), {hostOptions.OnnxScorerOptions.IntraOpThreads} intra-op threads (spinning {(hostOptions.OnnxScorerOptions.AllowSpinning ? "on" : "off")}), ONNX Runtime arena {(hostOptions.OnnxScorerOptions.EnableCpuMemArena ? "on" : "off")}");

            // 1. Latency: one scan at a time.
            stdout.WriteLine($"latency: {runs} sequential runs of one {size} int16 .nii.gz phantom (a warm-up first)");
            var rows = new List<Breakdown>();
            for (int run = 0; run <= runs; run++)
            {
                string file = Path.Combine(temp.FullName, $"latency-{run}.nii.gz");
                ChestPhantomFile.Write(file, new ChestPhantomOptions { Shape = size, Seed = 1000 + run, Label = PhantomLabel.Abnormal }, ct);
                string name = $"bench/latency/{run}.nii.gz";
                await services.Clients.Scans.GetBlobClient(name).UploadAsync(file, ct);
                var uploaded = DateTimeOffset.UtcNow;
                var (result, seen) = await WaitAsync(services, name, TimeSpan.FromMinutes(3), ct);
                File.Delete(file);
                var row = Breakdown.Of(result, uploaded, seen, host.TriggerStart(name));
                if (run > 0) rows.Add(row); // run 0 warms up the model session and the JIT
            }
            PrintLatency(stdout, rows);

            // 2. Throughput: a batch uploaded at once.
            var files = new List<string>();
            await Parallel.ForAsync(0, batch, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount }, (i, token) =>
            {
                string file = Path.Combine(temp.FullName, $"batch-{i}.nii.gz");
                ChestPhantomFile.Write(file, new ChestPhantomOptions { Shape = size, Seed = 2000 + i, Label = i % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal }, token);
                lock (files) files.Add(file);
                return ValueTask.CompletedTask;
            });
            var cpuStart = CpuSample.Take(host.Id, azurite.ProcessId);
            var clock = Stopwatch.StartNew();
            var uploads = await UploadTimedAsync(services, files.Select((f, i) => ($"bench/batch/{i}.nii.gz", f)), ct);
            double uploadSeconds = clock.Elapsed.TotalSeconds;
            var cpuUploaded = CpuSample.Take(host.Id, azurite.ProcessId);
            var batchResults = await WaitAllAsync(services, [.. uploads.Keys], TimeSpan.FromMinutes(20), ct);
            double seconds = clock.Elapsed.TotalSeconds;
            var cpuEnd = CpuSample.Take(host.Id, azurite.ProcessId);
            foreach (var file in files) File.Delete(file);
            int scored = batchResults.Count(r => r.Status == ScanStatus.Scored);
            stdout.WriteLine($"throughput: {batch} × {size} uploaded in {uploadSeconds:F1} s, all results after {seconds:F1} s → {batch / seconds * 60:F1} scans/min ({scored} scored; {host.Swept} picked up by the pending-scan sweep so far)");
            ThroughputReport.Print(stdout, batch, cpuStart, cpuUploaded, cpuEnd, batchResults, uploads, host.TriggerStart);
            stdout.WriteLine($"  blob trigger so far: PreprocessScan ran {host.PreprocessRuns} times for {runs + 1 + batch} uploads; {host.AlreadyIngested} found the scan already ingested (re-fired by the content tag's metadata write)");
            await Task.Delay(TimeSpan.FromSeconds(1.5), ct); // a fresh stats snapshot
            var afterBatch = HostStats.TryRead(statsFile) ?? throw new InvalidOperationException($"the host wrote no stats to {statsFile}");
            stdout.WriteLine($"scoring host after the batch: working set {afterBatch.WorkingSetBytes / 1048576.0:F0} MiB, peak {afterBatch.PeakWorkingSetBytes / 1048576.0:F0} MiB");

            // 3. Memory: waves of 50 small scans; the host's working set after each wave.
            if (memoryScans > 0)
            {
                stdout.WriteLine($"memory: {memoryScans} scans of 64×64×16 in waves of 50; the scoring host's working set after each wave");
                stdout.WriteLine($"{"after",8} {"working set MiB",16} {"peak MiB",10} {"GC heap MiB",12} {"ORT sessions created/live",26}");
                var small = Path.Combine(temp.FullName, "small");
                Directory.CreateDirectory(small);
                for (int done = 0; done < memoryScans;)
                {
                    int wave = Math.Min(50, memoryScans - done);
                    var waveFiles = Enumerable.Range(done, wave).Select(i =>
                    {
                        string file = Path.Combine(small, $"{i}.nii.gz");
                        ChestPhantomFile.Write(file, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 16), Seed = 5000 + i, Label = (PhantomLabel)(i % 2) }, ct);
                        return ($"bench/memory/{i}.nii.gz", file);
                    }).ToList();
                    var waveNames = await UploadAllAsync(services, waveFiles, ct);
                    await WaitAllAsync(services, waveNames, TimeSpan.FromMinutes(5), ct);
                    done += wave;
                    await Task.Delay(TimeSpan.FromSeconds(1.5), ct); // a fresh stats snapshot
                    var stats = HostStats.TryRead(statsFile) ?? throw new InvalidOperationException($"the host wrote no stats to {statsFile}");
                    stdout.WriteLine($"{done,8} {stats.WorkingSetBytes / 1048576.0,16:F0} {stats.PeakWorkingSetBytes / 1048576.0,10:F0} {stats.ManagedHeapBytes / 1048576.0,12:F0} {$"{stats.ScorersCreated}/{stats.ScorersLive}",26}");
                }
            }
            await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
            var final = HostStats.TryRead(statsFile) ?? throw new InvalidOperationException($"the host wrote no stats to {statsFile}");
            double peak = final.PeakWorkingSetBytes / 1048576.0;
            stdout.WriteLine($"peak working set of the scoring host: {peak:F0} MiB (budget {MemoryBudgetMiB:F0} MiB: {(peak <= MemoryBudgetMiB ? "within" : "OVER")})");
        }
        finally
        {
            try { temp.Delete(recursive: true); } catch (IOException) { }
        }
    }

    internal static string ResolveModel(DirectoryInfo? option, string temp, TextWriter stdout)
    {
        if (option is not null)
            return option.Exists ? option.FullName : throw new DirectoryNotFoundException($"--model {option.FullName} does not exist");
        // The bundled demo model is small (64×64×46 input, width 0.25); the benchmark measures the seed-size workload instead.
        string directory = Path.Combine(temp, "random-model");
        using var model = new CtScanNet(new ModelOptions());
        KerasInitializer.Apply(model, seed: 1);
        model.eval();
        ModelExport.ToFolder(model, directory, new ModelExportOptions { Version = "bench-random-seed-size" });
        stdout.WriteLine("no --model: serving a seed-size (128×128×64, width 1) model with random weights (the real inference cost)");
        return directory;
    }

    internal static async Task<List<string>> UploadAllAsync(PipelineServices services, IEnumerable<(string Name, string File)> scans, CancellationToken ct)
    {
        var list = scans.ToList();
        await Parallel.ForEachAsync(list, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = 8 },
            async (scan, token) => await services.Clients.Scans.GetBlobClient(scan.Name).UploadAsync(scan.File, token));
        return [.. list.Select(s => s.Name)];
    }

    /// <summary>Uploads like <see cref="UploadAllAsync"/>, recording when each upload finished.</summary>
    private static async Task<Dictionary<string, DateTimeOffset>> UploadTimedAsync(PipelineServices services, IEnumerable<(string Name, string File)> scans, CancellationToken ct)
    {
        var done = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(scans.ToList(), new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = 8 }, async (scan, token) =>
        {
            await services.Clients.Scans.GetBlobClient(scan.Name).UploadAsync(scan.File, token);
            lock (done) done[scan.Name] = DateTimeOffset.UtcNow;
        });
        return done;
    }

    private static async Task<(ScanResult Result, DateTimeOffset Seen)> WaitAsync(PipelineServices services, string name, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if ((await services.Results.TryReadAsync(ScanNames.ResultBlobName(name), ct))?.Result is { } result) return (result, DateTimeOffset.UtcNow);
            await Task.Delay(50, ct);
        }
        throw new TimeoutException($"no result for {name} after {timeout.TotalSeconds:F0} s");
    }

    /// <summary>
    /// Waits for every scan's result. Each round lists the results under the names' common prefix (one request) and
    /// reads only the new ones: polling every pending name would cost Azurite, on the same cores, more than the pipeline.
    /// </summary>
    internal static async Task<List<ScanResult>> WaitAllAsync(PipelineServices services, IReadOnlyList<string> names, TimeSpan timeout, CancellationToken ct)
    {
        var pending = names.ToDictionary(ScanNames.ResultBlobName, name => name, StringComparer.Ordinal);
        string prefix = CommonPrefix(pending.Keys);
        var results = new List<ScanResult>();
        var clock = Stopwatch.StartNew();
        while (pending.Count > 0)
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"{pending.Count} of {names.Count} scans have no result after {timeout.TotalMinutes:F0} min");
            await foreach (var blob in services.Clients.Results.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix }, ct))
                if (pending.ContainsKey(blob.Name) && (await services.Results.TryReadAsync(blob.Name, ct))?.Result is { } result)
                {
                    results.Add(result);
                    pending.Remove(blob.Name);
                }
            if (pending.Count > 0) await Task.Delay(200, ct);
        }
        return results;
    }

    private static string CommonPrefix(IEnumerable<string> names)
    {
        string? prefix = null;
        foreach (var name in names)
        {
            if (prefix is null) { prefix = name; continue; }
            int n = 0;
            while (n < prefix.Length && n < name.Length && prefix[n] == name[n]) n++;
            prefix = prefix[..n];
        }
        return prefix ?? "";
    }

    /// <summary>Where one scan's time went, in ms, from the result's timings and timestamps.</summary>
    private sealed record Breakdown(double Total, double TriggerDelay, double Ingest, double Preprocess, double QueueWait, double Download, double Inference, double ResultWrite)
    {
        public static Breakdown Of(ScanResult result, DateTimeOffset uploaded, DateTimeOffset seen, DateTimeOffset? triggerStart)
        {
            double T(string key) => result.TimingsMs.TryGetValue(key, out var v) ? v : double.NaN;
            var scoreStart = result.CreatedAt - TimeSpan.FromMilliseconds(T("total"));
            var enqueued = scoreStart - TimeSpan.FromMilliseconds(T("queueWait"));
            var trigger = triggerStart ?? enqueued - TimeSpan.FromMilliseconds(T("preprocess"));
            return new Breakdown(
                Total: (seen - uploaded).TotalMilliseconds,
                TriggerDelay: (trigger - uploaded).TotalMilliseconds,
                Ingest: (enqueued - trigger).TotalMilliseconds,
                Preprocess: T("preprocess"),
                QueueWait: T("queueWait"),
                Download: T("download"),
                Inference: T("inference"),
                ResultWrite: (seen - result.CreatedAt).TotalMilliseconds);
        }
    }

    private static void PrintLatency(TextWriter stdout, List<Breakdown> rows)
    {
        static double Pct(IEnumerable<double> values, double p)
        {
            var sorted = values.Where(double.IsFinite).OrderBy(v => v).ToArray();
            if (sorted.Length == 0) return double.NaN;
            double rank = p * (sorted.Length - 1);
            int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
        }
        (string Name, Func<Breakdown, double> Get)[] parts =
        [
            ("upload → result", b => b.Total),
            ("  trigger delay (upload → PreprocessScan start)", b => b.TriggerDelay),
            ("  ingest (spool + hash + preprocess + tensor upload + enqueue)", b => b.Ingest),
            ("    of which preprocess", b => b.Preprocess),
            ("  queue wait (enqueued → ScoreScan start)", b => b.QueueWait),
            ("  tensor download", b => b.Download),
            ("  inference", b => b.Inference),
            ("  result write + poll (createdAt → seen)", b => b.ResultWrite),
        ];
        stdout.WriteLine($"{"part (ms)",-66} {"p50",8} {"p95",8}");
        foreach (var (name, get) in parts)
            stdout.WriteLine($"{name,-66} {Pct(rows.Select(get), 0.5),8:F0} {Pct(rows.Select(get), 0.95),8:F0}");
    }

    /// <summary>The local host as a child process (dotnet CtScan.LocalHost.dll, built beside ctscan).</summary>
    internal sealed partial class HostProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private HostProcess(Process process) => _process = process;

        public int Id => _process.Id;

        /// <summary>Scans the pending-scan sweep re-ingested (the blob trigger had not picked them up).</summary>
        public int Swept => Log.Split('\n').Count(line => line.Contains("Re-ingested ", StringComparison.Ordinal));

        /// <summary>PreprocessScan invocations so far (one per upload, plus re-fires).</summary>
        public int PreprocessRuns => Log.Split('\n').Count(line => line.Contains("Executing 'PreprocessScan'", StringComparison.Ordinal));

        /// <summary>PreprocessScan invocations that found the blob already ingested (the trigger re-fired on the content tag's write).</summary>
        public int AlreadyIngested => Log.Split('\n').Count(line => line.Contains("already ingested (its blob carries the content tag)", StringComparison.Ordinal));

        /// <summary>Starts the host; <paramref name="environment"/> adds to (or overrides) the settings below, e.g. TMPDIR for a private temp folder.</summary>
        /// <param name="hostDll">The host's CtScan.LocalHost.dll; null: the one beside ctscan.</param>
        public static async Task<HostProcess> StartAsync(string connection, string workingDirectory, string statsFile, CancellationToken ct,
            IReadOnlyDictionary<string, string>? environment = null, string? hostDll = null)
        {
            string dll = hostDll ?? Path.Combine(AppContext.BaseDirectory, "CtScan.LocalHost.dll");
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { dll, "--connection", connection, "--stats-file", statsFile }) start.ArgumentList.Add(a);
            start.Environment["extensions__queues__maxPollingInterval"] = "00:00:01";
            start.Environment["CtScan__ModelCacheDirectory"] = Path.Combine(workingDirectory, "host-models");
            // The sweep catches blobs Azurite's container scan skips (see README); the bench reports how many it caught.
            start.Environment["CtScan__PendingSweepSeconds"] = "2";
            start.Environment["CtScan__PendingGraceSeconds"] = "5";
            foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
            var host = new HostProcess(new Process { StartInfo = start });
            host._process.OutputDataReceived += (_, e) => host.OnLine(e.Data);
            host._process.ErrorDataReceived += (_, e) => host.OnLine(e.Data);
            host._process.Start();
            host._process.BeginOutputReadLine();
            host._process.BeginErrorReadLine();
            var done = await Task.WhenAny(host._ready.Task, host._process.WaitForExitAsync(ct), Task.Delay(TimeSpan.FromSeconds(90), ct));
            if (done != host._ready.Task)
            {
                await host.DisposeAsync();
                throw new InvalidOperationException($"the local host did not start:\n{host.Log}");
            }
            return host;
        }

        private string Log { get { lock (_log) return _log.ToString(); } }

        private void OnLine(string? line)
        {
            if (line is null) return;
            lock (_log) _log.AppendLine(line);
            if (line.Contains("Job host started", StringComparison.Ordinal)) _ready.TrySetResult();
        }

        /// <summary>When the host began PreprocessScan for this blob: its "Executing 'PreprocessScan' … scans/NAME" log line (local time).</summary>
        public DateTimeOffset? TriggerStart(string name)
        {
            string needle = $"scans/{name}";
            foreach (var line in Log.Split('\n'))
            {
                if (!line.Contains("Executing 'PreprocessScan'", StringComparison.Ordinal) || !line.Contains(needle, StringComparison.Ordinal)) continue;
                var match = Timestamp().Match(line);
                if (!match.Success) continue;
                var time = TimeOnly.ParseExact(match.Value, "HH:mm:ss.fff", CultureInfo.InvariantCulture);
                var local = DateTime.Today.Add(time.ToTimeSpan());
                return new DateTimeOffset(local, TimeZoneInfo.Local.GetUtcOffset(local));
            }
            return null;
        }

        [GeneratedRegex(@"^\s*\d\d:\d\d:\d\d\.\d{3}")]
        private static partial Regex Timestamp();

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }
}

/// <summary>The queue and blob trigger concurrency a host.json allows, in words.</summary>
internal static class HostConcurrency
{
    /// <param name="setting">App settings over host.json (<c>extensions__queues__batchSize</c> …), as the host reads them; null: none.</param>
    public static string Describe(string hostJsonPath, Func<string, string?>? setting = null)
    {
        if (!File.Exists(hostJsonPath)) return $"no {hostJsonPath}";
        var extensions = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(hostJsonPath))?["extensions"];
        int? Over(string key) => setting?.Invoke(key) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : null;
        int batch = Over("extensions__queues__batchSize") ?? (int?)extensions?["queues"]?["batchSize"] ?? 16;
        int threshold = Over("extensions__queues__newBatchThreshold") ?? (int?)extensions?["queues"]?["newBatchThreshold"] ?? batch / 2;
        int blobs = Over("extensions__blobs__maxDegreeOfParallelism") ?? (int?)extensions?["blobs"]?["maxDegreeOfParallelism"] ?? 8 * Environment.ProcessorCount;
        return $"up to {batch + threshold} queue messages per queue function (batchSize {batch} + newBatchThreshold {threshold}), {blobs} blob trigger(s) at once";
    }
}
