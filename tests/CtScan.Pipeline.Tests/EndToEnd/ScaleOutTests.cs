using System.Diagnostics;
using System.Text.RegularExpressions;
using CtScan.Contracts;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using Xunit.Abstractions;

namespace CtScan.Pipeline.Tests.EndToEnd;

/// <summary>
/// Two local hosts, each its own process, on one Azurite, sharing what two instances on one machine share by default:
/// the temp folder (TMPDIR), hence the spool folder and the default model cache under it. 100 small scans → exactly one
/// result per scan, work split between the hosts (read from each host's own log: the ingestor's "Queued" and the
/// scorer's "Scored" lines name the scan by its content hash), duplicates only from a re-ingest or a redelivery and
/// then with the same score, and nothing left behind in the shared folders.
/// </summary>
public sealed partial class ScaleOutTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int ScanCount = 100;
    private static readonly VolumeShape ScanShape = new(64, 64, 16);

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-scaleout-");
    private AzuriteServer? _azurite;
    private PipelineServices? _services;
    private readonly List<LocalHostProcess> _hosts = [];

    private string SharedTemp => Path.Combine(_temp.FullName, "host-tmp");

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteServer.StartAsync();
        _services = new PipelineServices(PipelineOptions.ForConnectionString(_azurite.ConnectionString) with { ModelCacheDirectory = Path.Combine(_temp.FullName, "client-models") });
        await _services.Storage.EnsureCreatedAsync();
        await _services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(PipelineTestContext.ModelLow), new PublishOptions { Promote = true });
        Directory.CreateDirectory(SharedTemp);
        // No CtScan__ModelCacheDirectory: both hosts use the default cache under their (shared) temp folder.
        var environment = new Dictionary<string, string>(EndToEndFixture.FastSettings)
        {
            ["TMPDIR"] = SharedTemp,
            // Longer than this test's queue backlog on a loaded machine: a queued scan is not swept while it waits.
            ["CtScan__PendingIngestedGraceSeconds"] = "300",
            // 100 blobs at once are a blob-trigger backlog (2 at a time per host): the sweep waits 30 s before it helps.
            ["CtScan__PendingGraceSeconds"] = "30",
        };
        var hosts = await Task.WhenAll(
            LocalHostProcess.StartAsync(_azurite.ConnectionString, _temp.FullName, environment),
            LocalHostProcess.StartAsync(_azurite.ConnectionString, _temp.FullName, environment));
        _hosts.AddRange(hosts);
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts) await host.DisposeAsync();
        _services?.Dispose();
        if (_azurite is not null) await _azurite.DisposeAsync();
        try { _temp.Delete(recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task TwoHosts_HundredScans_OneResultEachWorkSplitDuplicatesHarmless()
    {
        var services = _services!;
        string prefix = $"scaleout/{Guid.NewGuid():N}/";
        var scans = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (int i = 0; i < ScanCount; i++)
            scans[prefix + $"scan-{i:D3}.nii.gz"] = Phantom(i % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal, seed: 7000 + i);
        var shaToName = scans.ToDictionary(s => Sha256Hex.Of(s.Value), s => s.Key, StringComparer.Ordinal);
        Assert.Equal(ScanCount, shaToName.Count); // distinct content, so a hash in a log line names one scan

        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(scans, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (scan, ct) => await services.Clients.Scans.UploadBlobAsync(scan.Key, BinaryData.FromBytes(scan.Value), ct));
        var results = await WaitForResultsAsync(services, scans.Keys, TimeSpan.FromSeconds(240));
        double drained = clock.Elapsed.TotalSeconds;
        // Let sweeps and redeliveries in flight finish, then stop both hosts (SIGTERM) so their logs are complete.
        await Task.Delay(TimeSpan.FromSeconds(4));
        var logs = _hosts.Select(h => h.Log).ToList();
        var pids = _hosts.Select(h => h.Id).ToList();
        if (Environment.GetEnvironmentVariable("CTSCAN_SCALEOUT_LOGS") is { } dump)
            for (int h = 0; h < logs.Count; h++) File.WriteAllText(Path.Combine(dump, $"host{h + 1}.log"), logs[h]);
        foreach (var host in _hosts) await host.DisposeAsync();
        _hosts.Clear();

        // Exactly one result per scan, for its content, scored.
        Assert.Equal(ScanCount, results.Count);
        foreach (var (name, result) in results)
        {
            Assert.Equal(name, result.Scan);
            Assert.Equal(ScanStatus.Scored, result.Status);
            Assert.Equal(Sha256Hex.Of(scans[name]), result.Input!.Sha256);
        }
        var resultBlobs = new List<string>();
        await foreach (var blob in services.Clients.Results.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix })) resultBlobs.Add(blob.Name);
        Assert.Equal(scans.Keys.Select(ScanNames.ResultBlobName).Order(StringComparer.Ordinal), resultBlobs.Order(StringComparer.Ordinal));

        // Who did what, from each host's log.
        var work = logs.Select(HostWork.Parse).ToList();
        output.WriteLine($"{ScanCount} scans of {ScanShape} on two hosts: all results after {drained:F1} s (timings noisy: 2 shared cores)");
        output.WriteLine($"{"host",6} {"pid",8} {"ingested",9} {"preprocessed",13} {"scored",7} {"swept",6} {"redelivered",12} {"errors",7}");
        for (int h = 0; h < work.Count; h++)
            output.WriteLine($"{h + 1,6} {pids[h],8} {work[h].Queued.Count,9} {work[h].Queued.Count(q => q.Preprocessed),13} {work[h].Scored.Count,7} {work[h].Swept,6} {work[h].Redelivered,12} {work[h].Failures.Count,7}");

        var scoredBy = work.SelectMany((w, h) => w.Scored.Select(s => (Host: h, s.Sha256, s.Label, s.Probability, s.Version))).ToLookup(s => s.Sha256, StringComparer.Ordinal);
        var queuedBy = work.SelectMany(w => w.Queued).ToLookup(q => q.Sha256, StringComparer.Ordinal);
        int reIngests = work.Sum(w => w.Swept), redeliveries = work.Sum(w => w.Redelivered);
        int duplicateScores = 0;
        foreach (var (sha, name) in shaToName)
        {
            var writes = scoredBy[sha].ToList();
            var final = results[name];
            // The hosts wrote the result we read: every write for this content gave the same label, score and model.
            Assert.NotEmpty(writes);
            Assert.All(writes, w => Assert.Equal((final.Label, final.ProbabilityAbnormal!.Value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture), final.Model!.Version),
                (w.Label, w.Probability, w.Version)));
            // At-least-once: a scan is queued again only by a sweep, and scored again only for a second request or a
            // redelivered one (each delivery writes at most once).
            int queued = queuedBy[sha].Count();
            Assert.InRange(queued, 1, 1 + reIngests);
            Assert.InRange(writes.Count, 1, queued + redeliveries);
            duplicateScores += writes.Count - 1;
            if (writes.Count > 1)
                output.WriteLine($"duplicate: {name} scored {writes.Count}× (hosts {string.Join(",", writes.Select(w => w.Host + 1))}), queued {queued}×, same score {writes[0].Probability}");
        }
        int duplicateIngests = queuedBy.Sum(g => g.Count() - 1);
        output.WriteLine($"duplicates: {duplicateIngests} extra ingest(s) ({reIngests} sweep re-ingest(s)), {duplicateScores} extra score write(s) ({redeliveries} redelivered request(s)), all with identical content");
        Assert.InRange(duplicateIngests, 0, reIngests);
        // And rare: before the sweep knew a scan the other host had queued (its content tag), a backlog re-ingested
        // 111 of 100 scans here; now a few where a sweep races the blob trigger under load.
        Assert.InRange(duplicateIngests, 0, ScanCount / 4);
        Assert.InRange(duplicateScores, 0, duplicateIngests + redeliveries);

        // The work is split: each host ingested a share of the scans (the blob-trigger backlog is the bottleneck here)
        // and scored some. Scoring a 64×64×16 scan takes a few ms, so one host's queue listener keeps the score queue
        // empty and the other's, polling every second, finds what is left (6 of 100 in one CI run).
        foreach (var (w, h) in work.Select((w, h) => (w, h)))
        {
            Assert.True(w.Scored.Count >= 1, $"host {h + 1} scored none of {ScanCount} scans: the score queue was not shared");
            Assert.True(w.Queued.Count >= ScanCount / 10, $"host {h + 1} ingested {w.Queued.Count} of {ScanCount} scans: the work was not split");
            Assert.True(w.Failures.Count == 0, $"host {h + 1} logged errors:\n{string.Join('\n', w.Failures)}");
            Assert.Contains("malloc arenas: ", logs[h], StringComparison.Ordinal); // the host capped glibc's arenas (NativeAllocator)
        }

        // No conflict on the shared local folders: one model folder (no half-finished downloads) and no spool files left.
        string cache = Path.Combine(SharedTemp, "ctscan-model-cache");
        var cached = Directory.GetDirectories(cache).Select(Path.GetFileName).ToList();
        output.WriteLine($"shared model cache: {string.Join(", ", cached)}");
        string version = PipelineTestContext.Manifest(PipelineTestContext.ModelLow).Version;
        Assert.Single(cached, d => d!.StartsWith(version + "-", StringComparison.Ordinal));
        Assert.Single(cached);
        Assert.Empty(Directory.GetFiles(SharedTemp, "ctscan-spool-*"));
    }

    private byte[] Phantom(PhantomLabel label, int seed)
    {
        string path = Path.Combine(_temp.FullName, $"phantom-{seed}.nii.gz");
        ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = ScanShape, Seed = seed, Label = label });
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    /// <summary>Polls the results under the names' prefix with one listing per round, reading each result once it exists.</summary>
    private static async Task<Dictionary<string, ScanResult>> WaitForResultsAsync(PipelineServices services, IEnumerable<string> names, TimeSpan timeout)
    {
        var byResult = names.ToDictionary(ScanNames.ResultBlobName, n => n, StringComparer.Ordinal);
        var found = new Dictionary<string, ScanResult>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        while (found.Count < byResult.Count && clock.Elapsed < timeout)
        {
            await foreach (var blob in services.Clients.Results.GetBlobsAsync())
            {
                if (!byResult.TryGetValue(blob.Name, out var name) || found.ContainsKey(name)) continue;
                if ((await services.Results.TryReadAsync(blob.Name))?.Result is { } result) found[name] = result;
            }
            if (found.Count < byResult.Count) await Task.Delay(500);
        }
        return found;
    }

    /// <summary>What one host's log says it did.</summary>
    private sealed record HostWork(List<(string Sha256, bool Preprocessed)> Queued, List<(string Sha256, string Label, string Probability, string Version)> Scored,
        int Swept, int Redelivered, List<string> Failures)
    {
        public static HostWork Parse(string log)
        {
            var work = new HostWork([], [], 0, 0, []);
            int swept = 0, redelivered = 0;
            foreach (var line in log.Split('\n'))
            {
                if (QueuedLine().Match(line) is { Success: true } q) work.Queued.Add((q.Groups["sha"].Value, q.Groups["created"].Value == "True"));
                else if (ScoredLine().Match(line) is { Success: true } s)
                    work.Scored.Add((s.Groups["sha"].Value, s.Groups["label"].Value, s.Groups["p"].Value, s.Groups["version"].Value));
                else if (SweptLine().Match(line) is { Success: true } w) swept += int.Parse(w.Groups["count"].Value, System.Globalization.CultureInfo.InvariantCulture);
                else if (line.Contains("fail: ", StringComparison.Ordinal) || line.Contains("crit: ", StringComparison.Ordinal)) work.Failures.Add(line.Trim());
                else if (DequeueCount().Match(line) is { Success: true } d && d.Groups["count"].Value != "1") redelivered++;
            }
            return work with { Swept = swept, Redelivered = redelivered };
        }
    }

    [GeneratedRegex(@"Pending-scan sweep re-ingested (?<count>\d+) scan")]
    private static partial Regex SweptLine();

    [GeneratedRegex(@"ScoreScan\[0\] Trigger Details: .*DequeueCount: (?<count>\d+)")]
    private static partial Regex DequeueCount();

    [GeneratedRegex(@"Queued sha256:(?<sha>[0-9a-f]{64}) \([0-9a-f]{64}\) as \S+; preprocessed: (?<created>True|False)")]
    private static partial Regex QueuedLine();

    [GeneratedRegex(@"Scored sha256:(?<sha>[0-9a-f]{64}): (?<label>\w+) p=(?<p>[0-9.]+) with (?<version>\S+)")]
    private static partial Regex ScoredLine();
}
