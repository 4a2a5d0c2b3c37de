using System.Reflection;
using System.Runtime.Versioning;

// libLibTorchSharp.so is a Linux x86-64 library; its loader and libstdc++ are the subject.
[assembly: SupportedOSPlatform("linux")]

namespace CtScan.Build.Tests;

/// <summary>
/// The real files the tests work on: libLibTorchSharp.so and libtorch's folder from the restored packages (read only,
/// never written: tests patch copies), and the repository. Paths are baked in by the project file.
/// </summary>
internal static class TestFiles
{
    public static string LibTorchSharp { get; } = Existing(Metadata("LibTorchSharpPath"));

    /// <summary>libtorch.so, libc10.so, libtorch_cpu.so…: what libLibTorchSharp.so needs to load.</summary>
    public static string LibTorchDirectory { get; } = Metadata("LibTorchDirectory");

    public static string LibC10 { get; } = Existing(Path.Combine(LibTorchDirectory, "libc10.so"));

    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public static string TargetsFile { get; } = Existing(Path.Combine(RepositoryRoot, "build", "TorchSharpDebianFix.targets"));

    /// <summary>The dotnet host the tests run under (the CLI sets DOTNET_HOST_PATH for its children).</summary>
    public static string Dotnet { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Whether the libstdc++ this machine's loader uses has GLIBCXX_3.4.32 (not on Debian 12).</summary>
    public static bool SystemHasGlibcxx3432 { get; } = SystemLibstdcxx.ForMachine(ElfFile.MachineX86_64).Locate(ElfFile.MachineX86_64) is { } found
        && SystemLibstdcxx.Defines(found, "GLIBCXX_3.4.32");

    private static string Metadata(string key) =>
        typeof(TestFiles).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is empty");

    private static string Existing(string path) => File.Exists(path)
        ? path
        : throw new FileNotFoundException($"{path} is missing: restore tests/CtScan.Build.Tests (packages TorchSharp and libtorch-cpu-linux-x64).", path);
}

/// <summary>A temporary folder deleted with the test.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("ctscan-build-test-");

    public string Path => _directory.FullName;

    /// <summary>Copies <paramref name="source"/> into the folder (under <paramref name="name"/> or its own name).</summary>
    public string Copy(string source, string? name = null)
    {
        var target = System.IO.Path.Combine(Path, name ?? System.IO.Path.GetFileName(source));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        File.Copy(source, target);
        return target;
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
