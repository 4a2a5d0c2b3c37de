using System.Text.Json;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CtScan.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>What one <see cref="PoisonReplayer.ReplayAsync"/> pass did.</summary>
/// <param name="Requeued">Score requests moved back onto <c>score-requests</c>, per poison queue they came from.</param>
/// <param name="AlreadyAnswered">Poison score requests dropped because their scan has a newer result that is not <c>failed</c>.</param>
/// <param name="Unreadable">Poison messages that are not a score request or a blob-trigger message; left where they are.</param>
/// <param name="ReIngested">Scans ingested again: from <c>webjobs-blobtrigger-poison-poison</c>, and those with a <c>failed</c> (retries-exhausted) result.</param>
/// <param name="Gone">Scans named by a message or a failed result that no longer exist.</param>
public sealed record PoisonReplayReport(IReadOnlyDictionary<string, int> Requeued, int AlreadyAnswered, int Unreadable, IReadOnlyList<string> ReIngested, int Gone);

/// <summary>
/// Puts work that ran out of retries back into the pipeline once the cause (an outage longer than the retry window, a
/// broken model) is fixed: the score requests in <c>score-requests-poison</c> and <c>score-requests-poison-poison</c>
/// go back onto <c>score-requests</c> with a fresh retry window; the scans in <c>webjobs-blobtrigger-poison-poison</c>,
/// and every scan whose result is <c>failed</c> with <see cref="PipelineErrorCodes.RetriesExhausted"/>, are ingested
/// again. <c>webjobs-blobtrigger-poison</c> is left to its trigger: it holds the delayed re-ingests
/// <see cref="PoisonHandler"/> scheduled. Doing any of this twice is harmless (results are rewritten with the same
/// answer). Not on a timer on purpose: a cause that is not fixed would loop forever; the sweep reports the queues instead.
/// </summary>
public sealed class PoisonReplayer
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    private readonly PipelineClients _clients;
    private readonly ScanIngestor _ingestor;
    private readonly ResultStore _results;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public PoisonReplayer(PipelineServices services, ILogger<PoisonReplayer>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        _clients = services.Clients;
        _ingestor = services.Ingestor;
        _results = services.Results;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <param name="failedResults">Also re-ingest the scans whose result is <c>failed</c> because their retries ran out.</param>
    public async Task<PoisonReplayReport> ReplayAsync(bool failedResults = true, CancellationToken cancellationToken = default)
    {
        var requeued = new Dictionary<string, int>(StringComparer.Ordinal);
        var reIngested = new List<string>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        int already = 0, unreadable = 0, gone = 0;
        var queues = PoisonQueues.All(_clients.Options);
        foreach (var queue in queues.Where(q => q.Source == _clients.Options.ScoreRequestsQueue || q.Source == _clients.Options.ScoreRequestsPoisonQueue))
        {
            int moved = 0;
            await foreach (var message in ReceiveAllAsync(PoisonQueues.Client(_clients, queue), cancellationToken).ConfigureAwait(false))
            {
                ScoreRequest request;
                try { request = ScoreRequestMessage.Parse(message.Body.ToString()); }
                catch (InvalidDataException)
                {
                    unreadable++;
                    continue;
                }
                if (await AnsweredSinceAsync(request, cancellationToken).ConfigureAwait(false)) already++;
                else
                {
                    // A fresh window: the old one closed (or nearly) while the cause persisted.
                    await _clients.ScoreRequests.SendMessageAsync(ContractsJson.Serialize(request with { EnqueuedAt = _time.GetUtcNow(), Attempt = null }), cancellationToken).ConfigureAwait(false);
                    done.Add(request.Scan);
                    moved++;
                }
                await PoisonQueues.Client(_clients, queue).DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
            }
            requeued[queue.Name] = moved;
        }

        var blobPoison = queues.Single(q => q.Source == _clients.Options.BlobTriggerPoisonQueue);
        await foreach (var message in ReceiveAllAsync(PoisonQueues.Client(_clients, blobPoison), cancellationToken).ConfigureAwait(false))
        {
            BlobTriggerPoisonMessage? poison;
            try { poison = JsonSerializer.Deserialize(message.Body.ToString(), PipelineJsonContext.Default.BlobTriggerPoisonMessage); }
            catch (JsonException) { poison = null; }
            if (poison?.BlobName is not { Length: > 0 } blobName || poison.ContainerName != _clients.Options.ScansContainer)
            {
                unreadable++;
                continue;
            }
            if (done.Add(blobName))
            {
                if (await _ingestor.IngestBlobAsync(blobName, requeue: true, cancellationToken).ConfigureAwait(false) is null) gone++;
                else reIngested.Add(blobName);
            }
            await PoisonQueues.Client(_clients, blobPoison).DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
        }

        if (failedResults)
        {
            await foreach (var item in _results.Container.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (item.Name.StartsWith(ScanNames.InvalidMessagesFolder + "/", StringComparison.Ordinal)) continue;
                if ((await _results.TryReadAsync(item.Name, cancellationToken).ConfigureAwait(false))?.Result is not
                    { Status: ScanStatus.Failed, Error.Code: PipelineErrorCodes.RetriesExhausted } failed) continue;
                if (ScanNames.UnsafeReason(failed.Scan) is not null || !done.Add(failed.Scan)) continue;
                if (await _ingestor.IngestBlobAsync(failed.Scan, requeue: true, cancellationToken).ConfigureAwait(false) is null) gone++;
                else reIngested.Add(failed.Scan);
            }
        }
        var report = new PoisonReplayReport(requeued, already, unreadable, reIngested, gone);
        _logger.LogWarning("Replay: {Requeued} score request(s) queued again, {ReIngested} scan(s) ingested again, {Already} already answered, {Gone} gone, {Unreadable} unreadable left in place",
            requeued.Values.Sum(), reIngested.Count, already, gone, unreadable);
        return report;
    }

    /// <summary>Whether the scan has a result newer than the request's first queueing that is not a failure.</summary>
    private async Task<bool> AnsweredSinceAsync(ScoreRequest request, CancellationToken cancellationToken)
    {
        if (ScanNames.UnsafeReason(request.Scan) is not null) return false;
        var existing = (await _results.TryReadAsync(ScanNames.ResultBlobName(request.Scan), cancellationToken).ConfigureAwait(false))?.Result;
        return existing is not null && existing.Status != ScanStatus.Failed && existing.CreatedAt >= request.EnqueuedAt;
    }

    /// <summary>Every message visible now, each received once (invisible for <see cref="Lease"/>); nothing when the queue does not exist.</summary>
    private static async IAsyncEnumerable<QueueMessage> ReceiveAllAsync(QueueClient queue, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            QueueMessage[] batch;
            try
            {
                batch = (await queue.ReceiveMessagesAsync(32, Lease, cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException error) when (error.Status == 404)
            {
                yield break;
            }
            if (batch.Length == 0) yield break;
            foreach (var message in batch) yield return message;
        }
    }
}
