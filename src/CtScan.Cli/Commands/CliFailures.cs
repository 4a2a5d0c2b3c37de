using System.Net.Http;
using System.Net.Sockets;
using Azure;
using Azure.Identity;
using CtScan.Cli.Datasets;
using CtScan.Nifti;
using CtScan.Pipeline;
using CtScan.Scoring;
using CtScan.Tensors;

namespace CtScan.Cli.Commands;

/// <summary>A failure the user can cause or fix: its exit code and the one line that names the cause.</summary>
internal readonly record struct CliFailure(int ExitCode, string Message);

/// <summary>Names the failures a user can cause or fix (see <see cref="CliErrors"/> for the exit codes); null for anything else.</summary>
internal static partial class CliFailures
{
    private const int MaxLineLength = 1000;

    public static CliFailure? Classify(Exception failure)
    {
        CliFailure? local = null;
        ClassifyLocalHost(failure, ref local);
        if (local is not null) return local;
        switch (failure)
        {
            case ModelLoadException or ModelUnavailableException:
                return new(CliErrors.ModelUnusable, OneLine(failure.Message));
            case NiftiFormatException or NpyFormatException or IOException or ArgumentException or UnauthorizedAccessException
                or DatasetDownloadException or InvalidDataException or PipelineConfigurationException or ModelRegistryException:
                // IOException covers FileNotFoundException and DirectoryNotFoundException (whose messages name the path) and a full disk.
                return new(CliErrors.BadInput, OneLine(failure.Message));
            case NoStorageException:
                return new(CliErrors.StorageUnavailable, failure.Message);
            case TimeoutException:
                return new(CliErrors.Failure, OneLine(failure.Message));
        }
        return Storage(failure);
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

    /// <summary>The message on one line (line breaks become spaces), at most 1000 characters.</summary>
    public static string OneLine(string message)
    {
        string line = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= MaxLineLength ? line : line[..MaxLineLength] + " …";
    }

    /// <summary>
    /// The local host's failures (Azurite missing, a port in use): implemented in CliFailures.LocalHost.cs, which
    /// ctscan compiles and the training job's executable (no local host) does not.
    /// </summary>
    static partial void ClassifyLocalHost(Exception failure, ref CliFailure? result);
}
