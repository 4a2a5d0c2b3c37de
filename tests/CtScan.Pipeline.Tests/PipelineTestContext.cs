using Azure.Storage.Queues;
using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Tests;

namespace CtScan.Pipeline.Tests;

/// <summary>Settable clock for interval tests.</summary>
internal sealed class ManualTime : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>
/// One test's pipeline on the shared Azurite: containers and queues with a unique prefix (tests don't see each
/// other's blobs), a private model cache and spool folder, deleted afterwards.
/// </summary>
internal sealed class PipelineTestContext : IAsyncDisposable
{
    public const string ModelLow = "fixture-auc070";
    public const string ModelHigh = "fixture-auc080";
    public const string ModelSmall = "fixture-small46-auc075";

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-pipeline-test-");

    private PipelineTestContext(PipelineOptions options, TimeProvider? time)
    {
        Services = new PipelineServices(options, timeProvider: time);
    }

    public PipelineServices Services { get; }

    public PipelineOptions Options => Services.Options;

    public string TempPath(string name) => Path.Combine(_temp.FullName, name);

    public static async Task<PipelineTestContext> CreateAsync(AzuriteFixture azurite, Func<PipelineOptions, PipelineOptions>? configure = null, TimeProvider? time = null)
    {
        string p = "t" + Guid.NewGuid().ToString("N")[..10];
        var temp = Directory.CreateTempSubdirectory("ctscan-pipeline-cache-");
        var options = new PipelineOptions
        {
            ConnectionString = azurite.ConnectionString,
            ScansContainer = $"{p}-scans",
            TensorsContainer = $"{p}-tensors",
            ResultsContainer = $"{p}-results",
            ModelsContainer = $"{p}-models",
            TrainingContainer = $"{p}-training",
            ScoreRequestsQueue = $"{p}-score-requests",
            ScoreRequestsPoisonQueue = $"{p}-score-requests-poison",
            BlobTriggerPoisonQueue = $"{p}-blobtrigger-poison",
            ModelCacheDirectory = Path.Combine(temp.FullName, "models"),
            SpoolDirectory = Path.Combine(temp.FullName, "spool"),
        };
        var context = new PipelineTestContext(configure?.Invoke(options) ?? options, time);
        await context.Services.Storage.EnsureCreatedAsync();
        return context;
    }

    public static string ModelDirectory(string name) => Fixtures.Path("models", name);

    /// <summary>
    /// The local host's settings for a test that runs it in-process: the repository's host.json, no local.settings.json,
    /// warnings only, the model cache and spool in <paramref name="folder"/>; tests add their own with <c>with</c>.
    /// </summary>
    public static LocalHost.LocalHostSettings InProcessHost(string connection, string folder, IReadOnlyDictionary<string, string?>? overrides = null) => new()
    {
        Connection = connection,
        HostJsonPath = Path.Combine(Fixtures.Path(), "..", "..", "host.json"),
        LocalSettingsPath = null,
        MinimumLogLevel = Microsoft.Extensions.Logging.LogLevel.Warning,
        Overrides = overrides ?? new Dictionary<string, string?>(),
        ConfigurePipeline = o => o with { ModelCacheDirectory = Path.Combine(folder, "models"), SpoolDirectory = folder },
    };

    /// <summary>A copy of the <paramref name="model"/> fixture folder with a checkpoint/ holding these bytes (what Grad-CAM would load).</summary>
    public string ModelWithCheckpoint(string model, byte[] weights, byte[] options)
    {
        string folder = TempPath($"{model}-with-checkpoint-{Guid.NewGuid():N}");
        string checkpoint = Path.Combine(folder, Scoring.ModelFolder.CheckpointFolderName);
        Directory.CreateDirectory(checkpoint);
        foreach (var file in Directory.GetFiles(ModelDirectory(model)))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        File.WriteAllBytes(Path.Combine(checkpoint, Scoring.ModelFolder.CheckpointWeightsFileName), weights);
        File.WriteAllBytes(Path.Combine(checkpoint, Scoring.ModelFolder.CheckpointOptionsFileName), options);
        return folder;
    }

    public static ModelManifest Manifest(string name) => Scoring.ModelFolder.ReadManifest(ModelDirectory(name));

    public Task<PublishResult> PublishAsync(string name, bool promote = true, bool force = false) =>
        Services.Registry.PublishAsync(ModelDirectory(name), new PublishOptions { Promote = promote, Force = force });

    /// <summary>A phantom scan's bytes (.nii.gz unless <paramref name="extension"/> says otherwise).</summary>
    public byte[] Phantom(PhantomLabel label, int seed = 1, string extension = ".nii.gz", VolumeShape? shape = null)
    {
        string path = TempPath($"phantom-{label}-{seed}-{Guid.NewGuid():N}{extension}");
        ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = shape ?? new VolumeShape(64, 64, 16), Seed = seed, Label = label });
        return File.ReadAllBytes(path);
    }

    public Task<IngestResult> IngestAsync(string name, byte[] content) => Services.Ingestor.IngestAsync(name, new MemoryStream(content), CancellationToken.None);

    /// <summary>Receives the next score request's text through the pipeline's (base64) queue client.</summary>
    public async Task<string?> ReceiveRequestAsync()
    {
        var message = (await Services.Clients.ScoreRequests.ReceiveMessageAsync(TimeSpan.FromMinutes(5))).Value;
        return message?.Body.ToString();
    }

    public QueueClient RawQueue(string name) => new(Options.ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });

    /// <summary>Reads a result, first checking its stored JSON against schemas/scan-result.schema.json.</summary>
    public async Task<ScanResult?> ReadResultAsync(string blobName)
    {
        var blob = Services.Clients.Results.GetBlobClient(blobName);
        if (!await blob.ExistsAsync()) return null;
        string json = (await blob.DownloadContentAsync()).Value.Content.ToString();
        var errors = CtScan.Tests.Contracts.ResultSchema.Errors(json);
        Assert.True(errors.Count == 0, $"{blobName} does not match the result schema: {string.Join("; ", errors)}\n{json}");
        return ContractsJson.DeserializeResult(json);
    }

    public async Task<List<string>> ResultBlobNamesAsync()
    {
        var names = new List<string>();
        await foreach (var blob in Services.Clients.Results.GetBlobsAsync()) names.Add(blob.Name);
        return names;
    }

    public async ValueTask DisposeAsync()
    {
        Services.Dispose();
        var c = Services.Clients;
        foreach (var container in new[] { c.Scans, c.Tensors, c.Results, c.Models, c.Training })
            await container.DeleteIfExistsAsync();
        foreach (var queue in new[] { c.ScoreRequests, c.ScoreRequestsPoison, c.BlobTriggerPoison })
            await queue.DeleteIfExistsAsync();
        foreach (var queue in PoisonQueues.All(Options))
            await c.QueueService.GetQueueClient(queue.Name).DeleteIfExistsAsync();
        try { _temp.Delete(recursive: true); } catch (IOException) { }
        if (Options.ModelCacheDirectory is { } cache && Directory.GetParent(cache) is { } parent)
            try { parent.Delete(recursive: true); } catch (IOException) { }
    }
}
