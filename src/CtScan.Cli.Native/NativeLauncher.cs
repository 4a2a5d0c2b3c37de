using System.CommandLine;
using CtScan.Cli.Commands;
using CtScan.Nifti;

namespace CtScan.Cli;

/// <summary>
/// Which command lines the native <c>ctscan</c> runs itself: <c>preprocess</c> and <c>info</c> when they parse and ask
/// for the verb's work (not its help). Everything else, parse errors and help included, goes to the managed CLI
/// (<see cref="ManagedCli"/>), so that every message and exit code but these two verbs' work is the managed CLI's own.
/// </summary>
internal static class NativeLauncher
{
    /// <summary>The verbs compiled into the launcher (the managed CLI's own definitions: src/CtScan.Cli/Commands).</summary>
    public static IReadOnlyList<string> Verbs { get; } = ["preprocess", "info"];

    public static async Task<int> RunAsync(string[] args)
    {
        if (Parse(args) is not { } parse) return ManagedCli.Exec(args, Console.Error);
        // As the managed ctscan's Program.cs: Ctrl+C / SIGTERM cancel the verb's token.
        return await CliErrors.InvokeAsync(parse, args, new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
    }

    /// <summary>The parse of a command line the launcher runs itself, or null to hand it to the managed CLI.</summary>
    internal static ParseResult? Parse(string[] args)
    {
        if (args.Length == 0 || !Verbs.Contains(args[0])) return null;
        var root = new RootCommand("ctscan (native launcher): preprocess and info; every other verb runs in the managed ctscan.dll")
        {
            // Inflating on a second thread overlaps the preprocessing of a .nii.gz (docs/benchmarks.md#start-up-ctscan-bench-startup).
            PreprocessCommand.Create(new NiftiReadOptions { InflateAhead = true }),
            InfoCommand.Create(),
        };
        var parse = root.Parse(args);
        return parse.Errors.Count == 0 && parse.Action is { } action && ReferenceEquals(action, parse.CommandResult.Command.Action) ? parse : null;
    }
}
