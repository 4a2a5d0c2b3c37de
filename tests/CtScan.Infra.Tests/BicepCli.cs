using System.Diagnostics;
using System.Reflection;

namespace CtScan.Infra.Tests;

/// <summary>The result of one run of the Bicep CLI.</summary>
public sealed record BicepResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Diagnostics Bicep printed (one per line, "file(line,col) : Level code: message").</summary>
    public IReadOnlyList<string> Diagnostics =>
        StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n{StandardError}";
}

/// <summary>
/// Runs the Bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package (restored like any other package, so CI needs
/// nothing installed). Its path and the repository root are baked into the assembly by the project file.
/// </summary>
public static class BicepCli
{
    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public static string InfraDirectory { get; } = Path.Combine(RepositoryRoot, "infra");

    public static string MainTemplate { get; } = Path.Combine(InfraDirectory, "main.bicep");

    public static string ExecutablePath { get; } = PrepareExecutable(Metadata("BicepPath"));

    public static BicepResult Build(string bicepFile) => Run("build", bicepFile, "--stdout");

    public static BicepResult Lint(string bicepFile) => Run("lint", bicepFile);

    /// <summary>
    /// The parameter values of a .bicepparam file as `bicep build-params` evaluates them at compile time (ARM functions,
    /// imported Bicep functions); it also type-checks them against the template the file names.
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject EvaluateParameters(string bicepparamFile)
    {
        var build = Run("build-params", bicepparamFile, "--stdout");
        Assert.True(build.ExitCode == 0, build.ToString());
        var parametersJson = (string)System.Text.Json.Nodes.JsonNode.Parse(build.StandardOutput)!["parametersJson"]!;
        return System.Text.Json.Nodes.JsonNode.Parse(parametersJson)!["parameters"]!.AsObject();
    }

    public static BicepResult Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // Offline machines: no version check, no telemetry.
        start.Environment["BICEP_TRACING_ENABLED"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {ExecutablePath}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} ran over two minutes");
        }
        return new BicepResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Metadata(string key) =>
        typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is empty");

    private static string PrepareExecutable(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                "The Bicep CLI is missing: restore tests/CtScan.Infra.Tests (package Azure.Bicep.CommandLine.linux-x64).", path);
        }
        // The package is linux-x64 only. NuGet extracts the binary owner-executable; make sure it is.
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The Bicep CLI package referenced here is the linux-x64 one.");
        }
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode wanted = UnixFileMode.UserExecute;
        if ((mode & wanted) != wanted)
        {
            File.SetUnixFileMode(path, mode | wanted);
        }
        return path;
    }
}
