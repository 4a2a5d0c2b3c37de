using System.CommandLine;
using CtScan.Cli.Commands;

namespace CtScan.Cli;

/// <summary>The <c>ctscan</c> root command with every verb; built here so tests can invoke it in-process.</summary>
public static class CtScanCommand
{
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
    };
}
