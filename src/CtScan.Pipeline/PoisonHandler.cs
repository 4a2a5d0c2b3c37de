using System.Text.Json;
using Azure;
using CtScan.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>
/// Handles messages that exhausted the hosts' own retries, so nothing vanishes and no outage shorter than the retry
/// window (<see cref="PipelineOptions.RetryWindow"/>) becomes a permanent failure. While the window is open the work is
/// scheduled again with a growing delay (<see cref="RetrySchedule"/>): a score request goes back to
/// <c>score-requests</c>, a scan whose preprocessing failed is re-ingested later (its poison message is sent back to
/// the same queue, invisible until then). After the window the scan gets a <c>failed</c> result (code
/// <see cref="PipelineErrorCodes.RetriesExhausted"/>) unless a result for it already exists that is at least as new as
/// the failed work (then it is kept, never overwritten); <c>ctscan replay</c> retries those once the cause is fixed.
/// </summary>
public class PoisonHandler
{
    private readonly PipelineClients _clients;
    private readonly ResultStore _results;
    private readonly ScanIngestor? _ingestor;
    private readonly RetrySchedule _schedule;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    protected PoisonHandler()
    {
        _clients = null!;
        _results = null!;
        _schedule = null!;
        _logger = NullLogger.Instance;
        _time = TimeProvider.System;
    }

