using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CtScan.Cli.Commands;

/// <summary>One child process's wall time and, on Linux, its CPU time (user + system, from getrusage).</summary>
internal readonly record struct ChildTiming(double WallMs, double? CpuMs);

/// <summary>
/// Runs a command as a whole process and times it, for benchmarks that compare processes side by side. CPU time is
/// reported next to wall time because on a shared machine the wall time mostly measures the other users' load.
/// </summary>
internal static class ChildProcessTimer
{
    /// <summary>Runs <paramref name="fileName"/> to completion; throws with its standard error when it fails.</summary>
    public static async Task<ChildTiming> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        double? cpuBefore = ChildrenCpuMs();
        var clock = Stopwatch.StartNew();
        var outcome = await ChildProcess.RunAsync(fileName, arguments, cancellationToken);
        double wall = clock.Elapsed.TotalMilliseconds;
        double? cpuAfter = ChildrenCpuMs(); // the child has been waited for: its usage is in RUSAGE_CHILDREN now
        if (outcome.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited {outcome.ExitCode}: {outcome.Errors.Trim()}");
        return new ChildTiming(wall, cpuAfter - cpuBefore);
    }

    /// <summary>Runs a command and returns its standard output, or null when it cannot start or exits non-zero.</summary>
    public static async Task<string?> TryOutputAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await ChildProcess.RunAsync(fileName, arguments, cancellationToken);
            return outcome.ExitCode == 0 ? outcome.Output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
    }

    /// <summary>User + system CPU milliseconds of all terminated, waited-for children of this process (Linux only).</summary>
    private static double? ChildrenCpuMs()
    {
        if (!OperatingSystem.IsLinux() || GetResourceUsage(ResourceUsageChildren, out var usage) != 0) return null;
        return (usage.UserSeconds + usage.SystemSeconds) * 1000.0 + (usage.UserMicroseconds + usage.SystemMicroseconds) / 1000.0;
    }

    private const int ResourceUsageChildren = -1; // RUSAGE_CHILDREN

    /// <summary>struct rusage on 64-bit Linux: two timevals, then 14 longs this class does not read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct ResourceUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public fixed long Rest[14];
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetResourceUsage(int who, out ResourceUsage usage);
}
