using System.Text.Json;
using CtScan.LocalHost.Functions;
using CtScan.Pipeline;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CtScan.LocalHost;

/// <summary>Where the local host's settings come from.</summary>
public sealed record LocalHostSettings
{
    /// <summary>The storage connection string (overrides AzureWebJobsStorage from the settings file and environment).</summary>
    public string? Connection { get; init; }

    /// <summary>host.json (Functions format); default: the one beside the binary.</summary>
    public string? HostJsonPath { get; init; }

    /// <summary>local.settings.json (Functions format, its Values become settings); default: ./local.settings.json if present.</summary>
    public string? LocalSettingsPath { get; init; }

    /// <summary>Further settings (tests), applied last.</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();

    /// <summary>Adjusts the pipeline options built from the settings (tests: model cache folder, refresh interval).</summary>
    public Func<PipelineOptions, PipelineOptions>? ConfigurePipeline { get; init; }

    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>
    /// Stop the host when a trigger listener fails (storage unreachable past the client's retries) instead of ending the
    /// process (the WebJobs SDK's default), so that <see cref="LocalPipelineHost.RunAsync"/> can start a new one.
    /// </summary>
    public bool RestartOnListenerFault { get; init; }

    /// <summary>Opens (Guided) Grad-CAM for the explain step when CtScan__ExplainMethod asks for it (<c>ctscan up</c>, which loads TorchSharp).</summary>
    public CtScan.Explanation.GradCamOpener? GradCam { get; init; }

    /// <summary>Last say over the services (tests: replace a handler to simulate failures).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}

/// <summary>
/// The WebJobs SDK host running the pipeline's four triggers in-process: settings from host.json (extensions.queues →
/// QueuesOptions, extensions.blobs → BlobsOptions), local.settings.json Values and the environment; the handlers
/// registered as singletons from one <see cref="PipelineServices"/>.
/// </summary>
public static class LocalPipelineHost
{
    /// <summary>The trigger classes the host indexes (and no others).</summary>
    public static IReadOnlyList<Type> TriggerTypes { get; } = [typeof(PreprocessScan), typeof(ScoreScan), typeof(ScoreScanPoison), typeof(BlobTriggerPoison), typeof(ExplainScan)];

    /// <summary>Builds the host and creates the containers and queues; start it with StartAsync/RunAsync.</summary>
    public static async Task<IHost> BuildAsync(LocalHostSettings settings, CancellationToken cancellationToken = default)
    {
        var configuration = BuildConfiguration(settings);
        var options = PipelineOptions.FromSettings(key => configuration[key]);
        var queues = configuration.GetSection("extensions:queues");
        if (queues.GetValue<int?>("maxDequeueCount") is { } maxDequeue) options = options with { MaxDequeueCount = maxDequeue };
        if (configuration.GetValue<int?>("extensions:blobs:poisonBlobThreshold") is { } blobAttempts) options = options with { BlobTriggerMaxAttempts = blobAttempts };
        if (settings.ConfigurePipeline is { } configure) options = configure(options);
        options.Validated();
        if (options.ConnectionString is null)
            throw new PipelineConfigurationException("the local host needs a connection string (AzureWebJobsStorage or --connection)");

        var host = new HostBuilder()
            .UseEnvironment("Development")
            .ConfigureAppConfiguration(builder => builder.AddConfiguration(configuration))
            .ConfigureLogging(logging =>
            {
                logging.AddConfiguration(configuration.GetSection("logging"));
                logging.SetMinimumLevel(settings.MinimumLogLevel);
                logging.AddSimpleConsole(console => { console.SingleLine = true; console.TimestampFormat = "HH:mm:ss.fff "; });
            })
            .ConfigureWebJobs(webJobs =>
            {
                webJobs.AddAzureStorageCoreServices();
                webJobs.AddAzureStorageBlobs(blobs => configuration.GetSection("extensions:blobs").Bind(blobs));
                webJobs.AddAzureStorageQueues(q => queues.Bind(q));
            })
            .ConfigureServices(services =>
            {
                services.AddSingleton(options);
                services.AddSingleton(provider => new PipelineServices(options, provider.GetRequiredService<ILoggerFactory>(), gradCam: settings.GradCam));
                services.AddSingleton(provider => provider.GetRequiredService<PipelineServices>().Ingestor);
                services.AddSingleton(provider => provider.GetRequiredService<PipelineServices>().Scorer);
                services.AddSingleton(provider => provider.GetRequiredService<PipelineServices>().Poison);
                services.AddSingleton(provider => provider.GetRequiredService<PipelineServices>().ScoreQueue);
                services.AddSingleton(provider => provider.GetRequiredService<PipelineServices>().Explainer);
                services.AddSingleton(provider => provider.GetRequiredService<PipelineServices>().Models);
                services.AddSingleton<ITypeLocator>(new FixedTypeLocator(TriggerTypes));
                services.AddSingleton<IJobActivator, ServiceProviderJobActivator>();
                if (options.PendingSweepInterval > TimeSpan.Zero) services.AddHostedService<PendingScanSweepService>();
                services.AddSingleton<ListenerFaults>();
                if (settings.RestartOnListenerFault)
                    services.AddSingleton<Microsoft.Azure.WebJobs.Host.Timers.IWebJobsExceptionHandlerFactory, StopHostOnListenerFault>();
                settings.ConfigureServices?.Invoke(services);
            })
            .UseConsoleLifetime()
            .Build();

        await host.Services.GetRequiredService<PipelineServices>().Storage.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return host;
    }

