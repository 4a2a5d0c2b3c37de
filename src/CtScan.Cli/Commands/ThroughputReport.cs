using CtScan.Contracts;

namespace CtScan.Cli.Commands;

/// <summary>
/// Where a throughput batch's time went: the cores' seconds split between the scoring host, Azurite, the bench itself
/// (uploads, result polling), other processes and idle, from /proc; the per-scan waits from the results' timings; and
/// the compute bound the host's CPU per scan implies, so the gap between the measured rate and that bound is explained.
/// </summary>
internal static class ThroughputReport
{
    public static void Print(TextWriter stdout, int scans, CpuSample start, CpuSample uploaded, CpuSample end, IReadOnlyList<ScanResult> results,
        IReadOnlyDictionary<string, DateTimeOffset> uploads, Func<string, DateTimeOffset?> triggerStart)
    {
        int cores = Environment.ProcessorCount;
        var upload = uploaded.Since(start);
        var rest = end.Since(uploaded);
        var whole = end.Since(start);
        double wall = (end.At - start.At).TotalSeconds;
        stdout.WriteLine($"where the {cores} cores' time went (core-seconds, from /proc): upload phase {(uploaded.At - start.At).TotalSeconds:F1} s, then {(end.At - uploaded.At).TotalSeconds:F1} s to the last result; " +
                         $"load average {start.Load:F2} at the start, {end.Load:F2} at the end");
        stdout.WriteLine($"{"  process",-44} {"upload",8} {"after",8} {"whole",8} {"per scan",9}");
        Row(stdout, "  scoring host (preprocess, score, storage)", upload.Host, rest.Host, whole.Host, scans);
        Row(stdout, "  Azurite (node)", upload.Azurite, rest.Azurite, whole.Azurite, scans);
        Row(stdout, "  bench (uploads, result polling)", upload.Bench, rest.Bench, whole.Bench, scans);
        Row(stdout, "  other processes on the machine", upload.Others, rest.Others, whole.Others, scans);
        Row(stdout, "  idle", upload.MachineIdle, rest.MachineIdle, whole.MachineIdle, scans);
        stdout.WriteLine($"{"  total (cores × wall)",-44} {"",8} {"",8} {cores * wall,8:F1}");

        // The results' own timings: what each scan waited for and what its compute took (wall, under this load).
        double Mean(string key)
        {
            double sum = 0;
            int n = 0;
            foreach (var result in results)
                if (result.TimingsMs.TryGetValue(key, out var value)) { sum += value; n++; }
            return n == 0 ? double.NaN : sum / n;
        }
        double triggerSum = 0;
        int triggers = 0;
        foreach (var result in results)
            if (uploads.TryGetValue(result.Scan, out var done) && triggerStart(result.Scan) is { } began)
            {
                triggerSum += Math.Max(0, (began - done).TotalMilliseconds);
                triggers++;
            }
        stdout.WriteLine($"  per scan, mean ms: trigger wait (upload done → PreprocessScan starts, incl. waiting for a blob trigger slot) {(triggers == 0 ? double.NaN : triggerSum / triggers):F0}, " +
                         $"preprocess {Mean("preprocess"):F0}, queue wait {Mean("queueWait"):F0}, tensor download {Mean("download"):F0}, " +
                         $"inference wait {Mean("inferenceWait"):F0}, inference {Mean("inference"):F0} (batches of {Mean("inferenceBatch"):F1} on average)");

        // The bound: the cores divided by the CPU one scan costs, first the host's alone, then with Azurite and the uploads.
        double host = whole.Host / scans, storage = (whole.Azurite + whole.Bench) / scans;
        stdout.WriteLine($"  compute bound on {cores} idle cores: scoring host alone {cores * 60 / host:F0} scans/min ({host:F2} core-s a scan); " +
                         $"with Azurite and the uploads on the same cores {cores * 60 / (host + storage):F0} scans/min ({host + storage:F2} core-s a scan); " +
                         $"measured {scans / wall * 60:F1}, with {whole.Others:F1} core-s taken by other processes and {whole.MachineIdle:F1} idle");
    }

    private static void Row(TextWriter stdout, string name, double upload, double after, double whole, int scans) =>
        stdout.WriteLine($"{name,-44} {upload,8:F1} {after,8:F1} {whole,8:F1} {whole / scans,9:F3}");
}
