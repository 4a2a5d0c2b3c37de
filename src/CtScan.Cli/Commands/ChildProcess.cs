using System.Diagnostics;

namespace CtScan.Cli.Commands;

/// <summary>What a finished child process left: its exit code and everything it wrote.</summary>
internal sealed record ChildProcessOutcome(int ExitCode, string Output, string Errors);

/// <summary>
/// Runs a command as a child process to its end, both streams read as it goes (a full pipe would stall it); cancelling
/// kills its whole tree. The benchmarks use it to run ctscan itself again (<see cref="Ctscan"/>) or another program.
/// </summary>
internal static class ChildProcess
{
    /// <exception cref="System.ComponentModel.Win32Exception"><paramref name="fileName"/> cannot be started (not installed).</exception>
    public static async Task<ChildProcessOutcome> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new ChildProcessOutcome(process.ExitCode, await output, await errors);
    }

    /// <summary>
    /// This ctscan as a command: its apphost beside ctscan.dll, or <c>dotnet ctscan.dll</c> where there is none (the
    /// same build either way, whether ctscan or a test host is running it now).
    /// </summary>
    public static (string FileName, string[] Prefix) Ctscan()
    {
        string dll = typeof(ChildProcess).Assembly.Location;
        string apphost = Path.Combine(Path.GetDirectoryName(dll)!, OperatingSystem.IsWindows() ? "ctscan.exe" : "ctscan");
        return File.Exists(apphost) ? (apphost, []) : ("dotnet", [dll]);
    }

    /// <summary>
    /// This ctscan's managed CLI as a command, never the native launcher (src/CtScan.Cli.Native) that may be published
    /// over its apphost: the apphost when it is .NET's, else <c>dotnet exec ctscan.dll</c>, which is what the launcher
    /// itself hands other verbs to.
    /// </summary>
    public static (string FileName, string[] Prefix) ManagedCtscan()
    {
        var (fileName, prefix) = Ctscan();
        if (prefix.Length > 0 || IsDotnetAppHost(fileName)) return (fileName, prefix);
        string dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        return (dotnet, ["exec", typeof(ChildProcess).Assembly.Location]);
    }

    /// <summary>
    /// Whether <paramref name="path"/> is .NET's apphost: it carries the host's message for an unbound placeholder,
    /// which a Native AOT executable does not.
    /// </summary>
    internal static bool IsDotnetAppHost(string path)
    {
        ReadOnlySpan<byte> marker = "This executable is not bound to a managed DLL to execute."u8;
        return File.ReadAllBytes(path).AsSpan().IndexOf(marker) >= 0;
    }

    /// <summary>Runs this ctscan with <paramref name="arguments"/> (see <see cref="Ctscan"/>).</summary>
    public static Task<ChildProcessOutcome> RunCtscanAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var (fileName, prefix) = Ctscan();
        return RunAsync(fileName, [.. prefix, .. arguments], cancellationToken);
    }
}
