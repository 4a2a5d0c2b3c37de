using System.CommandLine;
using CtScan.Cli.Commands;

namespace CtScan.Cli;

/// <summary>The <c>ctscan</c> root command with every verb; built here so tests can invoke it in-process.</summary>
public static class CtScanCommand
{
    /// <summary>
    /// Parses and runs <paramref name="args"/> under the CLI's error policy (docs/cli-errors.md): a command line that
    /// does not parse exits 2 (bad input) after System.CommandLine's own message, and an exception that escapes a verb
    /// (there should be none: <see cref="CliErrors.RunAsync"/> catches them) still ends as one line, never a trace.
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, InvocationConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.EnableDefaultExceptionHandler = false;
        var parse = Create().Parse(args);
        try
        {
            int exitCode = await parse.InvokeAsync(configuration);
            return parse.Errors.Count > 0 ? CliErrors.BadInput : exitCode;
        }
        catch (Exception failure)
        {
            return CliErrors.Report(failure, configuration.Error, args);
        }
    }

    public static RootCommand Create() => new("ctscan: CT scan classification, every step by hand (read, preprocess, look, export, score, benchmark).")
    {
        InfoCommand.Create(),
        PreprocessCommand.Create(),
        MontageCommand.Create(),
        PhantomsCommand.Create(),
        BenchCommand.Create(),
        DemoCommand.Create(),
        ModelCommand.Create(),
        DatasetCommand.Create(),
        ExportCommand.Create(),
        ScoreCommand.Create(),
        EvaluateCommand.Create(),
        SubmitCommand.Create(),
        ResultsCommand.Create(),
        TrainCommand.Create(),
        UpCommand.Create(),
        ViewCommand.Create(),
    };
}