    /// <param name="ingestor">Re-ingests scans whose preprocessing failed; null: such scans are failed at once (no delayed retry).</param>
    public PoisonHandler(PipelineClients clients, ResultStore results, ILogger<PoisonHandler>? logger = null, TimeProvider? timeProvider = null,
        ScanIngestor? ingestor = null, RetrySchedule? schedule = null)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _results = results ?? throw new ArgumentNullException(nameof(results));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _ingestor = ingestor;
        _schedule = schedule ?? new RetrySchedule(clients.Options, null, _time);
    }

    private int Attempts => _clients.Options.MaxDequeueCount;

    /// <summary>A message from <c>score-requests-poison</c> (the original ScoreRequest JSON). Returns whether a result was written.</summary>
    public virtual async Task<bool> HandleScoreRequestAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ScoreRequest request;
        try
        {
            request = ContractsJson.DeserializeScoreRequest(message);
            if (string.IsNullOrEmpty(request.Scan)) throw new InvalidDataException("the request names no scan");
        }
        catch (InvalidDataException error)
        {
            return await WriteInvalidAsync(message, $"an unreadable score request failed after {Attempts} attempts ({error.Message})", cancellationToken).ConfigureAwait(false);
        }
        var version = ScanVersion.Of(request);
        if (!version.Unversioned && (await new ScanFreshness(_clients).CheckAsync(request.Scan, version, cancellationToken).ConfigureAwait(false)).Freshness != Freshness.Current)
        {
            // The scan was replaced or deleted since: its failure says nothing about what the blob holds now.
            _logger.LogWarning("Score request for {Scan} ({Sha256}) exhausted its retries, but the blob has changed since; no result written", ScanLogName.Of(_clients.Options, request.Scan, request.Sha256), request.Sha256);
            return false;
        }
        int attempt = request.Attempt ?? 1;
        if (_schedule.WithinWindow(request.EnqueuedAt))
        {
            // The host tried this attempt maxDequeueCount times, too fast to outlast an outage: wait, then try again.
            var delay = _schedule.DelayBefore(attempt);
            if (await _schedule.SendLaterAsync(_clients.ScoreRequests, ContractsJson.Serialize(request with { Attempt = attempt + 1 }), delay, request.EnqueuedAt, cancellationToken).ConfigureAwait(false))
            {
                _logger.LogWarning("Score request for {Scan} failed {Tries} times on attempt {Attempt}; retry {Next} queued in {Delay:F0} s",
                    ScanLogName.Of(_clients.Options, request.Scan, request.Sha256), Attempts, attempt, attempt + 1, delay.TotalSeconds);
                return false;
            }
        }
        return await WriteScoreRequestFailedAsync(request, attempt, $"the host's {Attempts} tries of attempt {attempt} all failed; see its logs", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records that <paramref name="request"/> failed on its last attempt, <paramref name="attempt"/>, after the retry
    /// window: a <c>failed</c> result unless a result written after the request was first queued exists.
    /// </summary>
    /// <returns>Whether the result was written.</returns>
    public virtual async Task<bool> WriteScoreRequestFailedAsync(ScoreRequest request, int attempt, string lastError, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var elapsed = _time.GetUtcNow() - request.EnqueuedAt;
        var result = Failed(request.Scan,
            $"scoring failed on attempt {attempt}, {elapsed.TotalMinutes:F1} min after it was first queued (retry window {_schedule.WindowText}; tensor {request.Tensor}, sha256 {request.Sha256}, queued {request.EnqueuedAt:O}); last error: {lastError}. Fix the cause, then run `ctscan replay` (or upload the scan again).");
        // Keep a result written after this request was queued (by a later successful attempt or a newer upload).
        bool written = await _results.WriteUnlessKeptAsync(ScanNames.ResultBlobName(request.Scan), result,
            existing => existing is not null && existing.CreatedAt >= request.EnqueuedAt, cancellationToken).ConfigureAwait(false);
        _logger.LogError("Score request for {Scan} exhausted its retry window on attempt {Attempt}; failed result written: {Written}", ScanLogName.Of(_clients.Options, request.Scan, request.Sha256), attempt, written);
        return written;
    }

    /// <summary>
    /// A message from <c>webjobs-blobtrigger-poison</c>: JSON with FunctionId, BlobType, ContainerName, BlobName, ETag
    /// (the host's), or the same with <see cref="BlobTriggerPoisonMessage.Retry"/> (a re-ingest this handler scheduled).
    /// A scheduled re-ingest is run now; if it fails, or the message is the host's, the next one is scheduled while the
    /// retry window is open. Returns whether a failed result was written.
    /// </summary>
    public virtual async Task<bool> HandleBlobTriggerPoisonAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        BlobTriggerPoisonMessage? poison;
        try
        {
            poison = JsonSerializer.Deserialize(message, PipelineJsonContext.Default.BlobTriggerPoisonMessage);
        }
        catch (JsonException)
        {
            poison = null;
        }
        if (poison?.BlobName is not { Length: > 0 } blobName)
            return await WriteInvalidAsync(message, $"a blob-trigger poison message without a blob name failed after {_clients.Options.BlobTriggerMaxAttempts} attempts", cancellationToken).ConfigureAwait(false);

        string? lastError = null;
        if (_ingestor is not null && poison.ContainerName == _clients.Options.ScansContainer)
        {
            if (poison.Retry is { } retry)
            {
                try
                {
                    // Not requeue: a blob tagged with its content hash was ingested meanwhile (the sweep, a new upload).
                    await _ingestor.IngestBlobAsync(blobName, requeue: false, cancellationToken).ConfigureAwait(false);
                    _logger.LogWarning("Re-ingested {Blob} on delayed retry {Retry}", ScanLogName.Of(_clients.Options, blobName, null), retry);
                    return false;
                }
                catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    lastError = RetrySchedule.Brief(error);
                }
            }
            var first = poison.FirstAttemptAt ?? _time.GetUtcNow();
            int next = (poison.Retry ?? 0) + 1;
            if (_schedule.WithinWindow(first))
            {
                var delay = _schedule.DelayBefore(next);
                string again = JsonSerializer.Serialize(poison with { Retry = next, FirstAttemptAt = first }, PipelineJsonContext.Default.BlobTriggerPoisonMessage);
                if (await _schedule.SendLaterAsync(_clients.BlobTriggerPoison, again, delay, first, cancellationToken).ConfigureAwait(false))
                {
                    _logger.LogWarning("Preprocessing {Blob} failed ({Error}); delayed re-ingest {Retry} in {Delay:F0} s",
                        ScanLogName.Of(_clients.Options, blobName, null), lastError ?? "the host's retries were used up", next, delay.TotalSeconds);
                    return false;
                }
            }
        }

        // FunctionId is "Host.Functions.PreprocessScan" on Functions, "<Namespace>.PreprocessScan.Run" on the WebJobs SDK.
        string function = poison.FunctionId is { Length: > 0 } id ? (id.EndsWith(".Run", StringComparison.Ordinal) ? id[..^4] : id) : "the blob trigger";
        function = function[(function.LastIndexOf('.') + 1)..];
        var result = Failed(blobName,
            poison.Retry is { } retries
                ? $"{function} failed on {poison.ContainerName}/{blobName} (ETag {poison.ETag}) and on {retries} delayed re-ingest(s) over the retry window of {_schedule.WindowText}; last error: {lastError ?? "unknown"}. The blob was not preprocessed. Fix the cause, then run `ctscan replay` (or upload the scan again)."
                : $"{function} failed after {_clients.Options.BlobTriggerMaxAttempts} attempts on {poison.ContainerName}/{blobName} (ETag {poison.ETag}); the blob was not preprocessed. Check the host's logs, then run `ctscan replay` (or upload the scan again).");
        // A result newer than the blob's last modification is about this content: keep it.
        DateTimeOffset? blobModified = null;
        if (poison.ContainerName == _clients.Options.ScansContainer)
        {
            try
            {
                blobModified = (await _clients.Scans.GetBlobClient(blobName).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.LastModified;
            }
            catch (RequestFailedException error) when (error.Status == 404) { }
        }
        bool written = await _results.WriteUnlessKeptAsync(ScanNames.ResultBlobName(blobName), result,
            existing => existing is not null && (blobModified is null || existing.CreatedAt >= blobModified.Value), cancellationToken).ConfigureAwait(false);
        _logger.LogError("Blob trigger for {Blob} (ETag {ETag}) exhausted its retries; failed result written: {Written}", ScanLogName.Of(_clients.Options, blobName, null), poison.ETag, written);
        return written;
    }

    private async Task<bool> WriteInvalidAsync(string message, string reason, CancellationToken cancellationToken)
    {
        var result = new ScanResult
        {
            Scan = "(unreadable poison message)",
            Status = ScanStatus.Failed,
            Error = new ScanError(PipelineErrorCodes.RetriesExhausted, $"{reason}; message: {(message.Length > 300 ? message[..300] + "…" : message)}"),
            CreatedAt = _time.GetUtcNow(),
        };
        return await _results.WriteUnlessKeptAsync(ScanNames.InvalidMessageResultBlobName(message), result, null, cancellationToken).ConfigureAwait(false);
    }

    private ScanResult Failed(string scan, string message) => new()
    {
        Scan = scan,
        Status = ScanStatus.Failed,
        Error = new ScanError(PipelineErrorCodes.RetriesExhausted, message),
        CreatedAt = _time.GetUtcNow(),
    };
}
