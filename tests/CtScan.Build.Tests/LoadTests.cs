namespace CtScan.Build.Tests;

/// <summary>
/// Loads copies of libLibTorchSharp.so in a child process (Program.cs) with libtorch's package folder on
/// LD_LIBRARY_PATH, as TorchSharp finds it beside the library in bin.
/// </summary>
public sealed class LoadTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void Load_PatchedCopy_LoadsAndAsksLibtorch()
    {
        var copy = _scratch.Copy(TestFiles.LibTorchSharp);
        WeakVersionPatch.TorchSharpGlibcxx.ApplyToFile(copy);

        var result = Load(copy);

        Assert.True(result.ExitCode == 0, result.ToString());
        var threads = int.Parse(result.StandardOutput.Trim().Split('=')[1]);
        Assert.InRange(threads, 1, 4096);
    }

    [Fact]
    public void Load_UnpatchedCopy_FailsForGlibcxx3432WhereTheSystemLacksIt()
    {
        var copy = _scratch.Copy(TestFiles.LibTorchSharp);

        var result = Load(copy);

        if (TestFiles.SystemHasGlibcxx3432)
        {
            Assert.True(result.ExitCode == 0, result.ToString());
        }
        else
        {
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("version `GLIBCXX_3.4.32' not found", result.StandardError);
            Assert.Contains(copy, result.StandardError);
        }
    }

    private static ChildResult Load(string library) => ChildProcess.Run(
        TestFiles.Dotnet,
        [typeof(Program).Assembly.Location, Program.LoadVerb, library],
        new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = TestFiles.LibTorchDirectory });
}
