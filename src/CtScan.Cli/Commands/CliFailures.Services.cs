using System.Net.Http;
using System.Net.Sockets;
using Azure;
using Azure.Identity;
using CtScan.Pipeline;

namespace CtScan.Cli.Commands;

/// <summary>The pipeline's and the storage account's failures (see <see cref="CliFailures.Classify"/>).</summary>
internal static partial class CliFailures
{
    static partial void ClassifyServices(Exception failure, ref CliFailure? result)
    {
        result = failure switch
        {
            ModelUnavailableException => new(CliErrors.ModelUnusable, OneLine(failure.Message)),
            PipelineConfigurationException or ModelRegistryException => new(CliErrors.BadInput, OneLine(failure.Message)),
            NoStorageException => new(CliErrors.StorageUnavailable, failure.Message),
            _ => Storage(failure),
        };
    }

    /// <summary>Storage failures arrive as a RequestFailedException, or as the retry policy's AggregateException of them.</summary>
    private static CliFailure? Storage(Exception failure)
    {
        var attempts = failure is AggregateException aggregate ? aggregate.InnerExceptions : [failure];
        if (attempts.Count == 0 || !attempts.All(IsStorageFailure)) return null;
        var last = attempts[^1];
        string tries = attempts.Count > 1 ? $" ({attempts.Count} tries)" : "";
        if (last is AuthenticationFailedException)
            return new(CliErrors.StorageUnavailable, $"cannot sign in to the storage account: {OneLine(FirstLine(last.Message))}; run `az login`, or pass --connection");
        if (last is RequestFailedException { Status: > 0 } refused)
            return new(CliErrors.StorageUnavailable,
                $"the storage account refused the request{tries}: HTTP {refused.Status} {refused.ErrorCode}: {OneLine(FirstLine(refused.Message))}; check the connection string or the account's role assignments");
        // No HTTP answer at all: nothing listens there, the name does not resolve, or it did not answer in time.
        string cause = Innermost(last) is { } inner && inner != last && !last.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{OneLine(last.Message)} ({OneLine(inner.Message)})" : OneLine(last.Message);
        return new(CliErrors.StorageUnavailable,
            $"cannot reach the storage account{tries}: {cause}; is `ctscan up` running? (or check --connection, --account-url, ${StorageOptions.ConnectionVariable})");
    }

    private static bool IsStorageFailure(Exception e) =>
        e is RequestFailedException or HttpRequestException or SocketException or AuthenticationFailedException
        || (e is TaskCanceledException && e.InnerException is TimeoutException);

    private static Exception? Innermost(Exception e)
    {
        while (e.InnerException is { } inner) e = inner;
        return e;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0];
}
