using CtScan.LocalHost;
using CtScan.Pipeline;
using CtScan.LocalHost.Azurite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using System.Runtime.InteropServices;

// ctscan-localhost [--connection CONN] [--azurite] [--settings local.settings.json] [--host-json host.json]
// Runs the pipeline's triggers on the WebJobs SDK until Ctrl+C / SIGTERM.
string? connection = null, settingsPath = null, hostJson = null, statsFile = null;
bool startAzurite = false;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--connection": connection = Next(); break;
        case "--azurite": startAzurite = true; break;
        case "--settings": settingsPath = Next(); break;
        case "--host-json": hostJson = Next(); break;
        case "--stats-file": statsFile = Next(); break;
        case "-h" or "--help":
            Console.WriteLine("usage: CtScan.LocalHost [--connection CONN] [--azurite] [--settings local.settings.json] [--host-json host.json] [--stats-file stats.json]");
            Console.WriteLine("The connection comes from --connection, else AzureWebJobsStorage (environment or local.settings.json Values).");
            Console.WriteLine("--azurite starts a private Azurite (in memory) and uses it.");
            Console.WriteLine("--stats-file writes the host's working set, peak working set, ONNX Runtime session count, open file descriptors, threads and spool/model-cache file count there every second.");
            return 0;
        default:
            Console.Error.WriteLine($"error: unknown argument '{args[i]}'; try --help");
            return 2;
    }
}

// Before the host starts its threads and loads ONNX Runtime: see NativeAllocator.
if (NativeAllocator.LimitArenas() is { } allocator) Console.WriteLine(allocator);

await using var azurite = startAzurite ? await AzuriteServer.StartAsync() : null;
if (azurite is not null)
{
    connection = azurite.ConnectionString;
    Console.WriteLine($"Azurite: blob port {azurite.BlobPort}, queue port {azurite.QueuePort}");
    Console.WriteLine($"Connection string: {connection}");
}

// Ctrl+C / SIGTERM end the run, also while a failed job host is being replaced (each host's console lifetime stops that host).
using var stop = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var logs = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => { console.SingleLine = true; console.TimestampFormat = "HH:mm:ss.fff "; }));
try
{
    var settings = new LocalHostSettings { Connection = connection, LocalSettingsPath = settingsPath, HostJsonPath = hostJson };
    // Hands glibc's free memory back to the system (see NativeAllocator): once per process, across job-host restarts.
    var trim = NativeAllocator.TrimEveryAsync(TimeSpan.FromSeconds(5), stop.Token);
    await LocalPipelineHost.RunAsync(settings, TimeSpan.FromSeconds(5), statsFile is null ? null
        : (host, ct) => HostStats.WriteEveryAsync(Path.GetFullPath(statsFile), TimeSpan.FromSeconds(1), host.Services.GetRequiredService<CtScan.Pipeline.PipelineServices>(), ct),
        logs.CreateLogger("CtScan.LocalHost"), stop.Token);
    await stop.CancelAsync();
    await trim;
    return 0;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    return 0;
}
catch (CtScan.Pipeline.PipelineConfigurationException error)
{
    Console.Error.WriteLine($"error: {error.Message}");
    return 2;
}
