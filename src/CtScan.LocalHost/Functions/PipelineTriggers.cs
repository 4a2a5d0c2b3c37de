using CtScan.Pipeline;
using Microsoft.Azure.WebJobs;

namespace CtScan.LocalHost.Functions;

/// <summary>
/// Blob trigger: a scan dropped in <c>scans</c> is hashed, preprocessed (unless cached) and queued. The ingestor reads
/// the blob itself so it knows which version (ETag) the bytes are; the binding is a client only.
/// </summary>
public sealed class PreprocessScan(ScanIngestor ingestor)
{
    [FunctionName(nameof(PreprocessScan))]
    public Task Run([BlobTrigger("scans/{name}")] Azure.Storage.Blobs.BlobClient blob, string name, CancellationToken cancellationToken) =>
        ingestor.IngestBlobAsync(name, requeue: false, cancellationToken);
}

/// <summary>Queue trigger: scores one request with the current model and writes its result; failed attempts are retried later.</summary>
public sealed class ScoreScan(ScoreRequestRetrier handler)
{
    [FunctionName(nameof(ScoreScan))]
    public Task Run([QueueTrigger("score-requests")] string message, CancellationToken cancellationToken) =>
        handler.HandleAsync(message, cancellationToken);
}

/// <summary>Queue trigger on score-requests-poison: queues the request again later within the retry window, else records a failed result.</summary>
public sealed class ScoreScanPoison(PoisonHandler handler)
{
    [FunctionName(nameof(ScoreScanPoison))]
    public Task Run([QueueTrigger("score-requests-poison")] string message, CancellationToken cancellationToken) =>
        handler.HandleScoreRequestAsync(message, cancellationToken);
}

/// <summary>Queue trigger on the hosts' blob-trigger poison queue: re-ingests the blob later within the retry window, else records a failed result.</summary>
public sealed class BlobTriggerPoison(PoisonHandler handler)
{
    [FunctionName(nameof(BlobTriggerPoison))]
    public Task Run([QueueTrigger("webjobs-blobtrigger-poison")] string message, CancellationToken cancellationToken) =>
        handler.HandleBlobTriggerPoisonAsync(message, cancellationToken);
}

/// <summary>Queue trigger on explain-requests: the saliency map and montage of a scored scan, linked in its result.</summary>
public sealed class ExplainScan(ExplainRequestHandler handler)
{
    [FunctionName(nameof(ExplainScan))]
    public Task Run([QueueTrigger("explain-requests")] string message, CancellationToken cancellationToken) =>
        handler.HandleAsync(message, cancellationToken);
}
