using CtScan.Pipeline;
using Microsoft.Extensions.Hosting;

namespace CtFunctions;

/// <summary>
/// Hands glibc's free memory back every five seconds while the worker runs (<see cref="NativeAllocator"/>): ONNX
/// Runtime's per-inference buffers otherwise keep the instance's working set climbing (measured on the local host with
/// `ctscan bench soak`), which on a Flex Consumption instance ends in an out-of-memory restart.
/// </summary>
public sealed class NativeMemoryTrim : BackgroundService
{
    /// <summary>How often free memory is handed back.</summary>
    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(5);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => NativeAllocator.TrimEveryAsync(Interval, stoppingToken);
}
