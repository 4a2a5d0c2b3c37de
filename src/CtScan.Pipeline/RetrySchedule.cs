using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>
/// When failed work is tried again: the n-th retry waits <see cref="PipelineOptions.RetryBaseDelay"/> × 2^(n-1), at
/// most <see cref="PipelineOptions.RetryMaxDelay"/>, and retries go on while less than
/// <see cref="PipelineOptions.RetryWindow"/> has passed since the first attempt. With the defaults (10 s doubling to
/// 5 min, 15 min) that is 10, 20, 40, 80, 160, 300 and 300 s: seven retries, so an outage of up to about a quarter of
/// an hour costs time, not results. A retry is a queue message sent with a visibility delay, so it survives the
/// instance that scheduled it.
/// </summary>
public sealed class RetrySchedule
{
    private readonly PipelineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public RetrySchedule(PipelineOptions options, ILogger<RetrySchedule>? logger = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    public TimeSpan Window => _options.RetryWindow;

    /// <summary>The window for messages: "15 min", or "4 s" below a minute.</summary>
    public string WindowText => Window >= TimeSpan.FromMinutes(1)
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Window.TotalMinutes:0.#} min")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Window.TotalSeconds:0.#} s");

    /// <summary>The delay before retry number <paramref name="retry"/> (1 for the first).</summary>
    public TimeSpan DelayBefore(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        // Doubling past 2^30 overflows nothing useful: the cap is reached long before.
        double seconds = _options.RetryBaseDelay.TotalSeconds * Math.Pow(2, Math.Min(retry - 1, 30));
        return TimeSpan.FromSeconds(Math.Min(seconds, _options.RetryMaxDelay.TotalSeconds));
    }

    /// <summary>Whether work first attempted at <paramref name="firstAttempt"/> may still be retried.</summary>
    public bool WithinWindow(DateTimeOffset firstAttempt) => _time.GetUtcNow() - firstAttempt < _options.RetryWindow;

    /// <summary>
    /// Sends <paramref name="message"/> to <paramref name="queue"/>, invisible for <paramref name="delay"/>. When the
    /// send itself fails (the storage account is down: the usual reason the work failed), waits here with the same
    /// growing delays and sends again, so the caller keeps its own message (and its lease) until the retry is safely
    /// queued. Gives up when the window of work first attempted at <paramref name="firstAttempt"/> closes.
    /// </summary>
    /// <returns>True when the message was queued; false when the window closed first (the caller lets the host retry).</returns>
    public async Task<bool> SendLaterAsync(QueueClient queue, string message, TimeSpan delay, DateTimeOffset firstAttempt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(message);
        for (int wait = 1; ; wait++)
        {
            try
            {
                await queue.SendMessageAsync(message, visibilityTimeout: delay, cancellationToken: cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (!WithinWindow(firstAttempt)) return false;
                var pause = DelayBefore(wait);
                _logger.LogWarning("Could not queue a retry on {Queue} ({Error}); trying again in {Pause:F0} s", queue.Name, Brief(error), pause.TotalSeconds);
                await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>An exception's message in one line, unwrapping the Azure SDK's "Retry failed after N tries" aggregate.</summary>
    public static string Brief(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var inner = error is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[^1] : error;
        string text = $"{inner.GetType().Name}: {inner.Message}";
        int newline = text.IndexOfAny(['\r', '\n']);
        if (newline >= 0) text = text[..newline];
        return text.Length > 300 ? text[..300] + "…" : text;
    }
}
