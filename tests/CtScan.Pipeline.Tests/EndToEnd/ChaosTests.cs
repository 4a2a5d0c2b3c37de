using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs.Models;
using CtScan.Contracts;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using Xunit.Abstractions;

namespace CtScan.Pipeline.Tests.EndToEnd;

/// <summary>
/// Chaos: 60 scans of mixed sizes (8 of them not usable) flow through the local host (its own process) on an Azurite
/// that keeps its data on disk, while the host is SIGKILLed twice (and restarted), a new model version is promoted,
/// and Azurite is stopped for 30 s and restarted on the same data folder and ports. Every valid scan must end
/// <c>scored</c>, every invalid one <c>rejected</c>, none lost, none seen as <c>failed</c>, and no scan answered twice by
/// the same model version with different content. The retry delays are short (1 s doubling to 4 s); the retry window
/// keeps its default (15 min). The figures go to the test output.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class ChaosTests(EndToEndFixture e2e, ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task Pipeline_HostKilledTwiceStorageDownAndModelPromoted_EveryScanAnsweredOnce()
    {
        string root = e2e.TempPath($"chaos-{Guid.NewGuid():N}");
        var azuriteOptions = new AzuriteOptions
        {
            DataDirectory = Path.Combine(root, "azurite"),
            BlobPort = AzuriteServer.FreePort(),
        };
        azuriteOptions = azuriteOptions with { QueuePort = AzuriteServer.FreePort(azuriteOptions.BlobPort) };
        var azurite = await AzuriteServer.StartAsync(azuriteOptions);
        var hostLogs = new List<string>();
        LocalHostProcess? host = null;
        var environment = new Dictionary<string, string>(EndToEndFixture.FastSettings)
        {
            ["CtScan__ModelCacheDirectory"] = Path.Combine(root, "host-models"),
            ["CtScan__LogScanNames"] = "true",
            ["CtScan__RetryBaseDelaySeconds"] = "1",
            ["CtScan__RetryMaxDelaySeconds"] = "4",
        };
        using var services = new PipelineServices(PipelineOptions.ForConnectionString(azurite.ConnectionString) with
        {
            ModelCacheDirectory = Path.Combine(root, "client-models"),
            StorageRetry = StorageRetry.FailFast, // the watcher must not hang on the outage
        });
        using var stopWatching = new CancellationTokenSource();
        Task? watching = null;
        try
        {
            await services.Storage.EnsureCreatedAsync();
            await services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(PipelineTestContext.ModelHigh), new PublishOptions { Promote = false });
            await services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(PipelineTestContext.ModelLow), new PublishOptions { Promote = false });
            string before = PipelineTestContext.Manifest(PipelineTestContext.ModelLow).Version, after = PipelineTestContext.Manifest(PipelineTestContext.ModelHigh).Version;
            await services.Registry.PromoteAsync(before);

            var scans = Scans();
            var waves = scans.Keys.Chunk(20).ToList();
            var seen = new SeenResults();
            watching = WatchAsync(services, seen, stopWatching.Token);
            var clock = Stopwatch.StartNew();
            host = await LocalHostProcess.StartAsync(azurite.ConnectionString, root, environment);

            await UploadAsync(services, scans, waves[0]);
            await WaitForAsync(seen, waves[0], 5);
            Log(clock, $"kill 1 with {seen.FinalCount(scans.Keys)} results");
            host = await RestartAsync(host, hostLogs, azurite.ConnectionString, root, environment);

            await UploadAsync(services, scans, waves[1]);
            await WaitForAsync(seen, waves[1], 3);
            await services.Registry.PromoteAsync(after);
            Log(clock, $"promoted {after} with {seen.FinalCount(scans.Keys)} results");
            await WaitForAsync(seen, waves[1], 6);
            Log(clock, $"kill 2 with {seen.FinalCount(scans.Keys)} results");
            host = await RestartAsync(host, hostLogs, azurite.ConnectionString, root, environment);

            await UploadAsync(services, scans, waves[2]);
            await WaitForAsync(seen, waves[2], 3);
            int atOutage = seen.FinalCount(scans.Keys);
            Log(clock, $"storage down with {atOutage} results");
            await azurite.DisposeAsync(); // SIGTERM: Azurite saves its data and exits, like a storage outage
            await Task.Delay(Outage);
            azurite = await AzuriteServer.StartAsync(azuriteOptions);
            var restored = clock.Elapsed;
            Log(clock, "storage back on the same data folder and ports");

            var drain = Stopwatch.StartNew();
            while (seen.FinalCount(scans.Keys) < scans.Count && drain.Elapsed < DrainTimeout && !host.HasExited) await Task.Delay(250);
            var drained = clock.Elapsed;
            await stopWatching.CancelAsync();
            await watching;
            hostLogs.Add(host.Log);
            string logs = string.Join("\n", hostLogs);
            string logFile = Path.Combine(Path.GetTempPath(), "ctscan-chaos-hosts.log");
            await File.WriteAllTextAsync(logFile, logs);
            output.WriteLine($"the hosts' logs: {logFile}");

            // The figures.
            int retries = RetryLine().Count(logs), swept = SweptLine().Matches(logs).Sum(m => int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture));
            int restarts = logs.Split('\n').Count(l => l.Contains("starting a new one", StringComparison.Ordinal));
            int outageRetries = logs.Split('\n').Count(l => l.Contains("Could not queue a retry", StringComparison.Ordinal));
            var answers = Answers(logs);
            int twoVersions = answers.Count(a => a.Value.Select(x => x.Version).Distinct().Count() > 1);
            output.WriteLine($"drained {seen.FinalCount(scans.Keys)} of {scans.Count} in {drained.TotalSeconds:F1} s ({(drained - restored).TotalSeconds:F1} s after storage came back; {atOutage} were done when it went down)");
            output.WriteLine($"retries queued: {retries}; retries waiting for storage: {outageRetries}; job hosts restarted after a listener failure: {restarts}; scans re-ingested by the sweep: {swept}; answers logged: {answers.Sum(a => a.Value.Count)} for {answers.Count} scans, {twoVersions} answered by both model versions");
            output.WriteLine($"statuses seen: {string.Join(", ", seen.StatusCounts())}");

            // Nothing lost, nothing failed.
            Assert.False(host.HasExited, $"the host exited:\n{Tail(host.Log)}");
            Assert.True(seen.FinalCount(scans.Keys) == scans.Count,
                $"lost: {string.Join(", ", scans.Keys.Where(k => !seen.IsFinal(k)))}\n{Tail(logs)}");
            Assert.Empty(seen.Failed());
            foreach (var (name, scan) in scans)
            {
                var result = seen.Last(name)!;
                if (scan.Valid)
                {
                    Assert.Equal((ScanStatus.Scored, Sha256Hex.Of(scan.Bytes)), (result.Status, result.Input!.Sha256));
                    Assert.Contains(result.Model!.Version, new[] { before, after });
                }
                else
                {
                    Assert.Equal((ScanStatus.Rejected, ScanErrorCodes.UnreadableInput), (result.Status, result.Error!.Code));
                }
            }
            // The promotion took effect midway: both versions answered.
            var versions = scans.Where(s => s.Value.Valid).Select(s => seen.Last(s.Key)!.Model!.Version).ToList();
            Assert.Contains(before, versions);
            Assert.Contains(after, versions);
            // Duplicate deliveries happen (at least once); the same model must give the same answer.
            foreach (var (name, list) in answers)
                foreach (var byVersion in list.GroupBy(a => a.Version))
                    Assert.True(byVersion.Select(a => a.Probability).Distinct().Count() == 1, $"{name} answered differently by {byVersion.Key}: {string.Join(", ", byVersion)}");
        }
        finally
        {
            await stopWatching.CancelAsync();
            if (watching is not null) try { await watching; } catch (OperationCanceledException) { }
            if (host is not null) await host.DisposeAsync();
            await azurite.DisposeAsync();
        }
    }

    private sealed record Scan(byte[] Bytes, bool Valid);

    /// <summary>60 scans: 52 phantoms of three sizes and 8 unusable files (6 truncated gzip streams, 2 not NIfTI).</summary>
    private Dictionary<string, Scan> Scans()
    {
        string prefix = $"chaos/{Guid.NewGuid():N}/";
        var shapes = new[] { new VolumeShape(64, 64, 16), new VolumeShape(96, 96, 24), new VolumeShape(128, 128, 32) };
        var scans = new Dictionary<string, Scan>(StringComparer.Ordinal);
        for (int i = 0; i < 60; i++)
        {
            var bytes = e2e.Phantom(i % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal, seed: 500 + i, shapes[i % 3]);
            if (i is 3 or 10 or 17 or 24 or 31 or 45) scans[prefix + $"scan-{i:D2}-truncated.nii.gz"] = new Scan(bytes[..(bytes.Length / 2)], false);
            else if (i is 29 or 58) scans[prefix + $"scan-{i:D2}-text.nii"] = new Scan([.. "not a NIfTI file, only text long enough to be read as a header"u8, .. new byte[400]], false);
            else scans[prefix + $"scan-{i:D2}.nii.gz"] = new Scan(bytes, true);
        }
        Assert.Equal(8, scans.Values.Count(s => !s.Valid));
        return scans;
    }

    private static Task UploadAsync(PipelineServices services, Dictionary<string, Scan> scans, IEnumerable<string> names) =>
        Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (name, ct) => await services.Clients.Scans.UploadBlobAsync(name, BinaryData.FromBytes(scans[name].Bytes), ct));

    /// <summary>Waits (bounded) until at least <paramref name="count"/> of <paramref name="names"/> have a final result.</summary>
    private static async Task WaitForAsync(SeenResults seen, IEnumerable<string> names, int count)
    {
        var clock = Stopwatch.StartNew();
        while (seen.FinalCount(names) < count && clock.Elapsed < TimeSpan.FromSeconds(90)) await Task.Delay(100);
    }

    private static async Task<LocalHostProcess> RestartAsync(LocalHostProcess host, List<string> logs, string connection, string root, Dictionary<string, string> environment)
    {
        await host.KillAsync();
        logs.Add(host.Log);
        await host.DisposeAsync();
        return await LocalHostProcess.StartAsync(connection, root, environment);
    }

    private void Log(Stopwatch clock, string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {what}");

    /// <summary>Every result version seen, read whenever a result blob's ETag changes (every 250 ms); storage errors are waited out.</summary>
    private static async Task WatchAsync(PipelineServices services, SeenResults seen, CancellationToken cancellationToken)
    {
        var etags = new Dictionary<string, Azure.ETag>(StringComparer.Ordinal);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var blob in services.Clients.Results.GetBlobsAsync(BlobTraits.None, BlobStates.None, "chaos/", cancellationToken))
                {
                    if (etags.TryGetValue(blob.Name, out var etag) && etag == blob.Properties.ETag) continue;
                    if ((await services.Results.TryReadAsync(blob.Name, cancellationToken))?.Result is { } result) seen.Add(result);
                    etags[blob.Name] = blob.Properties.ETag!.Value;
                }
            }
            // Stopped while a listing was in flight: the SDK throws the cancellation from inside the request.
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
            // Storage down: refused, or a request that timed out (the SDK's network timeout is a TaskCanceledException).
            catch (Exception error) when (error is Azure.RequestFailedException or AggregateException or HttpRequestException or OperationCanceledException) { }
            try { await Task.Delay(250, cancellationToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>What the watcher saw, per scan, in order.</summary>
    private sealed class SeenResults
    {
        private readonly Dictionary<string, List<ScanResult>> _results = new(StringComparer.Ordinal);

        public void Add(ScanResult result)
        {
            lock (_results)
            {
                if (!_results.TryGetValue(result.Scan, out var list)) _results[result.Scan] = list = [];
                list.Add(result);
            }
        }

        public bool IsFinal(string scan)
        {
            lock (_results) return _results.TryGetValue(scan, out var list) && list[^1].Status is ScanStatus.Scored or ScanStatus.Rejected;
        }

        public int FinalCount(IEnumerable<string> scans) => scans.Count(IsFinal);

        public ScanResult? Last(string scan)
        {
            lock (_results) return _results.TryGetValue(scan, out var list) ? list[^1] : null;
        }

        public IReadOnlyList<string> Failed()
        {
            lock (_results) return [.. _results.Where(r => r.Value.Any(x => x.Status == ScanStatus.Failed)).Select(r => $"{r.Key}: {r.Value.First(x => x.Status == ScanStatus.Failed).Error?.Message}")];
        }

        public IEnumerable<string> StatusCounts()
        {
            lock (_results) return [.. _results.Values.SelectMany(l => l).GroupBy(r => r.Status).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}")];
        }
    }

    private sealed record Answer(string Version, string Probability);

    /// <summary>Every "Scored &lt;scan&gt;: &lt;label&gt; p=&lt;p&gt; with &lt;version&gt;" line of every host, per scan.</summary>
    private static Dictionary<string, List<Answer>> Answers(string logs)
    {
        var answers = new Dictionary<string, List<Answer>>(StringComparer.Ordinal);
        foreach (Match match in ScoredLine().Matches(logs))
        {
            string scan = match.Groups["scan"].Value;
            if (!answers.TryGetValue(scan, out var list)) answers[scan] = list = [];
            list.Add(new Answer(match.Groups["version"].Value, match.Groups["p"].Value));
        }
        return answers;
    }

    private static string Tail(string log) => log.Length > 6000 ? log[^6000..] : log;

    [GeneratedRegex(@"Scored (?<scan>chaos/\S+): \w+ p=(?<p>[0-9.]+) with (?<version>\S+)")]
    private static partial Regex ScoredLine();

    [GeneratedRegex(@"Pending-scan sweep re-ingested (?<count>\d+) scan")]
    private static partial Regex SweptLine();

    /// <summary>The retry lines of ScoreRequestRetrier and PoisonHandler ("retry N queued in", "delayed re-ingest N in").</summary>
    [GeneratedRegex(@"retry \d+ queued in|delayed re-ingest \d+ in")]
    private static partial Regex RetryLine();
}
