using System.Text.Json;
using Azure;
using CtScan.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>
/// Records messages that exhausted the host's retries, so nothing vanishes: each poison message becomes a
/// <c>failed</c> result (code <see cref="PipelineErrorCodes.RetriesExhausted"/>) unless a result for that scan already
/// exists that is at least as new as the failed work (then it is kept, never overwritten).
/// </summary>
public class PoisonHandler
{
    private readonly PipelineClients _clients;
    private readonly ResultStore _results;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    protected PoisonHandler()
    {
        _clients = null!;
        _results = null!;
        _logger = NullLogger.Instance;
        _time = TimeProvider.System;
    }

    public PoisonHandler(PipelineClients clients, ResultStore results, ILogger<PoisonHandler>? logger = null, TimeProvider? timeProvider = null)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _results = results ?? throw new ArgumentNullException(nameof(results));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
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
        var result = Failed(request.Scan,
            $"scoring failed after {Attempts} attempts (tensor {request.Tensor}, sha256 {request.Sha256}, queued {request.EnqueuedAt:O}); the message was moved to {_clients.Options.ScoreRequestsPoisonQueue}. Check the host's logs, then upload the scan again.");
        // Keep a result written after this request was queued (by a later successful attempt or a newer upload).
        bool written = await _results.WriteUnlessKeptAsync(ScanNames.ResultBlobName(request.Scan), result,
            existing => existing is not null && existing.CreatedAt >= request.EnqueuedAt, cancellationToken).ConfigureAwait(false);
        _logger.LogError("Score request for {Scan} exhausted its retries; failed result written: {Written}", ScanLogName.Of(_clients.Options, request.Scan, request.Sha256), written);
        return written;
    }

    /// <summary>
    /// A message from <c>webjobs-blobtrigger-poison</c>: JSON with FunctionId, BlobType, ContainerName, BlobName, ETag.
    /// Returns whether a result was written.
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

        // FunctionId is "Host.Functions.PreprocessScan" on Functions, "<Namespace>.PreprocessScan.Run" on the WebJobs SDK.
        string function = poison.FunctionId is { Length: > 0 } id ? (id.EndsWith(".Run", StringComparison.Ordinal) ? id[..^4] : id) : "the blob trigger";
        function = function[(function.LastIndexOf('.') + 1)..];
        var result = Failed(blobName,
            $"{function} failed after {_clients.Options.BlobTriggerMaxAttempts} attempts on {poison.ContainerName}/{blobName} (ETag {poison.ETag}); the blob was not preprocessed. Check the host's logs, then upload the scan again.");
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
