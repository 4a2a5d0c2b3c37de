using System.Diagnostics;
using System.Text.RegularExpressions;
using CtScan.Tests;

namespace CtScan.Cli.Tests;

/// <summary>
/// The Native AOT <c>ctscan</c> (src/CtScan.Cli.Native), published once for the class and laid out as a user gets it:
/// in a folder with the managed CLI (this test build's ctscan.dll and its dependencies, linked). Its own verbs must
/// write what the managed verbs write; everything else must be the managed CLI's answer.
/// </summary>
public sealed partial class NativeLauncherTests(NativeLauncherTests.Published launcher) : IClassFixture<NativeLauncherTests.Published>
{
    /// <summary>
    /// <c>dotnet publish src/CtScan.Cli.Native -c Release</c> into a scratch folder (its own artifacts folder, so it shares
    /// no obj/ with the test build): ~40 s on 2 cores, most of it ILC and clang.
    /// </summary>
    public sealed class Published : IDisposable
    {
        public Published()
        {
            Scratch = Directory.CreateTempSubdirectory("ctscan-native-").FullName;
            string repository = Path.GetFullPath(Path.Combine(Fixtures.Path(), "..", ".."));
            string output = Path.Combine(Scratch, "publish");
            var publish = Run("dotnet", ["publish", Path.Combine(repository, "src", "CtScan.Cli.Native", "CtScan.Cli.Native.csproj"), "-c", "Release", "-o", output,
                "--artifacts-path", Path.Combine(Scratch, "artifacts"), "-nologo", "-v:q"], TimeSpan.FromMinutes(5));
            if (publish.ExitCode != 0)
            {
                Failure = $"dotnet publish (Native AOT needs clang and zlib1g-dev) exited {publish.ExitCode}:\n{publish.Output}\n{publish.Errors}";
                return;
            }
            // The managed CLI's files (links: libtorch alone is ~500 MB), then the native ctscan in place of its apphost.
            Folder = Directory.CreateDirectory(Path.Combine(Scratch, "app")).FullName;
            foreach (var entry in new DirectoryInfo(AppContext.BaseDirectory).EnumerateFileSystemInfos().Where(e => e.Name != "ctscan"))
                File.CreateSymbolicLink(Path.Combine(Folder, entry.Name), entry.FullName);
            File.Copy(Path.Combine(output, "ctscan"), Path.Combine(Folder, "ctscan"));
            LoneLauncher = Path.Combine(output, "ctscan");
        }

        public string Scratch { get; }

        /// <summary>The launcher with the managed CLI beside it.</summary>
        public string Folder { get; } = "";

        /// <summary>The launcher alone (its publish folder has no ctscan.dll).</summary>
        public string LoneLauncher { get; } = "";

        public string? Failure { get; }

        public ProcessOutcome Native(params string[] args)
        {
            Assert.True(Failure is null, Failure);
            return Run(Path.Combine(Folder, "ctscan"), args, TimeSpan.FromMinutes(2));
        }

        public void Dispose() => Directory.Delete(Scratch, recursive: true);
    }

    public sealed record ProcessOutcome(int ExitCode, string Output, string Errors);

    [Theory]
    [InlineData("golden", "p08_abnormal_256x203x45_int16.nii.gz")] // a CT-like int16 scan, the seed's defaults
    [InlineData("nifti-real", "example4d.nii.gz", "--volume", "1", "--target", "40", "30", "12", "--hu-min", "-200", "--hu-max", "900")]
    public void Preprocess_WritesTheManagedVerbsBytesAndSummary(string folder, string file, params string[] options)
    {
        using var temp = new TempFolder();
        string output = temp.Path("tensor.npy");
        string[] args = ["preprocess", Fixtures.Path(folder, file), output, .. options];

        var native = launcher.Native(args);
        Assert.True(native.ExitCode == 0, native.Errors);
        byte[] nativeBytes = File.ReadAllBytes(output);
        File.Delete(output);
        var managed = Managed(args);

        Assert.True(managed.ExitCode == 0, managed.Errors);
        Assert.Equal(File.ReadAllBytes(output), nativeBytes);
        Assert.StartsWith($"{output}: ", native.Output);
        // The same line but for the time the work took.
        Assert.Equal(Milliseconds().Replace(managed.Output, "X ms"), Milliseconds().Replace(native.Output, "X ms"));
        Assert.Equal("", native.Errors);
    }

