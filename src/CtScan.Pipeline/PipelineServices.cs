using CtScan.Explanation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>
/// Every pipeline service wired together from one <see cref="PipelineOptions"/>: what a host registers as singletons
/// (or uses directly, as the tests and the CLI do). Dispose it to release the loaded model.
/// </summary>
public sealed class PipelineServices : IDisposable
{
    /// <param name="gradCam">Opens (Guided) Grad-CAM for the explain step (<see cref="PipelineOptions.ExplainMethod"/>); hosts with TorchSharp only.</param>
    public PipelineServices(PipelineOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, GradCamOpener? gradCam = null)
    {
        var logs = loggerFactory ?? NullLoggerFactory.Instance;
        Clients = new PipelineClients(options);
        Storage = new PipelineStorage(Clients);
        Registry = new ModelRegistryClient(Clients.Models, new ModelRegistryClientOptions { TimeProvider = timeProvider ?? TimeProvider.System });
        Inferences = new InferenceGate(options.MaxConcurrentInferences);
        Models = new ModelProvider(Registry, Clients.Options, logs.CreateLogger<ModelProvider>(), timeProvider, Inferences);
        Results = new ResultStore(Clients);
        Ingestor = new ScanIngestor(Clients, Models, Results, logs.CreateLogger<ScanIngestor>(), timeProvider);
        Batcher = new InferenceBatcher(Inferences, options.MaxInferenceBatch);
        Scorer = new ScoreRequestHandler(Clients, Models, Ingestor, Results, logs.CreateLogger<ScoreRequestHandler>(), timeProvider, Batcher);
        Retries = new RetrySchedule(Clients.Options, logs.CreateLogger<RetrySchedule>(), timeProvider);
        Poison = new PoisonHandler(Clients, Results, logs.CreateLogger<PoisonHandler>(), timeProvider, Ingestor, Retries);
        ScoreQueue = new ScoreRequestRetrier(Clients, Scorer, Poison, Retries, logs.CreateLogger<ScoreRequestRetrier>());
        Explainer = new ExplainRequestHandler(Clients, Registry, Inferences, logs.CreateLogger<ExplainRequestHandler>(), gradCam);
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

    /// <summary>Gathers waiting score requests into one inference (<see cref="PipelineOptions.MaxInferenceBatch"/>), through <see cref="Inferences"/>.</summary>
    public InferenceBatcher Batcher { get; }
    public PoisonHandler Poison { get; }

    /// <summary>When failed work is tried again (<see cref="PipelineOptions.RetryWindow"/> and the delays).</summary>
    public RetrySchedule Retries { get; }

    /// <summary>What the score-requests trigger runs: <see cref="Scorer"/> with delayed retries.</summary>
    public ScoreRequestRetrier ScoreQueue { get; }

    /// <summary>The explain step (explain-requests): saliency maps after scoring.</summary>
    public ExplainRequestHandler Explainer { get; }

    public void Dispose()
    {
        Models.Dispose();
        Explainer.Dispose();
    }
}
