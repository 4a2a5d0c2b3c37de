using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>
/// Finds scans that were uploaded more than a grace period ago and still have no result, and ingests them again, so a
/// host that died mid-work loses nothing: the WebJobs SDK keeps a dequeued message invisible for a fixed 10 minutes,
/// and a blob trigger whose host died waits for its receipt lease. Re-ingesting is safe: the tensor is written once
/// (If-None-Match), the score request is idempotent and a later result simply rewrites the same score.
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
    /// Re-ingests every scan without a result that is older than <paramref name="grace"/> and was never ingested by
    /// this host's ingestor, or older than <paramref name="ingestedGrace"/> (default: the same); returns their names.
    /// </summary>
    public async Task<IReadOnlyList<string>> SweepAsync(TimeSpan grace, TimeSpan? ingestedGrace = null, CancellationToken cancellationToken = default)
    {
        var results = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var blob in _clients.Results.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            results.Add(blob.Name);

        var now = _time.GetUtcNow();
        var swept = new List<string>();
        await foreach (var blob in _clients.Scans.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (blob.Properties.LastModified is not { } modified) continue;
            if (now - modified < (_ingestor.HasSeen(blob.Name) ? ingestedGrace ?? grace : grace)) continue;
            if (results.Contains(ScanNames.ResultBlobName(blob.Name))) continue;
            try
            {
                var content = (await _clients.Scans.GetBlobClient(blob.Name).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.Content;
                await using (content)
                    await _ingestor.IngestAsync(blob.Name, content, cancellationToken).ConfigureAwait(false);
                swept.Add(blob.Name);
                _logger.LogWarning("Re-ingested {Scan}: no result {Seconds:F0} s after upload", ScanLogName.Of(_clients.Options, blob.Name, null), (_time.GetUtcNow() - modified).TotalSeconds);
            }
            catch (RequestFailedException error) when (error.Status == 404)
            {
                // Deleted meanwhile: nothing to do.
            }
        }
        return swept;
    }
}
