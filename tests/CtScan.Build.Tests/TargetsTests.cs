namespace CtScan.Build.Tests;

/// <summary>
/// build/TorchSharpDebianFix.targets through real MSBuild: a minimal project imports it and defines the two targets it
/// hooks (CopyFilesToOutputDirectory, Publish) as empty ones, with OutDir and PublishDir in a scratch folder.
/// </summary>
public sealed class TargetsTests : IDisposable
{
    private const int SymbolInfoOffset = 0x3890 + 482 * 24 + 4;

    private readonly ScratchDirectory _scratch = new();
    private readonly string _project;

    public TargetsTests()
    {
        _project = Path.Combine(_scratch.Path, "probe.proj");
        File.WriteAllText(_project, $"""
            <Project>
              <Import Project="{TestFiles.TargetsFile}" />
              <Target Name="CopyFilesToOutputDirectory" />
              <Target Name="Publish" />
            </Project>
            """);
    }

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void BuildAndPublish_PatchWhereTheSystemNeedsIt()
    {
        var output = _scratch.Copy(TestFiles.LibTorchSharp, Path.Combine("bin", "libLibTorchSharp.so"));
        var published = _scratch.Copy(TestFiles.LibTorchSharp, Path.Combine("publish", "libLibTorchSharp.so"));

        var result = MSBuild("-t:CopyFilesToOutputDirectory;Publish", $"-p:OutDir={_scratch.Path}/bin/", $"-p:PublishDir={_scratch.Path}/publish/");

        Assert.True(result.ExitCode == 0, result.ToString());
        byte expected = TestFiles.SystemHasGlibcxx3432 ? (byte)0x12 : (byte)0x22;
        Assert.Equal(expected, File.ReadAllBytes(output)[SymbolInfoOffset]);
        Assert.Equal(expected, File.ReadAllBytes(published)[SymbolInfoOffset]);
        Assert.Equal(TestFiles.SystemHasGlibcxx3432 ? 0 : 2, CountOccurrences(result.StandardOutput, "torchsharp-debian-fix: patched"));
    }

    [Fact]
    public void Build_TorchSharpDebianFixFalse_LeavesTheFile()
    {
        var output = _scratch.Copy(TestFiles.LibTorchSharp, Path.Combine("bin", "libLibTorchSharp.so"));

        var result = MSBuild("-t:CopyFilesToOutputDirectory", $"-p:OutDir={_scratch.Path}/bin/", "-p:TorchSharpDebianFix=false");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(File.ReadAllBytes(TestFiles.LibTorchSharp), File.ReadAllBytes(output));
    }

    [Fact]
    public void Build_NoLibraryInOutput_Succeeds()
    {
        var output = Directory.CreateDirectory(Path.Combine(_scratch.Path, "bin")).FullName;

        var result = MSBuild("-t:CopyFilesToOutputDirectory", $"-p:OutDir={output}/");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(Directory.GetFileSystemEntries(output));
    }

    [Fact]
    public void Build_DamagedLibrary_FailsNamingFileAndCause()
    {
        var output = Path.Combine(_scratch.Path, "bin", "libLibTorchSharp.so");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        File.WriteAllBytes(output, File.ReadAllBytes(TestFiles.LibTorchSharp)[..4096]);

        var result = MSBuild("-t:CopyFilesToOutputDirectory", $"-p:OutDir={_scratch.Path}/bin/");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"error : torchsharp-debian-fix: {output}: the first section header", result.StandardOutput);
    }

    private ChildResult MSBuild(params string[] arguments) => ChildProcess.Run(
        TestFiles.Dotnet,
        ["msbuild", _project, "-nologo", "-nodeReuse:false", "-v:m", .. arguments]);

    private static int CountOccurrences(string text, string value) => text.Split(value).Length - 1;
}
