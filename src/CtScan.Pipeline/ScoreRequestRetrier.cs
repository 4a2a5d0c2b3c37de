using CtScan.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>
/// What the score-requests trigger runs: <see cref="ScoreRequestHandler"/>, and when it throws (storage unreachable,
/// the model cannot be loaded: the handler answers bad input itself, so whatever escapes is not the scan's fault) the
/// request is queued again with the next attempt number, invisible for <see cref="RetrySchedule.DelayBefore"/>, and
/// this message completes. The hosts' own retries (host.json maxDequeueCount, a fixed visibility timeout) would spend
/// five attempts in under a minute; this spends the <see cref="PipelineOptions.RetryWindow"/> measured from the
/// request's <see cref="ScoreRequest.EnqueuedAt"/>. After the window the scan gets a <c>failed</c> result
/// (<see cref="PoisonHandler.WriteScoreRequestFailedAsync"/>). Both hosts call this class, so the policy is the same in
/// Azure and locally.
/// </summary>
public class ScoreRequestRetrier
{
    private readonly PipelineClients _clients;
    private readonly ScoreRequestHandler _handler;
    private readonly PoisonHandler _poison;
    private readonly RetrySchedule _schedule;
    private readonly ILogger _logger;

    protected ScoreRequestRetrier()
    {
        _clients = null!;
        _handler = null!;
        _poison = null!;
        _schedule = null!;
        _logger = NullLogger.Instance;
    }

    public ScoreRequestRetrier(PipelineClients clients, ScoreRequestHandler handler, PoisonHandler poison, RetrySchedule schedule, ILogger<ScoreRequestRetrier>? logger = null)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _handler = handler ?? throw new ArgumentNullException(nameof(handler));
        _poison = poison ?? throw new ArgumentNullException(nameof(poison));
        _schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Handles one score-requests message; throws only when not even a retry could be queued within the window.</summary>
    /// <returns>The handler's outcome; null when the attempt failed and was rescheduled or recorded as failed.</returns>
    public virtual async Task<ScoreOutcome?> HandleAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            return await _handler.HandleAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The handler answers unreadable messages itself, so this parses; if it does not, the host's retries decide.
            if (TryParse(message) is not { } request) throw;

            int attempt = request.Attempt ?? 1;
            string scan = ScanLogName.Of(_clients.Options, request.Scan, request.Sha256);
            string why = RetrySchedule.Brief(error);
            if (!_schedule.WithinWindow(request.EnqueuedAt))
            {
                _logger.LogError(error, "Attempt {Attempt} for {Scan} failed and its retry window of {Window} has closed: {Error}", attempt, scan, _schedule.WindowText, why);
                await _poison.WriteScoreRequestFailedAsync(request, attempt, why, cancellationToken).ConfigureAwait(false);
                return null;
            }
            var delay = _schedule.DelayBefore(attempt);
            _logger.LogWarning("Attempt {Attempt} for {Scan} failed ({Error}); retry {Next} queued in {Delay:F0} s", attempt, scan, why, attempt + 1, delay.TotalSeconds);
            var next = ContractsJson.Serialize(request with { Attempt = attempt + 1 });
            if (!await _schedule.SendLaterAsync(_clients.ScoreRequests, next, delay, request.EnqueuedAt, cancellationToken).ConfigureAwait(false))
                throw;
            return null;
        }
    }

    private static ScoreRequest? TryParse(string message)
    {
        try { return ScoreRequestMessage.Parse(message); }
        catch (InvalidDataException) { return null; }
    }
}
