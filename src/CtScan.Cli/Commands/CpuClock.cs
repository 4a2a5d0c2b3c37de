using System.Globalization;

namespace CtScan.Cli.Commands;

/// <summary>
/// CPU time from Linux's /proc: of one process (all its threads, <c>/proc/PID/stat</c> utime + stime) and of the whole
/// machine (<c>/proc/stat</c>), so a benchmark can say where the cores' time went, including to processes it does not
/// own (other users' load). Values are seconds; NaN where /proc is not there or the process has ended.
/// </summary>
internal static class CpuClock
{
    /// <summary>Linux reports these times in USER_HZ ticks, 100 per second on every architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU seconds the process has used so far.</summary>
    public static double ProcessSeconds(int processId)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{processId}/stat"); }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException) { return double.NaN; }
        // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>The machine's busy and idle CPU seconds so far, summed over all cores (iowait counts as idle).</summary>
    public static (double Busy, double Idle) MachineSeconds()
    {
        string[] lines;
        try { lines = File.ReadAllLines("/proc/stat"); }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException) { return (double.NaN, double.NaN); }
        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already in user.
        var fields = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Field(int i) => i < fields.Length ? long.Parse(fields[i], CultureInfo.InvariantCulture) : 0;
        long idle = Field(4) + Field(5);
        long busy = Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8);
        return (busy / TicksPerSecond, idle / TicksPerSecond);
    }

    /// <summary>The 1-minute load average (<c>/proc/loadavg</c>), or NaN.</summary>
    public static double LoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException) { return double.NaN; }
    }
}

/// <summary>CPU seconds of the processes a benchmark runs, and of the machine, at one moment; subtract two to get an interval's.</summary>
internal sealed record CpuSample(double Bench, double Host, double Azurite, double MachineBusy, double MachineIdle, double Load, DateTimeOffset At)
{
    public static CpuSample Take(int hostId, int azuriteId)
    {
        var (busy, idle) = CpuClock.MachineSeconds();
        return new CpuSample(CpuClock.ProcessSeconds(Environment.ProcessId), CpuClock.ProcessSeconds(hostId), CpuClock.ProcessSeconds(azuriteId),
            busy, idle, CpuClock.LoadAverage(), DateTimeOffset.UtcNow);
    }

    /// <summary>The interval from <paramref name="start"/> to this sample (Load: this sample's).</summary>
    public CpuSample Since(CpuSample start) =>
        new(Bench - start.Bench, Host - start.Host, Azurite - start.Azurite, MachineBusy - start.MachineBusy, MachineIdle - start.MachineIdle, Load, At);

    /// <summary>Busy CPU seconds of processes other than these three (other users' work, the OS).</summary>
    public double Others => MachineBusy - Bench - Host - Azurite;
}
