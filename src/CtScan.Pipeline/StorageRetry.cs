using Azure.Core;

namespace CtScan.Pipeline;

/// <summary>
/// How hard the storage clients retry. The Azure SDK's defaults (several retries with exponential back-off and a
/// 100 s network timeout) suit the long-running hosts, where a blip should be ridden out; a command-line verb should
/// instead say within a second or two that nothing answers (Azurite not running, a wrong endpoint): see <see cref="FailFast"/>.
/// </summary>
public sealed record StorageRetry(int MaxRetries, TimeSpan Delay, TimeSpan MaxDelay, TimeSpan NetworkTimeout)
{
    /// <summary>
    /// For interactive verbs: 2 retries 0.2 s and 0.4 s apart (a refused connection fails in about a second) and 30 s
    /// per network operation (a scan of tens of MB still uploads in one request).
    /// </summary>
    public static StorageRetry FailFast { get; } = new(2, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

    internal void ApplyTo(RetryOptions retry)
    {
        retry.Mode = RetryMode.Exponential;
        retry.MaxRetries = MaxRetries;
        retry.Delay = Delay;
        retry.MaxDelay = MaxDelay;
        retry.NetworkTimeout = NetworkTimeout;
    }
}
