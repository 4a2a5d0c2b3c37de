using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>
/// Every pipeline service wired together from one <see cref="PipelineOptions"/>: what a host registers as singletons
/// (or uses directly, as the tests and the CLI do). Dispose it to release the loaded model.
/// </summary>
public sealed class PipelineServices : IDisposable
{
    public PipelineServices(PipelineOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        var logs = loggerFactory ?? NullLoggerFactory.Instance;
        Clients = new PipelineClients(options);
        Storage = new PipelineStorage(Clients);
        Registry = new ModelRegistryClient(Clients.Models, new ModelRegistryClientOptions { TimeProvider = timeProvider ?? TimeProvider.System });
        Inferences = new InferenceGate(options.MaxConcurrentInferences);
        Models = new ModelProvider(Registry, Clients.Options, logs.CreateLogger<ModelProvider>(), timeProvider, Inferences);
        Results = new ResultStore(Clients);
        Ingestor = new ScanIngestor(Clients, Models, Results, logs.CreateLogger<ScanIngestor>(), timeProvider);
        Scorer = new ScoreRequestHandler(Clients, Models, Ingestor, Results, logs.CreateLogger<ScoreRequestHandler>(), timeProvider, Inferences);
        Poison = new PoisonHandler(Clients, Results, logs.CreateLogger<PoisonHandler>(), timeProvider);
    }

    public PipelineOptions Options => Clients.Options;
    public PipelineClients Clients { get; }
    public PipelineStorage Storage { get; }
    public ModelRegistryClient Registry { get; }
    public ModelProvider Models { get; }
    public ResultStore Results { get; }
    public ScanIngestor Ingestor { get; }
    public ScoreRequestHandler Scorer { get; }

    /// <summary>The instance's bound on concurrent inferences (the memory budget).</summary>
    public InferenceGate Inferences { get; }
    public PoisonHandler Poison { get; }

    public void Dispose() => Models.Dispose();
}
