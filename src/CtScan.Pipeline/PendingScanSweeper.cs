using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>
/// Finds scans that were uploaded (or last changed) more than a grace period ago and have no result for their
/// current content, and ingests them again, so a host that died mid-work or a lost event loses nothing: the WebJobs SDK
/// keeps a dequeued message invisible for a fixed 10 minutes, a blob trigger whose host died waits for its receipt
/// lease, and an Event Grid event can be dropped. A result is for the current content when its
/// <see cref="ContentMetadata.Sha256"/> equals the scan's tag, or its <see cref="ContentMetadata.ScanETag"/> equals the
/// scan's ETag (results of names rejected before hashing); a result without that metadata (written by an older
/// version) counts as done. Re-ingesting is safe: the tensor is written once (If-None-Match), the request is checked
/// against the blob's current content, and results are written conditionally.
/// </summary>
public sealed class PendingScanSweeper
{
    private readonly PipelineClients _clients;
    private readonly ScanIngestor _ingestor;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public PendingScanSweeper(PipelineClients clients, ScanIngestor ingestor, ILogger<PendingScanSweeper>? logger = null, TimeProvider? timeProvider = null)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _ingestor = ingestor ?? throw new ArgumentNullException(nameof(ingestor));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Re-ingests every scan without a result for its current content that is older than <paramref name="grace"/> and
    /// was never ingested (not by this host's ingestor, nor by another host: no content tag), or older than
    /// <paramref name="ingestedGrace"/> (default: the same); returns their names. Tagging a blob updates its
    /// Last-Modified, so for a tagged scan the age is the time since it was queued.
    /// </summary>
    public async Task<IReadOnlyList<string>> SweepAsync(TimeSpan grace, TimeSpan? ingestedGrace = null, CancellationToken cancellationToken = default)
    {
        var results = new Dictionary<string, IDictionary<string, string>>(StringComparer.Ordinal);
        await foreach (var blob in _clients.Results.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, cancellationToken).ConfigureAwait(false))
            results[blob.Name] = blob.Metadata;

        var now = _time.GetUtcNow();
        var candidates = new List<string>();
        await foreach (var blob in _clients.Scans.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, cancellationToken).ConfigureAwait(false))
        {
            if (blob.Properties.LastModified is not { } modified) continue;
            if (now - modified < Grace(blob.Name, blob.Metadata, grace, ingestedGrace)) continue;
            if (WhyPending(blob.Metadata, blob.Properties.ETag, results.GetValueOrDefault(ScanNames.ResultBlobName(blob.Name))) is null) continue;
            candidates.Add(blob.Name);
        }
        // Hosts sweeping at the same moment would otherwise walk the same list in the same order, ingesting each scan together.
        var order = candidates.ToArray();
        Random.Shared.Shuffle(order);

        var swept = new List<string>();
        foreach (string name in order)
        {
            // Each ingest takes a while, so the listing ages: look again (a blob trigger or another host may have taken it).
            var (why, modified, tagged) = await RecheckAsync(name, grace, ingestedGrace, cancellationToken).ConfigureAwait(false);
            if (why is null) continue;
            if (await _ingestor.IngestBlobAsync(name, requeue: true, cancellationToken).ConfigureAwait(false) is null) continue; // deleted meanwhile
            swept.Add(name);
            _logger.LogWarning("Re-ingested {Scan}: {Why} {Seconds:F0} s after its last change",
                ScanLogName.Of(_clients.Options, name, tagged), why, (_time.GetUtcNow() - modified).TotalSeconds);
        }
        return swept;
    }

    /// <summary>Why the scan is pending now (null: it is not, or it is gone), from its properties and its result's as they are now.</summary>
    private async Task<(string? Why, DateTimeOffset Modified, string? Tagged)> RecheckAsync(string name, TimeSpan grace, TimeSpan? ingestedGrace, CancellationToken cancellationToken)
    {
        BlobProperties scan;
        try
        {
            scan = (await _clients.Scans.GetBlobClient(name).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return (null, default, null);
        }
        string? tagged = scan.Metadata.TryGetValue(ContentMetadata.Sha256, out var t) ? t : null;
        if (_time.GetUtcNow() - scan.LastModified < Grace(name, scan.Metadata, grace, ingestedGrace)) return (null, scan.LastModified, tagged);
        IDictionary<string, string>? result = null;
        try
        {
            result = (await _clients.Results.GetBlobClient(ScanNames.ResultBlobName(name)).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.Metadata;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            // no result yet
        }
        return (WhyPending(scan.Metadata, scan.ETag, result), scan.LastModified, tagged);
    }

    /// <summary>
    /// The grace for this scan: <paramref name="ingestedGrace"/> when some host has it in hand (this host's ingestor
    /// saw it, or the blob carries the content tag, which the ingestor writes after queueing the score request), else
    /// <paramref name="grace"/>. Without the tag check a second host sweeps every scan the first one queued as soon as
    /// it waits longer than the short grace: in a backlog, all work done twice.
    /// </summary>
    private TimeSpan Grace(string name, IDictionary<string, string> scanMetadata, TimeSpan grace, TimeSpan? ingestedGrace) =>
        _ingestor.HasSeen(name) || scanMetadata.ContainsKey(ContentMetadata.Sha256) ? ingestedGrace ?? grace : grace;

    /// <summary>Null when <paramref name="result"/> (its blob metadata; null: no result) describes the scan's current content; else why not.</summary>
    internal static string? WhyPending(IDictionary<string, string> scanMetadata, ETag? scanETag, IDictionary<string, string>? result)
    {
        if (result is null) return "no result";
        bool hasSha = result.TryGetValue(ContentMetadata.Sha256, out var resultSha);
        bool hasETag = result.TryGetValue(ContentMetadata.ScanETag, out var resultETag);
        if (!hasSha && !hasETag) return null; // written before results recorded their content: trust it
        if (hasSha && scanMetadata.TryGetValue(ContentMetadata.Sha256, out var scanSha) && scanSha == resultSha) return null;
        if (hasETag && scanETag is { } etag && ContentMetadata.Text(etag) == resultETag) return null;
        return $"its result is for other content (sha256 {resultSha ?? "unknown"})";
    }
}
