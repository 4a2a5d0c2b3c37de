using CtScan.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CtFunctions;

/// <summary>
/// The app's service registrations, apart from Program.cs so that tests can build exactly this wiring from the
/// settings the deployment gives the app and activate the function classes from it (no Functions host runs there).
/// </summary>
public static class FunctionsAppServices
{
    /// <summary>The function classes the worker activates (with ActivatorUtilities) for each invocation.</summary>
    public static IReadOnlyList<Type> FunctionTypes { get; } = [typeof(PreprocessScan), typeof(ScoreScan), typeof(ScoreScanPoison), typeof(BlobTriggerPoison), typeof(SweepPendingScans), typeof(ExplainScan)];

    /// <summary>
    /// One <see cref="PipelineServices"/> per app instance, built from the app settings (the storage connection
    /// <c>AzureWebJobsStorage</c> with its identity settings, and <c>CtScan__*</c>): the same handlers, model cache and
    /// registry the local host wires up.
    /// </summary>
    public static IServiceCollection AddCtScanPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton(sp => new PipelineServices(
            PipelineOptions.FromSettings(key => configuration[key], StorageConnection.Name), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => sp.GetRequiredService<PipelineServices>().Ingestor);
        services.AddSingleton(sp => sp.GetRequiredService<PipelineServices>().Scorer);
        services.AddSingleton(sp => sp.GetRequiredService<PipelineServices>().Poison);
        services.AddSingleton(sp => sp.GetRequiredService<PipelineServices>().ScoreQueue);
        services.AddSingleton(sp => sp.GetRequiredService<PipelineServices>().Explainer);
        services.AddSingleton(sp => new ScheduledSweep(sp.GetRequiredService<PipelineServices>(),
            ScanSweepSettings.FromSettings(key => configuration[key]), sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService<NativeMemoryTrim>();
        return services;
    }
}
