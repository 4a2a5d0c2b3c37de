using System.CommandLine;
using CtScan.Contracts;
using CtScan.LocalHost;
using CtScan.LocalHost.Azurite;
using CtScan.Pipeline;
using CtScan.Training.Explanation;
using CtScan.Viewer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan up</c>: the whole pipeline on this machine in one process. Starts Azurite (installed with npm from the
/// repository's package.json when missing) with its data in a local folder, creates the containers and queues,
/// publishes the bundled demo model when no model is current, runs the four triggers in-process on the WebJobs SDK
/// host, serves the results viewer on 127.0.0.1 (<c>--viewer-port</c>), writes the connection string to
/// <c>DATA/connection.txt</c> (where <c>submit</c>/<c>results</c> find it) and waits for Ctrl+C or SIGTERM; then stops
/// the viewer and the host and kills Azurite's process tree.
/// </summary>
public static class UpCommand
{
    /// <summary>The line printed once everything is running (tests wait for it).</summary>
    public const string ReadyLine = "ctscan up: ready";

    public const string DefaultDataFolder = ConnectionFile.DefaultDataFolder;

    public static Command Create()
    {
        var data = new Option<DirectoryInfo?>("--data") { Description = $"Azurite's data folder (default: {DefaultDataFolder}/ at the repository root); results survive restarts" };
        var blobPort = new Option<int>("--blob-port") { Description = "Azurite blob port (0: a free one)", DefaultValueFactory = _ => 10000 };
        var queuePort = new Option<int>("--queue-port") { Description = "Azurite queue port (0: a free one)", DefaultValueFactory = _ => 10001 };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model folder (model.onnx + manifest.json) to publish when no model is current (default: the bundled demo model)" };
        var viewerPort = new Option<int>("--viewer-port") { Description = $"Port of the results viewer on 127.0.0.1 (0: a free one)", DefaultValueFactory = _ => ViewerOptions.DefaultPort };
        var explain = new Option<bool>("--explain") { Description = "Queue every scored scan for a saliency map and montage (default true; `--explain false` turns it off)", DefaultValueFactory = _ => true };
        var explainMethod = new Option<string>("--explain-method")
        {
            Description = $"How the maps are made: {ExplanationMethods.GuidedGradCam} (default; models trained here, published with their checkpoint), {ExplanationMethods.GradCam} or {ExplanationMethods.Occlusion} (any ONNX model; also the fallback for a model without a checkpoint)",
            DefaultValueFactory = _ => ExplanationMethods.GuidedGradCam,
        };
        explainMethod.AcceptOnlyFromAmong(ExplanationMethods.GuidedGradCam, ExplanationMethods.GradCam, ExplanationMethods.Occlusion);
        var verbose = new Option<bool>("--verbose") { Description = "Log every trigger invocation (default: warnings and the pipeline's own lines)" };
        var command = new Command("up", "Run the pipeline locally: Azurite + containers/queues + a current model + the triggers, until Ctrl+C")
        {
            data, blobPort, queuePort, model, viewerPort, verbose, explain, explainMethod,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            // Before ONNX Runtime loads: glibc keeps freed memory per arena (NativeAllocator; the local host does the same).
            NativeAllocator.LimitArenas();
            string dataDirectory = parse.GetValue(data)?.FullName ?? Path.Combine(AzuriteServer.FindPackageDirectory(), DefaultDataFolder);
            string modelDirectory = parse.GetValue(model)?.FullName ?? DemoModel.Directory;
            if (parse.GetValue(model) is { Exists: false } missing)
                throw new DirectoryNotFoundException($"--model {missing.FullName} does not exist");

            stdout.WriteLine($"Starting Azurite (data in {dataDirectory}) …");
            await using var azurite = await AzuriteServer.StartAsync(new AzuriteOptions
            {
                DataDirectory = dataDirectory,
                BlobPort = parse.GetValue(blobPort),
                QueuePort = parse.GetValue(queuePort),
                OwnSession = true,
            }, ct);
            string connection = azurite.ConnectionString;
            stdout.WriteLine($"Azurite: blob http://127.0.0.1:{azurite.BlobPort}, queue http://127.0.0.1:{azurite.QueuePort}");

            var settings = new LocalHostSettings
            {
                Connection = connection,
                MinimumLogLevel = LogLevel.Information,
                ConfigurePipeline = options => options with { Explain = parse.GetValue(explain), ExplainMethod = parse.GetValue(explainMethod)! },
                // This process loads TorchSharp, so the explain step can run Grad-CAM on the checkpoint published with the model.
                GradCam = (directory, guided) => GradCam.Open(directory, guided),
                // host.json logs every invocation at Information; quietly, only warnings and the pipeline's own lines.
                Overrides = parse.GetValue(verbose) ? new Dictionary<string, string?>() : new Dictionary<string, string?>
                {
                    ["logging:logLevel:default"] = "Warning",
                    ["logging:logLevel:Function"] = "Warning",
                    ["logging:logLevel:Host.Results"] = "Warning",
                    ["logging:logLevel:CtScan"] = "Information",
                },
            };
            await PrepareStorageAsync(stdout, connection, modelDirectory, ct);

            // The page reads storage through its own API: the connection string stays in this process.
            await using var viewer = await ViewerServer.StartAsync(
                ViewerOptions.Loopback(PipelineOptions.ForConnectionString(connection), parse.GetValue(viewerPort)), cancellationToken: ct);
            string connectionFile = ConnectionFile.PathIn(dataDirectory);
            using var trimming = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var trim = NativeAllocator.TrimEveryAsync(TimeSpan.FromSeconds(5), trimming.Token);
            using var logs = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => { console.SingleLine = true; console.TimestampFormat = "HH:mm:ss.fff "; }));
            bool announced = false;
            try
            {
                // Like the Functions host, a job host whose trigger listener fails (storage gone for a while) is replaced
                // by a new one instead of ending `up`; Ctrl+C / SIGTERM end it (ct, and each host's console lifetime).
                await LocalPipelineHost.RunAsync(settings, TimeSpan.FromSeconds(5), async (_, started) =>
                {
                    if (announced) return;
                    announced = true;
                    await File.WriteAllTextAsync(connectionFile, connection + Environment.NewLine, started);
                    Announce(stdout, viewer.PageUrl, connectionFile, connection);
                }, logs.CreateLogger("CtScan.Up"), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C while a replaced host was waiting to start
            }

            stdout.WriteLine("Stopping …");
            File.Delete(connectionFile);
            await trimming.CancelAsync();
            await trim;
            // `await using azurite` kills Azurite's process tree on the way out.
            stdout.WriteLine("Stopped.");
        }, cancellationToken));
        return command;
    }

    /// <summary>Creates the containers and queues and makes sure a model is current (the bundled one, unless one is).</summary>
    private static async Task PrepareStorageAsync(TextWriter stdout, string connection, string modelDirectory, CancellationToken ct)
    {
        using var services = new PipelineServices(PipelineOptions.ForConnectionString(connection));
        await services.Storage.EnsureCreatedAsync(ct);
        stdout.WriteLine($"Containers and queues ready: {string.Join(", ", StorageNames(services.Options))}");

        var current = await services.Registry.GetCurrentAsync(ct);
        if (current is not null)
            stdout.WriteLine($"Model: {current.Version} is current");
        else if (File.Exists(Path.Combine(modelDirectory, "manifest.json")))
        {
            var published = await services.Registry.PublishAsync(modelDirectory, new PublishOptions { Promote = true, Force = true }, ct);
            stdout.WriteLine($"Model: published {published.Version} from {modelDirectory} and made it current");
        }
        else
            stdout.WriteLine($"Model: none is current and {modelDirectory} holds no model; scans will fail until you run `ctscan model publish DIR`");
    }

    /// <summary>What a user needs once the triggers run: the viewer, the connection, the next commands, the ready line.</summary>
    private static void Announce(TextWriter stdout, string viewerUrl, string connectionFile, string connection)
    {
        if (NiivueScript.Find() is null) stdout.WriteLine($"warning: {NiivueScript.MissingMessage}");
        stdout.WriteLine($"Viewer: {viewerUrl}");
        stdout.WriteLine($"Connection string (also in {connectionFile}): {connection}");
        stdout.WriteLine("In another terminal, from the repository:");
        stdout.WriteLine("  dotnet run --project src/CtScan.Cli -c Release -- submit scan.nii.gz --wait");
        stdout.WriteLine("  dotnet run --project src/CtScan.Cli -c Release -- results");
        stdout.WriteLine($"(elsewhere add --connection \"{connection}\")");
        stdout.WriteLine($"{ReadyLine}; Ctrl+C stops");
        stdout.Flush();
    }

    private static IEnumerable<string> StorageNames(PipelineOptions o) =>
        [o.ScansContainer, o.TensorsContainer, o.ResultsContainer, o.ModelsContainer, o.TrainingContainer, o.ScoreRequestsQueue, o.ScoreRequestsPoisonQueue, o.BlobTriggerPoisonQueue, o.ExplainRequestsQueue];
}
