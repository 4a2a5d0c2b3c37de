using System.Diagnostics;
using CtScan.Contracts;
using CtScan.Phantoms;
using Xunit.Abstractions;

namespace CtScan.Pipeline.Tests.EndToEnd;

/// <summary>
/// Awkward blob names and replaced scans, end to end: real Azurite, the local host as its own process. Every name
/// gets exactly one result at <see cref="ScanNames.ResultBlobName"/>; a scan replaced while its first content is in
/// flight ends with the new content's result.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class NamesAndReplacementTests(EndToEndFixture e2e, ITestOutputHelper output)
{
    private static readonly TimeSpan ResultTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Pipeline_AwkwardBlobNames_EachExactlyOneResultAtItsPredictedName()
    {
        string prefix = $"e2e/names/{Guid.NewGuid():N}/";
        string longName = prefix + new string('l', ScanNames.MaxBlobNameLength - prefix.Length - ".nii.gz".Length) + ".nii.gz";
        var names = new List<string>
        {
            prefix + "hash#1.nii.gz",
            prefix + "percent%20stays%2Fliteral.nii.gz",
            prefix + "question?x=1&y=2.nii.gz",
            prefix + "with spaces/and  two  spaces .nii.gz",
            prefix + "dots..in..the..name.nii.gz",
            prefix + "..leading-dots.nii.gz",
            prefix + "ünïcødé/患者/скан 🫁.nii.gz",
            prefix + "plus+and;semicolon,comma'quote.nii.gz",
            longName,
        };
        Assert.Equal(ScanNames.MaxBlobNameLength, longName.Length);
        var scans = names.Select((n, i) => (Name: n, Bytes: e2e.Phantom(i % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal, seed: 300 + i))).ToList();
        foreach (var (name, bytes) in scans) await e2e.UploadAsync(name, bytes);
        // Storage keeps every one of these names as given (nothing is normalised away).
        var stored = new List<string>();
        await foreach (var blob in e2e.Services.Clients.Scans.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix })) stored.Add(blob.Name);
        Assert.Equal(names.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));

        var results = await e2e.WaitForResultsAsync(names, ResultTimeout);

        foreach (var (name, (result, _)) in results) output.WriteLine($"{ScanNames.ResultBlobName(name)}: {result.Status} {result.Error?.Code}");
        Assert.Equal(names.Count, results.Count);
        foreach (var (name, bytes) in scans)
        {
            var result = results[name].Result;
            Assert.Equal(name, result.Scan);
            Assert.Equal((ScanStatus.Scored, Sha256Hex.Of(bytes)), (result.Status, result.Input!.Sha256));
        }
        Assert.StartsWith(ScanNames.LongNamesFolder + "/", ScanNames.ResultBlobName(longName), StringComparison.Ordinal);
        // Exactly one result each: nothing else under the prefix, one blob for the long name.
        var resultNames = new List<string>();
        await foreach (var blob in e2e.Services.Clients.Results.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix })) resultNames.Add(blob.Name);
        Assert.Equal(names.Where(n => n != longName).Select(n => n + ".json").Order(StringComparer.Ordinal), resultNames.Order(StringComparer.Ordinal));
        var longResults = new List<string>();
        await foreach (var blob in e2e.Services.Clients.Results.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = ScanNames.ResultBlobName(longName)[..(ScanNames.LongNamesFolder.Length + 17)] })) longResults.Add(blob.Name);
        Assert.Equal([ScanNames.ResultBlobName(longName)], longResults);
    }

    [Fact]
    public async Task Pipeline_DotSegmentName_StoredResolvedOrRejectedNeverEscapes()
    {
        // The storage SDK resolves "." and ".." segments in the URL before the request is sent, so such a blob is
        // stored under the resolved name; the pipeline only ever sees (and names results after) that stored name.
        string prefix = $"e2e/dots/{Guid.NewGuid():N}/";
        string given = prefix + "a/../b.nii.gz", resolved = prefix + "b.nii.gz";
        var bytes = e2e.Phantom(PhantomLabel.Normal, seed: 320);
        await e2e.UploadAsync(given, bytes);
        var stored = new List<string>();
        await foreach (var blob in e2e.Services.Clients.Scans.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = prefix })) stored.Add(blob.Name);
        Assert.Equal([resolved], stored);

        var results = await e2e.WaitForResultsAsync([resolved], ResultTimeout);

        Assert.Equal((ScanStatus.Scored, Sha256Hex.Of(bytes)), (results[resolved].Result.Status, results[resolved].Result.Input!.Sha256));
    }

    [Fact]
    public async Task Pipeline_OldMessageHeldUntilNewContentScored_ResultIsNewContents()
    {
        string name = $"e2e/replaced/{Guid.NewGuid():N}/scan.nii.gz";
        byte[] first = e2e.Phantom(PhantomLabel.Normal, seed: 330), second = e2e.Phantom(PhantomLabel.Abnormal, seed: 331);
        var scans = e2e.Services.Clients.Scans.GetBlobClient(name);
        var firstETag = (await scans.UploadAsync(BinaryData.FromBytes(first))).Value.ETag;
        var firstResult = (await e2e.WaitForResultsAsync([name], ResultTimeout))[name].Result;
        Assert.Equal(Sha256Hex.Of(first), firstResult.Input!.Sha256);
        // The first version's request, held: invisible on the queue until it is released after the new content's result.
        var held = new ScoreRequest(name, Tensors.TensorNames.For(Sha256Hex.Of(first), new Preprocessing.PreprocessingOptions()), Sha256Hex.Of(first),
            DateTimeOffset.UtcNow, ContentMetadata.Text(firstETag));
        var release = TimeSpan.FromSeconds(20);
        await e2e.Services.Clients.ScoreRequests.SendMessageAsync(ContractsJson.Serialize(held), visibilityTimeout: release);
        var clock = Stopwatch.StartNew();

        await scans.UploadAsync(BinaryData.FromBytes(second), overwrite: true);
        var secondResult = await WaitForResultAsync(name, Sha256Hex.Of(second));
        Assert.True(clock.Elapsed < release, $"the new content's result came {clock.Elapsed.TotalSeconds:F0} s after the upload, after the old message's release");
        // Logs name a scan by its content hash (CtScan__LogScanNames is off by default): the held request is the first content's.
        string dropped = $"Dropped a stale score request for sha256:{Sha256Hex.Of(first)}";
        var wait = Stopwatch.StartNew();
        while (e2e.Host.LogLines(dropped).Count == 0 && wait.Elapsed < release + ResultTimeout) await Task.Delay(250);

        foreach (var line in e2e.Host.LogLines("sha256:")) output.WriteLine(line);
        Assert.Single(e2e.Host.LogLines(dropped));
        var final = (await e2e.Services.Results.TryReadAsync(ScanNames.ResultBlobName(name)))!.Value.Result!;
        Assert.Equal((Sha256Hex.Of(second), secondResult.CreatedAt), (final.Input!.Sha256, final.CreatedAt));
    }

    [Fact]
    public async Task Pipeline_ReplacedRightAfterUpload_FinalResultIsSecondContents()
    {
        // The first content is large (slow to preprocess), the replacement small: without the freshness checks the
        // first content's result would land last.
        string name = $"e2e/replaced-early/{Guid.NewGuid():N}/scan.nii.gz";
        byte[] first = e2e.Phantom(PhantomLabel.Normal, seed: 340, new VolumeShape(256, 256, 48)), second = e2e.Phantom(PhantomLabel.Abnormal, seed: 341);
        var scans = e2e.Services.Clients.Scans.GetBlobClient(name);
        await scans.UploadAsync(BinaryData.FromBytes(first));
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the host picks the first content up
        await scans.UploadAsync(BinaryData.FromBytes(second), overwrite: true);

        var result = await WaitForResultAsync(name, Sha256Hex.Of(second));
        await Task.Delay(TimeSpan.FromSeconds(10)); // anything still in flight for the first content finishes or is dropped

        foreach (var line in e2e.Host.LogLines("sha256:")) output.WriteLine(line);
        var final = (await e2e.Services.Results.TryReadAsync(ScanNames.ResultBlobName(name)))!.Value.Result!;
        Assert.Equal((ScanStatus.Scored, Sha256Hex.Of(second)), (final.Status, final.Input!.Sha256));
        Assert.Equal(result.CreatedAt, final.CreatedAt);
    }

    private async Task<ScanResult> WaitForResultAsync(string name, string sha256)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ResultTimeout)
        {
            if ((await e2e.Services.Results.TryReadAsync(ScanNames.ResultBlobName(name)))?.Result is { Input.Sha256: var sha } result && sha == sha256) return result;
            await Task.Delay(250);
        }
        throw new TimeoutException($"no result for {name} with content {sha256} within {ResultTimeout}");
    }
}
