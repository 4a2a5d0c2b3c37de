using System.Runtime.InteropServices;

namespace CtScan.Pipeline;

/// <summary>
/// Keeps glibc's malloc from holding on to freed memory. By default glibc gives threads up to 8 arenas per core and
/// keeps what is freed into each: ONNX Runtime's per-inference buffers (its own arena is off, so they are malloc'ed
/// and freed on every run) land in whichever arena the calling thread-pool thread holds, and the host's working set
/// climbs with every arena that has held one (`ctscan bench soak`: 462 → 569 MiB between the second and last quarter
/// of 1,000 scans, the managed heap flat, 64 MiB arenas fully resident). Capping the arenas at start
/// (<see cref="LimitArenas"/>; the environment variable MALLOC_ARENA_MAX wins when set) stops new ones, but the
/// runtime's threads have made some before Main runs, so the host also hands free pages back now and then
/// (<see cref="TrimEveryAsync"/>, glibc's malloc_trim).
/// </summary>
public static partial class NativeAllocator
{
    /// <summary>The arenas allowed: one for the main thread's allocations, one for the rest.</summary>
    public const int ArenaMax = 2;

    private const int MallocArenaMaxParameter = -8; // M_ARENA_MAX in glibc's malloc.h

    /// <summary>Applies the cap on glibc (Linux); returns a line saying what was done, or null where nothing was.</summary>
    public static string? LimitArenas()
    {
        if (!OperatingSystem.IsLinux()) return null;
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is { Length: > 0 } set) return $"malloc arenas: MALLOC_ARENA_MAX={set} (from the environment)";
        try
        {
            return Mallopt(MallocArenaMaxParameter, ArenaMax) == 1 ? $"malloc arenas: at most {ArenaMax}" : null;
        }
        catch (Exception error) when (error is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // not glibc (musl): its allocator has no per-thread arenas to cap
        }
    }

    /// <summary>Returns free memory in every arena to the system (glibc's malloc_trim(0)); false where there is no glibc.</summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception error) when (error is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Trims every <paramref name="interval"/> until cancelled (or at once stops where there is no glibc).</summary>
    public static async Task TrimEveryAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                if (!Trim()) return;
        }
        catch (OperationCanceledException)
        {
            // the host stopped
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
