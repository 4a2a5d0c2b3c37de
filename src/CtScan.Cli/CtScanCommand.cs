using System.CommandLine;
using CtScan.Cli.Commands;

namespace CtScan.Cli;

/// <summary>The <c>ctscan</c> root command with every verb; built here so tests can invoke it in-process.</summary>
public static class CtScanCommand
{
    /// <summary>Parses and runs <paramref name="args"/> under the CLI's error policy (docs/cli-errors.md, <see cref="CliErrors.InvokeAsync"/>).</summary>
    public static Task<int> InvokeAsync(string[] args, InvocationConfiguration configuration) =>
        CliErrors.InvokeAsync(Create().Parse(args), args, configuration);

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
        ExplainCommand.Create(),
        EvaluateCommand.Create(),
        SubmitCommand.Create(),
        ResultsCommand.Create(),
        ReplayCommand.Create(),
        TrainCommand.Create(),
        UpCommand.Create(),
        ViewCommand.Create(),
    };
}