    /// <summary>
    /// Runs the host until <paramref name="cancellationToken"/> is cancelled, the way the Functions host keeps its job
    /// host alive: when a trigger listener fails (<see cref="ListenerFaults"/>; storage down) the host is stopped and a
    /// new one built, after <paramref name="restartDelay"/> and for as long as storage does not answer the build's
    /// container check. The new host's pending-scan sweep (it has ingested nothing yet) re-ingests the scans whose
    /// messages the old one held. <paramref name="started"/> runs for each host once it has started.
    /// </summary>
    public static async Task RunAsync(LocalHostSettings settings, TimeSpan restartDelay, Func<IHost, CancellationToken, Task>? started, ILogger logger,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        settings = settings with { RestartOnListenerFault = true };
        while (!cancellationToken.IsCancellationRequested)
        {
            IHost? host = null;
            try
            {
                host = await BuildAsync(settings, cancellationToken).ConfigureAwait(false);
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error) when (error is Azure.RequestFailedException or AggregateException or HttpRequestException)
            {
                host?.Dispose();
                logger.LogWarning("Storage does not answer ({Error}); trying again in {Delay:F0} s", RetrySchedule.Brief(error), restartDelay.TotalSeconds);
                await Task.Delay(restartDelay, cancellationToken).ConfigureAwait(false);
                continue;
            }
            using (host)
            {
                using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
                var extra = started?.Invoke(host, stopping.Token) ?? Task.CompletedTask;
                await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
                await stopping.CancelAsync().ConfigureAwait(false);
                try { await extra.ConfigureAwait(false); } catch (OperationCanceledException) { }
                if (host.Services.GetRequiredService<ListenerFaults>().Fault is not { } fault) return;
                logger.LogWarning("The job host stopped after a listener failed ({Error}); starting a new one in {Delay:F0} s", RetrySchedule.Brief(fault), restartDelay.TotalSeconds);
            }
            await Task.Delay(restartDelay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>host.json (as <c>extensions:…</c>, <c>logging:…</c>), then local.settings.json Values, the environment and overrides.</summary>
    public static IConfiguration BuildConfiguration(LocalHostSettings settings)
    {
        var builder = new ConfigurationBuilder();
        string hostJson = settings.HostJsonPath ?? Path.Combine(AppContext.BaseDirectory, "host.json");
        if (File.Exists(hostJson)) builder.AddJsonFile(hostJson, optional: false);
        else if (settings.HostJsonPath is not null) throw new FileNotFoundException($"host.json not found at {hostJson}", hostJson);

        string localSettings = settings.LocalSettingsPath ?? Path.Combine(Environment.CurrentDirectory, "local.settings.json");
        if (File.Exists(localSettings)) builder.AddInMemoryCollection(ReadValues(localSettings));
        else if (settings.LocalSettingsPath is not null) throw new FileNotFoundException($"settings file not found at {localSettings}", localSettings);

        builder.AddEnvironmentVariables();
        var overrides = new Dictionary<string, string?>(settings.Overrides);
        if (settings.Connection is { } connection) overrides["AzureWebJobsStorage"] = connection;
        builder.AddInMemoryCollection(overrides);
        return builder.Build();
    }

    private static Dictionary<string, string?> ReadValues(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var values = new Dictionary<string, string?>();
        if (document.RootElement.TryGetProperty("Values", out var section))
            foreach (var property in section.EnumerateObject())
                values[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText();
        return values;
    }

    private sealed class FixedTypeLocator(IReadOnlyList<Type> types) : ITypeLocator
    {
        public IReadOnlyList<Type> GetTypes() => types;
    }

    /// <summary>Creates trigger classes through DI, so their constructors receive the handlers.</summary>
    private sealed class ServiceProviderJobActivator(IServiceProvider services) : IJobActivator
    {
        public T CreateInstance<T>() => ActivatorUtilities.GetServiceOrCreateInstance<T>(services);
    }
}
