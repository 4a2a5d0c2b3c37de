using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace CtScan.Pipeline;

/// <summary>
/// The storage clients the handlers share, built once from <see cref="PipelineOptions"/> (clients are thread-safe;
/// keep one per process).
/// </summary>
public sealed class PipelineClients
{
    public PipelineClients(PipelineOptions options)
    {
        Options = (options ?? throw new ArgumentNullException(nameof(options))).Validated();
        var queueOptions = new QueueClientOptions { MessageEncoding = options.MessageEncoding };
        var blobOptions = new BlobClientOptions();
        options.StorageRetry?.ApplyTo(blobOptions.Retry);
        options.StorageRetry?.ApplyTo(queueOptions.Retry);
        if (options.ConnectionString is { } connectionString)
        {
            BlobService = new BlobServiceClient(connectionString, blobOptions);
            QueueService = new QueueServiceClient(connectionString, queueOptions);
        }
        else
        {
            var credential = options.Credential ?? options.SignIn.CreateCredential();
            var blobUri = options.BlobServiceUri!;
            var queueUri = options.QueueServiceUri ?? new Uri(blobUri.AbsoluteUri.Replace(".blob.", ".queue.", StringComparison.OrdinalIgnoreCase));
            BlobService = new BlobServiceClient(blobUri, credential, blobOptions);
            QueueService = new QueueServiceClient(queueUri, credential, queueOptions);
        }
    }

    public PipelineOptions Options { get; }

    public BlobServiceClient BlobService { get; }

    public QueueServiceClient QueueService { get; }

    public BlobContainerClient Scans => BlobService.GetBlobContainerClient(Options.ScansContainer);
    public BlobContainerClient Tensors => BlobService.GetBlobContainerClient(Options.TensorsContainer);
    public BlobContainerClient Results => BlobService.GetBlobContainerClient(Options.ResultsContainer);
    public BlobContainerClient Models => BlobService.GetBlobContainerClient(Options.ModelsContainer);
    public BlobContainerClient Training => BlobService.GetBlobContainerClient(Options.TrainingContainer);
    public QueueClient ScoreRequests => QueueService.GetQueueClient(Options.ScoreRequestsQueue);
    public QueueClient ScoreRequestsPoison => QueueService.GetQueueClient(Options.ScoreRequestsPoisonQueue);
    public QueueClient BlobTriggerPoison => QueueService.GetQueueClient(Options.BlobTriggerPoisonQueue);
    public QueueClient ExplainRequests => QueueService.GetQueueClient(Options.ExplainRequestsQueue);
}

/// <summary>Creates the pipeline's containers and queues.</summary>
public sealed class PipelineStorage
{
    private readonly PipelineClients _clients;

    public PipelineStorage(PipelineClients clients) => _clients = clients ?? throw new ArgumentNullException(nameof(clients));

    /// <summary>Creates every container and queue that does not exist yet (idempotent; safe to run concurrently).</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        var c = _clients;
        BlobContainerClient[] containers = [c.Scans, c.Tensors, c.Results, c.Models, c.Training];
        QueueClient[] queues = [c.ScoreRequests, c.ScoreRequestsPoison, c.BlobTriggerPoison, c.ExplainRequests];
        await Task.WhenAll(
            containers.Select(container => (Task)container.CreateIfNotExistsAsync(cancellationToken: cancellationToken))
                .Concat(queues.Select(queue => (Task)queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken)))).ConfigureAwait(false);
    }
}
