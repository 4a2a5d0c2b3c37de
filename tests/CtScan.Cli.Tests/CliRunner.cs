using System.CommandLine;

namespace CtScan.Cli.Tests;

/// <summary>Runs <c>ctscan</c> in-process with captured output, as a user would from a shell.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await CtScanCommand.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }
}

/// <summary>A temporary folder deleted after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public DirectoryInfo Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ctscan-cli-test-");

    public string Path(string name) => System.IO.Path.Combine(Directory.FullName, name);

    public void Dispose() => Directory.Delete(recursive: true);
}
