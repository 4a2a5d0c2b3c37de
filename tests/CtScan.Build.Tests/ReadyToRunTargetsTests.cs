using System.Reflection.PortableExecutable;

namespace CtScan.Build.Tests;

/// <summary>
/// build/ReadyToRunOnBuild.targets through real MSBuild and crossgen2: a one-file console project imports it and is
/// built in Release (its assembly must come out ReadyToRun and still run) and in Debug (IL only); and the CLI's own
/// project turns it on for Release.
/// </summary>
public sealed class ReadyToRunTargetsTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();
    private readonly string _project;

    public ReadyToRunTargetsTests()
    {
        _project = Path.Combine(_scratch.Path, "probe.csproj");
        File.WriteAllText(_project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                <SelfContained>false</SelfContained>
              </PropertyGroup>
              <Import Project="{Path.Combine(TestFiles.RepositoryRoot, "build", "ReadyToRunOnBuild.targets")}" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(_scratch.Path, "Program.cs"), """System.Console.WriteLine("probe ran with " + args.Length + " arguments");""");
    }

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void Build_ReleaseAndDebug_OnlyReleaseIsReadyToRunAndBothRun()
    {
        var release = Build("Release");
        var debug = Build("Debug");

        Assert.True(IsReadyToRun(release), $"{release} has no ReadyToRun code");
        Assert.False(IsReadyToRun(debug), $"{debug} has ReadyToRun code");
        foreach (var dll in (string[])[release, debug])
        {
            var run = ChildProcess.Run(TestFiles.Dotnet, [dll, "x"]);
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal("probe ran with 1 arguments", run.StandardOutput.Trim());
        }
    }

    [Theory]
    [InlineData("Release", "true")]
    [InlineData("Debug", "")]
    public void CliProject_ReadyToRunOnlyInRelease(string configuration, string expected)
    {
        var cli = Path.Combine(TestFiles.RepositoryRoot, "src", "CtScan.Cli", "CtScan.Cli.csproj");

        var result = ChildProcess.Run(TestFiles.Dotnet, ["msbuild", cli, "-nologo", "-nodeReuse:false", $"-p:Configuration={configuration}", "-getProperty:CtScanReadyToRun"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(expected, result.StandardOutput.Trim());
    }

    private string Build(string configuration)
    {
        var result = ChildProcess.Run(TestFiles.Dotnet, ["build", _project, "-nologo", "-nodeReuse:false", "-v:m", "-c", configuration]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return Path.Combine(_scratch.Path, "bin", configuration, "net10.0", "linux-x64", "probe.dll");
    }

    /// <summary>crossgen2 sets the CLI header's managed native header (the ReadyToRun header) of the images it writes.</summary>
    private static bool IsReadyToRun(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        return pe.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }
}
