using System.CommandLine;

namespace CtScan.Cli.Commands;

/// <summary>
/// The CLI's error policy: every failure ends with one line on stderr and an exit code from one table
/// (docs/cli-errors.md). Failures a user can cause or fix are named by <see cref="CliFailures"/>; anything else is a
/// bug: its message is printed with the path of a file holding the full trace (<see cref="CrashLog"/>), never the trace.
/// </summary>
public static class CliErrors
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>The work ran but did not succeed: a scan failed to score, the pipeline did not answer in time.</summary>
    public const int Failure = 1;

    /// <summary>An argument, file, folder or data set the user gave is wrong, missing or unreadable.</summary>
    public const int BadInput = 2;

    /// <summary>The model folder is missing or invalid, or ONNX Runtime refuses the model.</summary>
    public const int ModelUnusable = 3;

    /// <summary>The storage account cannot be reached (Azurite not running, wrong endpoint) or refused the request.</summary>
    public const int StorageUnavailable = 4;

    /// <summary>Something to install is missing (Node.js, npm, Azurite) or the local emulator would not start.</summary>
    public const int MissingPrerequisite = 5;

    /// <summary>A port the verb needs is taken by another process.</summary>
    public const int PortInUse = 6;

    /// <summary>An unexpected error (a bug): the message, and the file with the full trace.</summary>
    public const int InternalError = 70;

    /// <summary>Ctrl+C or SIGTERM.</summary>
    public const int Cancelled = 130;

    /// <summary>
    /// Runs a parsed command line under this policy: a command line that does not parse exits 2 (bad input) after
    /// System.CommandLine's own message, and an exception that escapes a verb (there should be none:
    /// <see cref="RunAsync"/> catches them) still ends as one line, never a trace.
    /// </summary>
    public static async Task<int> InvokeAsync(ParseResult parse, IReadOnlyList<string> args, InvocationConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.EnableDefaultExceptionHandler = false;
        try
        {
            int exitCode = await parse.InvokeAsync(configuration);
            return parse.Errors.Count > 0 ? BadInput : exitCode;
        }
        catch (Exception failure)
        {
            return Report(failure, configuration.Error, args);
        }
    }

    /// <summary>Runs a verb's action with the invocation's output writer; turns every exception into a line and an exit code.</summary>
    public static async Task<int> RunAsync(ParseResult parse, Func<TextWriter, CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            await action(parse.InvocationConfiguration.Output, cancellationToken);
            return Success;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error.WriteLine("cancelled");
            return Cancelled;
        }
        catch (Exception failure)
        {
            return Report(failure, error, parse.Tokens.Select(t => t.Value));
        }
    }

    /// <summary>Writes the one line for <paramref name="failure"/> to <paramref name="error"/> and returns its exit code.</summary>
    public static int Report(Exception failure, TextWriter error, IEnumerable<string> commandLine)
    {
        if (CliFailures.Classify(failure) is { } known)
        {
            error.WriteLine($"error: {known.Message}");
            return known.ExitCode;
        }
        string where = CrashLog.TryWrite(failure, commandLine, out var path) ? $"full trace in {path}" : $"the trace could not be written: {path}";
        error.WriteLine($"error: unexpected {failure.GetType().Name}: {CliFailures.OneLine(failure.Message)} ({where}; please report it)");
        return InternalError;
    }
}
