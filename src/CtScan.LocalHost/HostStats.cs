using System.Diagnostics;
using System.Text.Json;
using CtScan.Pipeline;

namespace CtScan.LocalHost;

/// <summary>The host's memory and model sessions at one moment: what <c>--stats-file</c> writes every second.</summary>
public sealed record HostStats(int ProcessId, long WorkingSetBytes, long PeakWorkingSetBytes, long ManagedHeapBytes, int ScorersCreated, int ScorersLive, DateTimeOffset At)
{
    public static HostStats Now(ModelProvider models)
    {
        using var process = Process.GetCurrentProcess();
        return new HostStats(process.Id, process.WorkingSet64, process.PeakWorkingSet64, GC.GetTotalMemory(false), models.ScorersCreated, models.ScorersLive, DateTimeOffset.UtcNow);
    }

    public static HostStats? TryRead(string path)
    {
        try { return JsonSerializer.Deserialize<HostStats>(File.ReadAllText(path), JsonSerializerOptions.Web); }
        catch (Exception error) when (error is IOException or JsonException) { return null; }
    }

    /// <summary>Writes the stats to <paramref name="path"/> every <paramref name="interval"/> (atomically: temp file, then rename) until cancelled.</summary>
    public static async Task WriteEveryAsync(string path, TimeSpan interval, ModelProvider models, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        do
        {
            string temp = path + ".tmp";
            await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(Now(models), JsonSerializerOptions.Web), CancellationToken.None).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}
