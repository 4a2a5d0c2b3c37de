using System.Diagnostics;
using CtScan.Contracts;
using CtScan.Phantoms;
using Xunit.Abstractions;

namespace CtScan.Pipeline.Tests.EndToEnd;

/// <summary>
/// The pipeline end to end: scans uploaded to a real Azurite, the local host running as its own process, results read
/// back from <c>results/</c>. Every wait is bounded; the timeouts are generous for a loaded 2-core machine.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class EndToEndTests(EndToEndFixture e2e, ITestOutputHelper output)
{
    private static readonly TimeSpan ResultTimeout = TimeSpan.FromSeconds(90);

    private static string Prefix(string test) => $"e2e/{test}/{Guid.NewGuid():N}/";

    [Fact]
    public async Task Pipeline_NormalAndAbnormalPhantoms_ScoredByCurrentModel()
    {
        string version = await e2e.CurrentVersionAsync();
        string prefix = Prefix("scored");
        var scans = new Dictionary<string, byte[]>
        {
            [prefix + "normal.nii.gz"] = e2e.Phantom(PhantomLabel.Normal, seed: 11),
            [prefix + "abnormal.nii.gz"] = e2e.Phantom(PhantomLabel.Abnormal, seed: 12),
        };
        var uploaded = DateTimeOffset.UtcNow;
        foreach (var (name, bytes) in scans) await e2e.UploadAsync(name, bytes);

        var results = await e2e.WaitForResultsAsync(scans.Keys, ResultTimeout);

        Assert.Equal(scans.Count, results.Count);
        foreach (var (name, (result, seenAt)) in results)
        {
            output.WriteLine($"{name}: {result.Status} {result.Label} p={result.ProbabilityAbnormal:F4} {result.Model?.Version}, {(seenAt - uploaded).TotalSeconds:F1} s after upload");
            Assert.Equal(ScanStatus.Scored, result.Status);
            Assert.Equal(name, result.Scan);
            Assert.Equal(version, result.Model!.Version);
            Assert.Equal(Sha256Hex.Of(scans[name]), result.Input!.Sha256);
            Assert.Equal([64, 64, 16], result.Input.Shape);
            Assert.InRange(result.ProbabilityAbnormal!.Value, 0, 1);
            Assert.Equal(ScanLabels.For(result.ProbabilityAbnormal.Value, result.Threshold!.Value), result.Label);
            Assert.Null(result.Error);
        }
    }

    [Fact]
    public async Task Pipeline_CorruptScans_RejectedWithSpecificMessages()
    {
        string prefix = Prefix("corrupt");
        var good = e2e.Phantom(PhantomLabel.Normal, seed: 21);
        string truncated = prefix + "truncated.nii.gz", notNifti = prefix + "not-nifti.nii", wrongType = prefix + "notes.txt";
        await e2e.UploadAsync(truncated, good[..(good.Length / 2)]);
        await e2e.UploadAsync(notNifti, "this is not a NIfTI file, just some text that is long enough to be read as a header"u8.ToArray().Concat(new byte[400]).ToArray());
        await e2e.UploadAsync(wrongType, "hello"u8.ToArray());

        var results = await e2e.WaitForResultsAsync([truncated, notNifti, wrongType], ResultTimeout);

        Assert.Equal(3, results.Count);
        foreach (var (name, (result, _)) in results) output.WriteLine($"{name}: {result.Status} {result.Error?.Code}: {result.Error?.Message}");
        var gz = results[truncated].Result;
        Assert.Equal(ScanStatus.Rejected, gz.Status);
        Assert.Equal(ScanErrorCodes.UnreadableInput, gz.Error!.Code);
        Assert.StartsWith(truncated, gz.Error.Message, StringComparison.Ordinal);
        Assert.Null(gz.Model);
        var raw = results[notNifti].Result;
        Assert.Equal(ScanStatus.Rejected, raw.Status);
        Assert.Equal(ScanErrorCodes.UnreadableInput, raw.Error!.Code);
        Assert.Contains("sizeof_hdr", raw.Error.Message, StringComparison.Ordinal);
        var text = results[wrongType].Result;
        Assert.Equal(ScanStatus.Rejected, text.Status);
        Assert.Equal(ScanErrorCodes.UnsupportedFormat, text.Error!.Code);
        Assert.Equal($"{wrongType}: unsupported file type; expected a NIfTI scan named *.nii or *.nii.gz", text.Error.Message);
    }

    [Fact]
    public async Task Pipeline_SameContentUnderTwoNames_PreprocessedOnce()
    {
        string prefix = Prefix("dedupe");
        var bytes = e2e.Phantom(PhantomLabel.Abnormal, seed: 31);
        string sha = Sha256Hex.Of(bytes);
        string first = prefix + "first.nii.gz", second = prefix + "copy of first.nii.gz";
        await Task.WhenAll(e2e.UploadAsync(first, bytes), e2e.UploadAsync(second, bytes));

        var results = await e2e.WaitForResultsAsync([first, second], ResultTimeout);

        Assert.Equal(2, results.Count);
        Assert.All(results.Values, r => Assert.Equal(ScanStatus.Scored, r.Result.Status));
        Assert.All(results.Values, r => Assert.Equal(sha, r.Result.Input!.Sha256));
        Assert.Equal(results[first].Result.ProbabilityAbnormal, results[second].Result.ProbabilityAbnormal);
        var tensors = new List<string>();
        await foreach (var blob in e2e.Services.Clients.Tensors.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, sha, default)) tensors.Add(blob.Name);
        Assert.Single(tensors);
        // The ingestor logs "Queued <scan> (<sha>) as <tensor>; preprocessed: True|False": exactly one created the tensor.
        var queued = e2e.Host.LogLines($"({sha})");
        foreach (var line in queued) output.WriteLine(line);
        Assert.Single(queued, line => line.EndsWith("preprocessed: True", StringComparison.Ordinal));
        Assert.Contains(queued, line => line.EndsWith("preprocessed: False", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pipeline_ModelPromotedMidStream_LaterResultsNameNewVersion()
    {
        string before = await e2e.CurrentVersionAsync();
        string after = before == PipelineTestContext.Manifest(PipelineTestContext.ModelLow).Version
            ? PipelineTestContext.Manifest(PipelineTestContext.ModelHigh).Version
            : PipelineTestContext.Manifest(PipelineTestContext.ModelLow).Version;
        string prefix = Prefix("promote");
        var early = Enumerable.Range(0, 3).Select(i => prefix + $"before-{i}.nii.gz").ToList();
        var late = Enumerable.Range(0, 3).Select(i => prefix + $"after-{i}.nii.gz").ToList();
        for (int i = 0; i < 3; i++) await e2e.UploadAsync(early[i], e2e.Phantom(PhantomLabel.Normal, seed: 40 + i));
        var earlyResults = await e2e.WaitForResultsAsync(early, ResultTimeout);

        var promoted = await e2e.Services.Registry.PromoteAsync(after);
        Assert.Equal(after, promoted.Version);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the host checks the pointer every second
        for (int i = 0; i < 3; i++) await e2e.UploadAsync(late[i], e2e.Phantom(PhantomLabel.Abnormal, seed: 50 + i));
        var lateResults = await e2e.WaitForResultsAsync(late, ResultTimeout);

        Assert.Equal(3, earlyResults.Count);
        Assert.Equal(3, lateResults.Count);
        Assert.All(earlyResults.Values, r => Assert.Equal((ScanStatus.Scored, before), (r.Result.Status, r.Result.Model!.Version)));
        Assert.All(lateResults.Values, r => Assert.Equal((ScanStatus.Scored, after), (r.Result.Status, r.Result.Model!.Version)));
    }

    [Fact]
    public async Task Pipeline_FiftyScansAtOnce_AllScored()
    {
        string prefix = Prefix("fifty");
        var scans = Enumerable.Range(0, 50).ToDictionary(
            i => prefix + $"scan-{i:D2}.nii.gz",
            i => e2e.Phantom(i % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal, seed: 100 + i));
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(scans, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (scan, _) => await e2e.UploadAsync(scan.Key, scan.Value));

        var results = await e2e.WaitForResultsAsync(scans.Keys, TimeSpan.FromSeconds(180));

        output.WriteLine($"{results.Count} of {scans.Count} results in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(scans.Count, results.Count);
        Assert.All(results, r => Assert.Equal((ScanStatus.Scored, Sha256Hex.Of(scans[r.Key])), (r.Value.Result.Status, r.Value.Result.Input!.Sha256)));
        Assert.Equal(scans.Count, results.Values.Select(r => r.Result.Input!.Sha256).Distinct().Count());
    }

    [Fact]
    public async Task Pipeline_HostKilledWithScansInFlight_RestartedHostLosesNone()
    {
        string prefix = Prefix("killed");
        // Enough work that the host cannot finish it between two polls of the results: 12 scans of 128×128×32 were once
        // all done before the kill (a burst of ~0.2 s once the blob trigger saw them).
        var scans = Enumerable.Range(0, 24).ToDictionary(
            i => prefix + $"scan-{i:D2}.nii.gz",
            i => e2e.Phantom(i % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal, seed: 200 + i, new VolumeShape(256, 256, 48)));
        await Parallel.ForEachAsync(scans, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (scan, _) => await e2e.UploadAsync(scan.Key, scan.Value));

        // Kill as soon as the first result lands: the rest are queued, being preprocessed or being scored.
        var first = await e2e.WaitForAnyResultAsync(scans.Keys, ResultTimeout);
        Assert.True(first > 0, "no result before the kill: the host never worked");
        await e2e.Host.KillAsync();
        int atKill = await e2e.CountResultsAsync(scans.Keys);
        output.WriteLine($"{atKill} of {scans.Count} results when the host was killed");
        await e2e.KillAndRestartHostAsync();
        Assert.True(atKill < scans.Count, $"all {scans.Count} scans were done before the kill; nothing was in flight");

        var results = await e2e.WaitForResultsAsync(scans.Keys, TimeSpan.FromSeconds(120));

        Assert.Equal(scans.Count, results.Count);
        Assert.All(results.Values, r => Assert.Contains(r.Result.Status, new[] { ScanStatus.Scored, ScanStatus.Failed }));
        output.WriteLine($"statuses: {string.Join(", ", results.Values.GroupBy(r => r.Result.Status).Select(g => $"{g.Key} {g.Count()}"))}");
        foreach (var line in e2e.Host.LogLines("Re-ingested")) output.WriteLine(line);
        var scored = results.Values.Where(r => r.Result.Status == ScanStatus.Scored).ToList();
        Assert.All(scored, r => Assert.Equal(Sha256Hex.Of(scans[r.Result.Scan]), r.Result.Input!.Sha256));
    }
}
