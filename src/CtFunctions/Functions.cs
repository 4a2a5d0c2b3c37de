using CtScan.Pipeline;
using Microsoft.Azure.Functions.Worker;

namespace CtFunctions;

/// <summary>
/// A scan dropped in <c>scans</c>: preprocess it into the tensor cache and queue it for scoring. The ingestor reads
/// the blob itself (not a bound stream) so it knows which version (ETag) the bytes are; the binding is a client only.
/// </summary>
public sealed class PreprocessScan(ScanIngestor ingestor)
{
    [Function(nameof(PreprocessScan))]
    public Task RunAsync(
        [BlobTrigger(PipelineOptions.DefaultScansContainer + "/{name}", Source = BlobTriggerSource.EventGrid, Connection = StorageConnection.Name)] Azure.Storage.Blobs.BlobClient scan,
        string name,
        CancellationToken cancellationToken) =>
        ingestor.IngestBlobAsync(name, requeue: false, cancellationToken);
}

/// <summary>
/// A score request: score the cached tensor with the current model and write the result JSON; a failed attempt is
/// queued again with a growing delay until the retry window closes (<see cref="ScoreRequestRetrier"/>).
/// </summary>
public sealed class ScoreScan(ScoreRequestRetrier handler)
{
    [Function(nameof(ScoreScan))]
    public Task RunAsync(
        [QueueTrigger(PipelineOptions.DefaultScoreRequestsQueue, Connection = StorageConnection.Name)] string message,
        CancellationToken cancellationToken) =>
        handler.HandleAsync(message, cancellationToken);
}

/// <summary>
/// An explain request (queued after scoring when <c>CtScan__Explain</c> is true): the scan's saliency map and montage
/// into <c>results</c>, linked in its result JSON. Its own function, so scoring latency does not grow.
/// </summary>
public sealed class ExplainScan(ExplainRequestHandler handler)
{
    [Function(nameof(ExplainScan))]
    public Task RunAsync(
        [QueueTrigger(PipelineOptions.DefaultExplainRequestsQueue, Connection = StorageConnection.Name)] string message,
        CancellationToken cancellationToken) =>
        handler.HandleAsync(message, cancellationToken);
}

/// <summary>A score request that failed maxDequeueCount times: queued again later within the retry window, else a <c>failed</c> result.</summary>
public sealed class ScoreScanPoison(PoisonHandler handler)
{
    [Function(nameof(ScoreScanPoison))]
    public Task RunAsync(
        [QueueTrigger(PipelineOptions.DefaultScoreRequestsPoisonQueue, Connection = StorageConnection.Name)] string message,
        CancellationToken cancellationToken) =>
        handler.HandleScoreRequestAsync(message, cancellationToken);
}

/// <summary>
/// A scan whose preprocessing failed every retry (the host's blob-trigger poison queue): re-ingested later with a
/// growing delay within the retry window, else a <c>failed</c> result.
/// </summary>
public sealed class BlobTriggerPoison(PoisonHandler handler)
{
    [Function(nameof(BlobTriggerPoison))]
    public Task RunAsync(
        [QueueTrigger(PipelineOptions.DefaultBlobTriggerPoisonQueue, Connection = StorageConnection.Name)] string message,
        CancellationToken cancellationToken) =>
        handler.HandleBlobTriggerPoisonAsync(message, cancellationToken);
}

/// <summary>
/// Every five minutes: scans without a result for <c>CtScan__SweepGraceMinutes</c> (default 15) are ingested again,
/// and the events Event Grid dead-lettered into <c>CtScan__DeadLetterContainer</c> (default eventgrid-deadletter) are
/// replayed, so an event lost between Event Grid and the app still gets its scan a result.
/// </summary>
public sealed class SweepPendingScans(ScheduledSweep sweep)
{
    /// <summary>Every five minutes, at second 0 (NCRONTAB with seconds).</summary>
    public const string Schedule = "0 */5 * * * *";

    [Function(nameof(SweepPendingScans))]
    public Task RunAsync([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        sweep.RunAsync(cancellationToken);
}

/// <summary>The app setting prefix of the storage connection (a connection string locally, managed identity in Azure).</summary>
internal static class StorageConnection
{
    public const string Name = "AzureWebJobsStorage";
}
