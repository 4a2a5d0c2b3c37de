using System.Runtime.InteropServices;
using CtScan.Cli.Commands;

namespace CtScan.Cli;

/// <summary>
/// Hands a command line to the managed ctscan beside the launcher: execv of the <c>dotnet</c> host with
/// <c>exec DIR/ctscan.dll ARGS…</c>, which replaces this process, so the managed CLI keeps its pid, stdio, signals and
/// exit code. The host is found as the managed CLI's own apphost finds it (<see cref="DotnetHost"/>).
/// </summary>
internal static unsafe partial class ManagedCli
{
    /// <summary>The managed CLI's entry assembly, published into the same folder as the launcher.</summary>
    public const string AssemblyFileName = "ctscan.dll";

    /// <summary>Returns only when the managed CLI cannot be started: the reason on <paramref name="error"/> and exit code 5.</summary>
    public static int Exec(IReadOnlyList<string> args, TextWriter error)
    {
        string folder = AppContext.BaseDirectory;
        string assembly = Path.Combine(folder, AssemblyFileName);
        if (!File.Exists(assembly))
        {
            error.WriteLine($"error: {assembly} does not exist: the native ctscan runs {string.Join(" and ", NativeLauncher.Verbs)} itself and hands every other verb " +
                            "to the managed CLI published into the same folder (dotnet publish src/CtScan.Cli -c Release -o DIR; docs/cli.md)");
            return CliErrors.MissingPrerequisite;
        }
        if (DotnetHost.Find(Environment.GetEnvironmentVariable, File.Exists, DotnetHost.ReadFirstLine) is not { } dotnet)
        {
            error.WriteLine($"error: no .NET host (dotnet) to run {assembly}: looked in $DOTNET_ROOT, /etc/dotnet/install_location, " +
                            $"{string.Join(", ", DotnetHost.DefaultFolders)} and PATH; install the .NET 10 runtime or set DOTNET_ROOT");
            return CliErrors.MissingPrerequisite;
        }
        string reason = Execv(dotnet, [dotnet, "exec", assembly, .. args]);
        error.WriteLine($"error: could not start {dotnet} exec {assembly}: {reason}");
        return CliErrors.MissingPrerequisite;
    }

    /// <summary>execv(2): returns only on failure, with errno's message.</summary>
    private static string Execv(string path, IReadOnlyList<string> argv)
    {
        var strings = new nint[argv.Count + 2]; // argv…, NULL (argv ends there), path
        try
        {
            for (int i = 0; i < argv.Count; i++) strings[i] = Marshal.StringToCoTaskMemUTF8(argv[i]);
            strings[^1] = Marshal.StringToCoTaskMemUTF8(path);
            fixed (nint* argvPointers = strings)
                Execv((byte*)strings[^1], (byte**)argvPointers);
            return Marshal.GetLastPInvokeErrorMessage();
        }
        finally
        {
            foreach (nint s in strings) Marshal.FreeCoTaskMem(s);
        }
    }

    [LibraryImport("libc", EntryPoint = "execv", SetLastError = true)]
    private static partial int Execv(byte* path, byte** argv);
}
