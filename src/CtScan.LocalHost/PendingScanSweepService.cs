using CtScan.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CtScan.LocalHost;

/// <summary>
/// Runs <see cref="PendingScanSweeper"/> once at start and then every <see cref="PipelineOptions.PendingSweepInterval"/>,
/// and watches the poison queues no trigger reads (<see cref="PoisonQueues.WatchAsync"/>) once a minute.
/// </summary>
internal sealed class PendingScanSweepService(PipelineServices services, ILogger<PendingScanSweepService> logger) : BackgroundService
{
    private static readonly TimeSpan PoisonWatchInterval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = services.Options;
        var sweeper = new PendingScanSweeper(services.Clients, services.Ingestor, null);
        using var timer = new PeriodicTimer(options.PendingSweepInterval);
        var lastWatch = DateTimeOffset.MinValue;
        do
        {
            if (DateTimeOffset.UtcNow - lastWatch >= PoisonWatchInterval)
            {
                lastWatch = DateTimeOffset.UtcNow;
                try { await PoisonQueues.WatchAsync(services.Clients, logger, stoppingToken); }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    logger.LogWarning(error, "Could not count the poison queues; trying again in {Interval}", PoisonWatchInterval);
                }
            }
            try
            {
                var swept = await sweeper.SweepAsync(options.PendingSweepGrace, options.PendingSweepIngestedGrace, stoppingToken);
                if (swept.Count > 0)
                    logger.LogWarning("Pending-scan sweep re-ingested {Count} scan(s) without a result", swept.Count);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                logger.LogWarning(error, "Pending-scan sweep failed; trying again in {Interval}", options.PendingSweepInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