    [Fact]
    public void Preprocess_StartsNoRuntimeAndLoadsNoOnnxRuntime()
    {
        Assert.True(launcher.Failure is null, launcher.Failure);
        using var temp = new TempFolder();

        // glibc's loader lists every shared object it maps.
        var native = Run(Path.Combine(launcher.Folder, "ctscan"), ["preprocess", Fixtures.Golden("p08_abnormal_256x203x45_int16.nii.gz"), temp.Path("t.npy")],
            TimeSpan.FromMinutes(1), new Dictionary<string, string?> { ["LD_DEBUG"] = "files" });

        Assert.True(native.ExitCode == 0, native.Errors);
        string loads = string.Join('\n', native.Errors.Split('\n').Where(line => line.Contains("file=", StringComparison.Ordinal)));
        Assert.Contains("libc.so.6", loads); // the listing works
        foreach (var library in (string[])["libcoreclr", "libhostfxr", "libclrjit", "onnxruntime", "torch"])
            Assert.DoesNotContain(library, loads, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Info_PrintsTheManagedVerbsReport()
    {
        string[] args = ["info", "--json", "--stats", Fixtures.RealNifti("example4d.nii.gz")];

        var native = launcher.Native(args);

        Assert.Equal(Managed(args), native);
        Assert.Contains("\"volumes\": 2", native.Output);
    }

    [Fact]
    public void Preprocess_BadInput_SameExitCodeAndErrorAsTheManagedVerb()
    {
        using var temp = new TempFolder();
        string notNifti = temp.Path("not-a-scan.nii.gz");
        File.WriteAllText(notNifti, "this is not gzip");

        string[][] commandLines =
        [
            ["preprocess", notNifti, temp.Path("a.npy")],
            ["preprocess", temp.Path("missing.nii.gz"), temp.Path("b.npy")],
            ["preprocess", Fixtures.RealNifti("example_nifti2.nii.gz"), temp.Path("c.npy")], // 4-D: needs --volume
        ];
        foreach (var args in commandLines)
        {
            var native = launcher.Native(args);
            var managed = Managed(args);

            Assert.Equal(2, native.ExitCode);
            Assert.Equal(managed, native);
            Assert.StartsWith("error: ", native.Errors);
            Assert.Contains(args[1], native.Errors);
        }
    }

    [Theory]
    [InlineData(0, "--version")]
    [InlineData(0, "phantoms", "--help")]
    [InlineData(2, "no-such-verb")]
    [InlineData(2, "preprocess")] // its own verb, but a parse error: the managed CLI prints it
    [InlineData(2, "info", "--json")]
    public void OtherCommandLines_AreTheManagedCli(int exitCode, params string[] args)
    {
        var native = launcher.Native(args);

        Assert.Equal(exitCode, native.ExitCode);
        Assert.Equal(Managed(args), native);
    }

    [Fact]
    public void AnotherVerb_RunsInTheManagedCli()
    {
        using var temp = new TempFolder();

        var native = launcher.Native("phantoms", "--out", temp.Directory.FullName, "--count", "1", "--shape", "16", "16", "8", "--seed", "4");

        Assert.True(native.ExitCode == 0, native.Errors);
        Assert.Single(Directory.GetFiles(temp.Directory.FullName, "*.nii.gz", SearchOption.AllDirectories));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // the launcher is linux-x64
    public void OtherVerbs_ExecTheDotnetHostInDotnetRoot_WithExecTheAssemblyAndTheArguments()
    {
        Assert.True(launcher.Failure is null, launcher.Failure);
        using var temp = new TempFolder();
        // A stand-in host that shows the argv it was given and exits with its own code: the launcher's process becomes it.
        string host = temp.Path("dotnet");
        File.WriteAllText(host, "#!/bin/sh\necho \"host: $*\"\nexit 42\n");
        File.SetUnixFileMode(host, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        var native = Run(Path.Combine(launcher.Folder, "ctscan"), ["results", "--top", "a b"], TimeSpan.FromMinutes(1),
            new Dictionary<string, string?> { ["DOTNET_ROOT"] = temp.Directory.FullName, ["DOTNET_ROOT_X64"] = null }); // dotnet test sets the latter

        Assert.Equal(42, native.ExitCode);
        Assert.Equal($"host: exec {Path.Combine(launcher.Folder, "ctscan.dll")} results --top a b\n", native.Output);
    }

    [Fact]
    public void WithoutTheManagedCli_OtherVerbsExit5NamingTheMissingAssembly()
    {
        Assert.True(launcher.Failure is null, launcher.Failure);

        var lone = Run(launcher.LoneLauncher, ["--version"], TimeSpan.FromMinutes(1));

        Assert.Equal(5, lone.ExitCode);
        Assert.Contains($"{Path.Combine(Path.GetDirectoryName(launcher.LoneLauncher)!, "ctscan.dll")} does not exist", lone.Errors);
        Assert.Equal("", lone.Output);
    }

    [Fact]
    public async Task BenchStartup_Native_TimesItNextToTheManagedCliWithItsRatioAndParity()
    {
        Assert.True(launcher.Failure is null, launcher.Failure);

        var (exit, stdout, error) = await CliRunner.RunAsync("bench", "startup", "--shape", "32", "32", "16", "--runs", "1", "--native", Path.Combine(launcher.Folder, "ctscan"));

        Assert.True(exit == 0, error);
        Assert.Contains($"native ctscan: {Path.Combine(launcher.Folder, "ctscan")} (Native AOT", stdout);
        foreach (var name in (string[])["ctscan preprocess", "native ctscan --version (hands over)", "native ctscan info, 16×16×8 file", "native ctscan preprocess"])
            Assert.Matches($@"(?m)^{Regex.Escape(name)} +\d+ +\d+ +\d+$", stdout);
        if (stdout.Contains("python: none of", StringComparison.Ordinal)) return;
        Assert.Matches(@"python / ctscan preprocess: [0-9.]+× wall", stdout);
        Assert.Matches(@"python / native ctscan preprocess: [0-9.]+× wall.*target ≥ 15× wall → (met|NOT met)", stdout);
        var parity = Regex.Match(stdout, @"parity: max \|native ctscan − python\| = (\S+) over 1048576 values");
        Assert.True(parity.Success, stdout);
        Assert.True(double.Parse(parity.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= 1e-6, parity.Value);
    }

    [Fact]
    public async Task BenchStartup_NativeIsTheManagedAppHost_Exit2()
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, "ctscan");

        var (exit, _, error) = await CliRunner.RunAsync("bench", "startup", "--shape", "16", "16", "8", "--runs", "1", "--native", apphost);

        Assert.Equal(2, exit);
        Assert.Contains($"--native {apphost} is .NET's apphost of the managed ctscan, not the Native AOT launcher", error);
    }

    /// <summary>This test build's managed ctscan (its apphost), as a process.</summary>
    private static ProcessOutcome Managed(string[] args) => Run(Path.Combine(AppContext.BaseDirectory, "ctscan"), args, TimeSpan.FromMinutes(2));

    private static ProcessOutcome Run(string fileName, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} ran over {timeout}");
        }
        return new ProcessOutcome(process.ExitCode, output.Result, errors.Result);
    }

    [GeneratedRegex(@"[0-9.]+ ms")]
    private static partial Regex Milliseconds();
}
