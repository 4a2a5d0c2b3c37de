using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>What one <see cref="ScheduledSweep.RunAsync"/> did.</summary>
/// <param name="ReIngested">Scans without a result after the grace period, ingested again.</param>
/// <param name="PoisonQueues">Message counts of every poison queue (errors are logged for those no trigger reads).</param>
public sealed record ScheduledSweepReport(IReadOnlyList<string> ReIngested, DeadLetterReplayReport DeadLetters, IReadOnlyList<PoisonQueueCount>? PoisonQueues = null);

/// <summary>
/// The Functions app's timer-triggered safety net (the local host runs <see cref="PendingScanSweeper"/> on its own
/// timer): scans without a result for <see cref="ScanSweepSettings.Grace"/> are ingested again, then Event Grid's
/// dead-lettered events are replayed (<see cref="DeadLetterReplayer"/>), skipping the scans the first step just took.
/// Together they cover an event that never arrived, one that arrived at an instance that died, and one that Event Grid
/// gave up on. Last it watches the poison queues no trigger reads (<see cref="Pipeline.PoisonQueues"/>).
/// </summary>
public sealed class ScheduledSweep
{
    private readonly PendingScanSweeper _pending;
    private readonly DeadLetterReplayer _deadLetters;
    private readonly ScanSweepSettings _settings;
    private readonly PipelineClients _clients;
    private readonly ILogger _logger;

    public ScheduledSweep(PipelineServices services, ScanSweepSettings settings, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _clients = services.Clients;
        var logs = loggerFactory ?? NullLoggerFactory.Instance;
        _pending = new PendingScanSweeper(services.Clients, services.Ingestor, logs.CreateLogger<PendingScanSweeper>());
        _deadLetters = new DeadLetterReplayer(services.Clients, services.Clients.BlobService.GetBlobContainerClient(settings.DeadLetterContainer),
            services.Ingestor, logs.CreateLogger<DeadLetterReplayer>());
        _logger = logs.CreateLogger<ScheduledSweep>();
    }

    public async Task<ScheduledSweepReport> RunAsync(CancellationToken cancellationToken = default)
    {
        // This instance's ingestor may not have seen a scan another instance is working on: one grace for all.
        var reIngested = await _pending.SweepAsync(_settings.Grace, _settings.Grace, cancellationToken).ConfigureAwait(false);
        var deadLetters = await _deadLetters.ReplayAsync(reIngested.ToHashSet(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        if (reIngested.Count > 0 || deadLetters.Blobs > 0 || deadLetters.Malformed > 0)
            _logger.LogWarning(
                "Sweep: {ReIngested} scan(s) without a result after {GraceMinutes} min ingested again; {DeadLetterBlobs} dead-letter blob(s) replayed ({Replayed} scan(s) ingested, {AlreadyHandled} already handled, {Gone} gone, {Ignored} other events), {Malformed} malformed moved aside",
                reIngested.Count, _settings.Grace.TotalMinutes, deadLetters.Blobs, deadLetters.Replayed.Count, deadLetters.AlreadyHandled, deadLetters.Gone, deadLetters.Ignored, deadLetters.Malformed);
        var poison = await Pipeline.PoisonQueues.WatchAsync(_clients, _logger, cancellationToken).ConfigureAwait(false);
        return new ScheduledSweepReport(reIngested, deadLetters, poison);
    }
}
