using System.Diagnostics;
using System.Text.Json;
using CtScan.Pipeline;

namespace CtScan.LocalHost;

/// <summary>
/// The host's resources at one moment: what <c>--stats-file</c> writes every second. Besides memory and model
/// sessions, the counts a soak watches for leaks: open file descriptors, threads, and files in the host's spool and
/// model cache folders (spool files left behind, half-finished downloads). The GC's committed bytes next to the
/// working set tell managed growth from native (ONNX Runtime, the C library's allocator).
/// </summary>
public sealed record HostStats(int ProcessId, long WorkingSetBytes, long PeakWorkingSetBytes, long ManagedHeapBytes, int ScorersCreated, int ScorersLive, DateTimeOffset At,
    int OpenFileDescriptors = 0, int Threads = 0, int TempFiles = 0, long GcCommittedBytes = 0)
{
    public static HostStats Now(PipelineServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        using var process = Process.GetCurrentProcess();
        return new HostStats(process.Id, process.WorkingSet64, process.PeakWorkingSet64, GC.GetTotalMemory(false), services.Models.ScorersCreated, services.Models.ScorersLive,
            DateTimeOffset.UtcNow, ProcessCounts.OpenFileDescriptors(process.Id), ProcessCounts.Threads(process.Id), CountTempFiles(services.Options),
            GC.GetGCMemoryInfo().TotalCommittedBytes);
    }

    /// <summary>Spool files in the spool folder plus every file under the model cache folder.</summary>
    public static int CountTempFiles(PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ProcessCounts.Files(options.EffectiveSpoolDirectory, PipelineOptions.SpoolFilePattern, SearchOption.TopDirectoryOnly)
               + ProcessCounts.Files(options.EffectiveModelCacheDirectory, "*", SearchOption.AllDirectories);
    }

    public static HostStats? TryRead(string path)
    {
        try { return JsonSerializer.Deserialize<HostStats>(File.ReadAllText(path), JsonSerializerOptions.Web); }
        catch (Exception error) when (error is IOException or JsonException) { return null; }
    }

    /// <summary>Writes the stats to <paramref name="path"/> every <paramref name="interval"/> (atomically: temp file, then rename) until cancelled.</summary>
    public static async Task WriteEveryAsync(string path, TimeSpan interval, PipelineServices services, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        do
        {
            string temp = path + ".tmp";
            await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(Now(services), JsonSerializerOptions.Web), CancellationToken.None).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}

/// <summary>Counts read from /proc (Linux) for any process; 0 where /proc is not there.</summary>
public static class ProcessCounts
{
    /// <summary>Entries of <c>/proc/PID/fd</c>: files, sockets, pipes, event fds the process holds open.</summary>
    public static int OpenFileDescriptors(int processId) => Entries($"/proc/{processId}/fd");

    /// <summary>Entries of <c>/proc/PID/task</c>: the process's threads.</summary>
    public static int Threads(int processId) => Entries($"/proc/{processId}/task");

    /// <summary>Files matching <paramref name="pattern"/> in <paramref name="directory"/> (0 when it does not exist).</summary>
    public static int Files(string directory, string pattern, SearchOption search)
    {
        try { return Directory.Exists(directory) ? Directory.EnumerateFiles(directory, pattern, search).Count() : 0; }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException) { return 0; } // a file vanished mid-walk: the next sample counts again
    }

    private static int Entries(string directory)
    {
        try { return Directory.Exists(directory) ? Directory.EnumerateFileSystemEntries(directory).Count() : 0; }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException) { return 0; }
    }
}
