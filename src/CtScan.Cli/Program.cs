using System.CommandLine;
using CtScan.Cli.Commands;

var root = new RootCommand("ctscan: CT scan classification, every step by hand (read, preprocess, look, benchmark, model).")
{
    InfoCommand.Create(),
    PreprocessCommand.Create(),
    MontageCommand.Create(),
    PhantomsCommand.Create(),
    BenchCommand.Create(),
    DemoCommand.Create(),
    ModelCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
