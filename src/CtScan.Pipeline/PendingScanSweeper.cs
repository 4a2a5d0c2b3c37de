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
    /// was never ingested by this host's ingestor, or older than <paramref name="ingestedGrace"/> (default: the same);
    /// returns their names.
    /// </summary>
    public async Task<IReadOnlyList<string>> SweepAsync(TimeSpan grace, TimeSpan? ingestedGrace = null, CancellationToken cancellationToken = default)
    {
        var results = new Dictionary<string, IDictionary<string, string>>(StringComparer.Ordinal);
        await foreach (var blob in _clients.Results.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, cancellationToken).ConfigureAwait(false))
            results[blob.Name] = blob.Metadata;

        var now = _time.GetUtcNow();
        var swept = new List<string>();
        await foreach (var blob in _clients.Scans.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, cancellationToken).ConfigureAwait(false))
        {
            if (blob.Properties.LastModified is not { } modified) continue;
            if (now - modified < (_ingestor.HasSeen(blob.Name) ? ingestedGrace ?? grace : grace)) continue;
            string? why = WhyPending(blob, results.GetValueOrDefault(ScanNames.ResultBlobName(blob.Name)));
            if (why is null) continue;
            if (await _ingestor.IngestBlobAsync(blob.Name, requeue: true, cancellationToken).ConfigureAwait(false) is null) continue; // deleted meanwhile
            swept.Add(blob.Name);
            _logger.LogWarning("Re-ingested {Scan}: {Why} {Seconds:F0} s after its last change",
                ScanLogName.Of(_clients.Options, blob.Name, blob.Metadata.TryGetValue(ContentMetadata.Sha256, out var tagged) ? tagged : null), why, (_time.GetUtcNow() - modified).TotalSeconds);
        }
        return swept;
    }

    /// <summary>Null when <paramref name="result"/> (its blob metadata; null: no result) describes the scan's current content; else why not.</summary>
    internal static string? WhyPending(BlobItem scan, IDictionary<string, string>? result)
    {
        if (result is null) return "no result";
        bool hasSha = result.TryGetValue(ContentMetadata.Sha256, out var resultSha);
        bool hasETag = result.TryGetValue(ContentMetadata.ScanETag, out var resultETag);
        if (!hasSha && !hasETag) return null; // written before results recorded their content: trust it
        if (hasSha && scan.Metadata.TryGetValue(ContentMetadata.Sha256, out var scanSha) && scanSha == resultSha) return null;
        if (hasETag && scan.Properties.ETag is { } etag && ContentMetadata.Text(etag) == resultETag) return null;
        return $"its result is for other content (sha256 {resultSha ?? "unknown"})";
    }
}
