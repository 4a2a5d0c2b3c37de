using Azure;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;

namespace CtScan.Pipeline;

/// <summary>A poison queue the hosts can write to, the queue (or trigger) whose messages land there, and who reads it.</summary>
/// <param name="Name">The queue's name.</param>
/// <param name="Source">Where its messages came from.</param>
/// <param name="HasTrigger">Whether a poison trigger of the app reads it; the others only <c>ctscan replay</c> empties.</param>
public sealed record PoisonQueue(string Name, string Source, bool HasTrigger);

/// <summary>Message counts of the poison queues, for the sweep's log.</summary>
public sealed record PoisonQueueCount(PoisonQueue Queue, int ApproximateMessages);

/// <summary>
/// Every poison queue the app writes to. The WebJobs SDK (the local host and the Functions host alike) moves a queue
/// trigger's message to <c>&lt;queue&gt;-poison</c> after maxDequeueCount failed tries, and a blob trigger's to
/// <c>webjobs-blobtrigger-poison</c>. The app's triggers on <c>score-requests-poison</c> and
/// <c>webjobs-blobtrigger-poison</c> are queue triggers too, so when they themselves keep failing (storage down past
/// their own retries) their messages land in <c>score-requests-poison-poison</c> and
/// <c>webjobs-blobtrigger-poison-poison</c>, which nothing triggers on: the sweep reports them, and
/// <c>ctscan replay</c> (<see cref="PoisonReplayer"/>) moves them back.
/// </summary>
public static class PoisonQueues
{
    /// <summary>What the WebJobs SDK appends to a queue's name for its poison queue.</summary>
    public const string Suffix = "-poison";

    public static IReadOnlyList<PoisonQueue> All(PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return
        [
            new(options.ScoreRequestsPoisonQueue, options.ScoreRequestsQueue, HasTrigger: true),
            new(options.ScoreRequestsPoisonQueue + Suffix, options.ScoreRequestsPoisonQueue, HasTrigger: false),
            new(options.BlobTriggerPoisonQueue, "the PreprocessScan blob trigger", HasTrigger: true),
            new(options.BlobTriggerPoisonQueue + Suffix, options.BlobTriggerPoisonQueue, HasTrigger: false),
        ];
    }

    /// <summary>The approximate message count of every poison queue (0 for one the hosts have not created yet).</summary>
    public static async Task<IReadOnlyList<PoisonQueueCount>> CountAsync(PipelineClients clients, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clients);
        var counts = new List<PoisonQueueCount>();
        foreach (var queue in All(clients.Options))
        {
            int messages;
            try
            {
                messages = (await clients.QueueService.GetQueueClient(queue.Name).GetPropertiesAsync(cancellationToken).ConfigureAwait(false)).Value.ApproximateMessagesCount;
            }
            catch (RequestFailedException error) when (error.Status == 404)
            {
                messages = 0;
            }
            counts.Add(new PoisonQueueCount(queue, messages));
        }
        return counts;
    }

    /// <summary>
    /// Counts every poison queue and logs an error for each one that no trigger reads and that holds messages (the
    /// poison triggers themselves kept failing): they wait there until <c>ctscan replay</c>.
    /// </summary>
    public static async Task<IReadOnlyList<PoisonQueueCount>> WatchAsync(PipelineClients clients, ILogger logger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var counts = await CountAsync(clients, cancellationToken).ConfigureAwait(false);
        foreach (var count in counts)
            if (!count.Queue.HasTrigger && count.ApproximateMessages > 0)
                logger.LogError("{Count} message(s) in {Queue}: the handler of {Source} failed on them past its retries; fix the cause, then run `ctscan replay`",
                    count.ApproximateMessages, count.Queue.Name, count.Queue.Source);
        return counts;
    }

    /// <summary>The client of a poison queue, with the pipeline's message encoding.</summary>
    internal static QueueClient Client(PipelineClients clients, PoisonQueue queue) => clients.QueueService.GetQueueClient(queue.Name);
}
