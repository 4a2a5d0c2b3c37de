using Azure.Core;
using Azure.Identity;
using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Scoring;
using CtScan.Validation;

namespace CtScan.Pipeline;

/// <summary>
/// Everything the handlers need to know about storage and limits. Either <see cref="ConnectionString"/> is set, or
/// <see cref="BlobServiceUri"/> and <see cref="QueueServiceUri"/> (signed in as <see cref="SignIn"/> says, or with
/// <see cref="Credential"/> when given). Names default to the storage contract (see <see cref="StorageAccessMap"/>).
/// </summary>
public sealed record PipelineOptions
{
    public const string DefaultScansContainer = "scans";
    public const string DefaultTensorsContainer = "tensors";
    public const string DefaultResultsContainer = "results";
    public const string DefaultModelsContainer = "models";
    public const string DefaultTrainingContainer = "training";
    public const string DefaultScoreRequestsQueue = "score-requests";
    public const string DefaultScoreRequestsPoisonQueue = "score-requests-poison";
    public const string DefaultBlobTriggerPoisonQueue = "webjobs-blobtrigger-poison";
    public const string DefaultExplainRequestsQueue = "explain-requests";

    /// <summary>Scans larger than this are rejected without being parsed (default 1 GiB).</summary>
    public const long DefaultMaxScanBytes = 1L << 30;

    /// <summary>A storage connection string (Azurite's, "UseDevelopmentStorage=true", or an account's).</summary>
    public string? ConnectionString { get; init; }

    /// <summary>The blob service endpoint (https://&lt;account&gt;.blob.core.windows.net) when no connection string is given.</summary>
    public Uri? BlobServiceUri { get; init; }

    /// <summary>The queue service endpoint; derived from <see cref="BlobServiceUri"/> (".blob." → ".queue.") when null.</summary>
    public Uri? QueueServiceUri { get; init; }

    /// <summary>A credential to use with the service URIs instead of the one <see cref="SignIn"/> describes.</summary>
    public TokenCredential? Credential { get; init; }

    /// <summary>How the service URIs are signed in to when <see cref="Credential"/> is null (default: DefaultAzureCredential).</summary>
    public StorageSignIn SignIn { get; init; } = StorageSignIn.Default;

    /// <summary>
    /// Whether logs may name scans by their blob name. Off by default: names may identify patients, so logs name a
    /// scan by its content hash (see <see cref="ScanLogName"/>). Setting <c>CtScan__LogScanNames</c>.
    /// </summary>
    public bool LogScanNames { get; init; }

    public string ScansContainer { get; init; } = DefaultScansContainer;
    public string TensorsContainer { get; init; } = DefaultTensorsContainer;
    public string ResultsContainer { get; init; } = DefaultResultsContainer;
    public string ModelsContainer { get; init; } = DefaultModelsContainer;
    public string TrainingContainer { get; init; } = DefaultTrainingContainer;
    public string ScoreRequestsQueue { get; init; } = DefaultScoreRequestsQueue;
    public string ScoreRequestsPoisonQueue { get; init; } = DefaultScoreRequestsPoisonQueue;
    public string BlobTriggerPoisonQueue { get; init; } = DefaultBlobTriggerPoisonQueue;
    public string ExplainRequestsQueue { get; init; } = DefaultExplainRequestsQueue;

    /// <summary>
    /// Whether every scored scan is queued on <see cref="ExplainRequestsQueue"/> for a saliency map
    /// (<c>CtScan__Explain</c>; off by default, on in <c>ctscan up</c>). The map is made by its own queue-triggered
    /// step, so scoring latency does not grow (docs/explanations.md).
    /// </summary>
    public bool Explain { get; init; }

    /// <summary>
    /// How the explain step makes its maps (<c>CtScan__ExplainMethod</c>): <see cref="ExplanationMethods.Occlusion"/>
    /// (the default: any ONNX model, ONNX Runtime only) or <see cref="ExplanationMethods.GuidedGradCam"/> /
    /// <see cref="ExplanationMethods.GradCam"/>, which need TorchSharp in the host (<c>ctscan up</c> has it, the
    /// Functions worker does not) and the model's checkpoint in the registry; a model published without one is
    /// explained by occlusion, with a note.
    /// </summary>
    public string ExplainMethod { get; init; } = ExplanationMethods.Occlusion;

    /// <summary>The explain step's occlusion settings (<c>CtScan__ExplainMaxPatches</c>: patches occluded per scan).</summary>
    public CtScan.Explanation.OcclusionOptions Occlusion { get; init; } = new();

    /// <summary>
    /// How the queue clients encode message bodies. Base64 by default: both the WebJobs SDK and the Functions
    /// isolated worker decode queue-trigger messages as base64 unless told otherwise.
    /// </summary>
    public Azure.Storage.Queues.QueueMessageEncoding MessageEncoding { get; init; } = Azure.Storage.Queues.QueueMessageEncoding.Base64;

    /// <summary>How often the current model pointer (models/current.json) is checked for a change (at most once per interval).</summary>
    public TimeSpan ModelRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often the local host looks for scans without a result (zero: never). Two ways a scan can be stranded: on
    /// Azurite the blob trigger lists the container every 2 s and triggers on blobs newer than the newest it saw, so a
    /// blob committed within the same second as that one can be skipped; and a host killed mid-work leaves its
    /// dequeued messages invisible for the WebJobs SDK's fixed 10 minutes. The sweep re-ingests such scans (duplicate
    /// work is harmless: tensors are written once, results are rewritten with the same score).
    /// </summary>
    public TimeSpan PendingSweepInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long after upload a scan no host has ingested yet (and without a result) is swept.</summary>
    public TimeSpan PendingSweepGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long after it was queued a scan some host ingested (this one, or another: the blob carries the content
    /// tag), still without a result, is swept. Keep it above the longest queue backlog, or busy hosts score scans twice.</summary>
    public TimeSpan PendingSweepIngestedGrace { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Where downloaded model versions are cached (one folder per version); default: a folder under the temp path.</summary>
    public string? ModelCacheDirectory { get; init; }

    /// <summary>Where scans are spooled while they are hashed and read; default: the temp path.</summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>The largest scan blob accepted, in bytes; larger ones are rejected (scan-too-large).</summary>
    public long MaxScanBytes { get; init; } = DefaultMaxScanBytes;

    /// <summary>Limits of the NIfTI reader (the largest declared voxel data block).</summary>
    public NiftiReadOptions NiftiReadOptions { get; init; } = NiftiReadOptions.Default;

    /// <summary>Memory and time one scan's preprocessing may take; beyond, the scan is rejected (too-large).</summary>
    public ScanWorkBudget WorkBudget { get; init; } = ScanWorkBudget.Default;

    /// <summary>
    /// The scorer's ONNX Runtime settings: lean (no memory pattern, no spinning) with one intra-op thread per core, and
    /// ONNX Runtime's CPU arena on (<c>CtScan__OnnxArena</c>). With <see cref="MaxConcurrentInferences"/> at one
    /// inference of one scan at a time, the arena keeps one inference's activations (~300 MB) for the next instead of
    /// the kernel zeroing them afresh each time (~0.16 core-s a scan). More inferences or larger batches at once would
    /// grow it to their combined peak for good. See docs/operations.md for the measured memory budget.
    /// </summary>
    public OnnxScorerOptions OnnxScorerOptions { get; init; } = OnnxScorerOptions.Lean(Environment.ProcessorCount) with { EnableCpuMemArena = true };

    /// <summary>
    /// Inferences one instance runs at once (<c>CtScan__MaxConcurrentInferences</c>; default 1). The queue trigger hands
    /// the app several messages at a time (host.json batchSize + newBatchThreshold); each inference of the seed-size
    /// model needs ~300 MB of activations and already uses every core, so more at once buys no throughput and costs
    /// memory. The others wait (their wait is the result's timingsMs.inferenceWait).
    /// </summary>
    public int MaxConcurrentInferences { get; init; } = 1;

    /// <summary>
    /// The most score requests one inference takes (<c>CtScan__MaxInferenceBatch</c>; default 1): requests that arrive
    /// while an inference runs are scored together in the next one (<see cref="InferenceBatcher"/>). Each scan of a batch
    /// adds its activations (~250 MB for the seed-size model), so the Azure template sets it from the instance memory.
    /// </summary>
    public int MaxInferenceBatch { get; init; } = 1;

    /// <summary>The storage clients' retry policy; null: the Azure SDK's defaults (right for the hosts).</summary>
    public StorageRetry? StorageRetry { get; init; }

    /// <summary>
    /// The hosts' queue/blob maxDequeueCount (host.json): how many attempts a message or blob gets before it lands in
    /// a poison queue. Used only to word the poison handlers' results ("failed after 5 attempts").
    /// </summary>
    public int MaxDequeueCount { get; init; } = 5;

    /// <summary>The hosts' blob-trigger attempts before the poison queue (host.json extensions.blobs.poisonBlobThreshold).</summary>
    public int BlobTriggerMaxAttempts { get; init; } = 5;

    /// <summary>
    /// How long after a scan's first attempt its work is retried before it is marked <c>failed</c>
    /// (<c>CtScan__RetryWindowMinutes</c>; default 15 minutes): long enough to ride out a storage or model-registry
    /// outage. Bad input is never retried; it is rejected at once.
    /// </summary>
    public TimeSpan RetryWindow { get; init; } = DefaultRetryWindow;

    /// <summary>
    /// The delay before the first retry (<c>CtScan__RetryBaseDelaySeconds</c>; default 10 s); each further retry waits
    /// twice as long as the one before, up to <see cref="RetryMaxDelay"/>.
    /// </summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest delay between two retries (<c>CtScan__RetryMaxDelaySeconds</c>; default 5 minutes).</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan DefaultRetryWindow = TimeSpan.FromMinutes(15);

    /// <summary>Options for a connection string.</summary>
    public static PipelineOptions ForConnectionString(string connectionString) => new() { ConnectionString = connectionString };

    /// <summary>Options for an account's blob endpoint and a token credential (a <see cref="DefaultAzureCredential"/> when null).</summary>
    public static PipelineOptions ForAccount(Uri blobServiceUri, TokenCredential? credential = null) =>
        new() { BlobServiceUri = blobServiceUri, Credential = credential };

    /// <summary>
    /// Options for an account's blob endpoint signed in as the process environment says (<see cref="StorageSignIn.FromEnvironment"/>):
    /// the retraining job's user-assigned identity by <c>AZURE_CLIENT_ID</c>, else DefaultAzureCredential.
    /// </summary>
    public static PipelineOptions ForAccountFromEnvironment(Uri blobServiceUri, Func<string, string?> environment) =>
        new() { BlobServiceUri = blobServiceUri, SignIn = StorageSignIn.FromEnvironment(environment) };

    /// <summary>
    /// Options from host settings (Functions' app settings, local.settings.json Values, environment): the connection
    /// from <paramref name="connectionName"/> (a connection string, or <c>&lt;name&gt;__blobServiceUri</c> /
    /// <c>&lt;name&gt;__queueServiceUri</c> / <c>&lt;name&gt;__accountName</c> for identity-based connections, signed in
    /// as <c>&lt;name&gt;__credential</c> and <c>&lt;name&gt;__clientId</c> say: the Functions convention), and optional
    /// <c>CtScan__ModelRefreshSeconds</c>, <c>CtScan__MaxScanBytes</c>, <c>CtScan__ModelCacheDirectory</c>,
    /// <c>CtScan__LogScanNames</c>, <c>CtScan__RetryWindowMinutes</c>, <c>CtScan__RetryBaseDelaySeconds</c>,
    /// <c>CtScan__RetryMaxDelaySeconds</c>.
    /// </summary>
    public static PipelineOptions FromSettings(Func<string, string?> setting, string connectionName = "AzureWebJobsStorage")
    {
        ArgumentNullException.ThrowIfNull(setting);
        string? Get(string key) => HostSettings.Read(setting, key);

        PipelineOptions options;
        if (Get(connectionName) is { } connectionString) options = ForConnectionString(connectionString);
        else if (Get($"{connectionName}__blobServiceUri") is { } blobUri)
            options = new PipelineOptions
            {
                BlobServiceUri = ParseUri($"{connectionName}__blobServiceUri", blobUri),
                QueueServiceUri = Get($"{connectionName}__queueServiceUri") is { } queueUri ? ParseUri($"{connectionName}__queueServiceUri", queueUri) : null,
                SignIn = StorageSignIn.FromConnectionSettings(Get, connectionName),
            };
        else if (Get($"{connectionName}__accountName") is { } account)
            options = ForAccount(new Uri($"https://{account}.blob.core.windows.net")) with { SignIn = StorageSignIn.FromConnectionSettings(Get, connectionName) };
        else
            throw new PipelineConfigurationException(
                $"no storage connection: set {connectionName} to a connection string, or {connectionName}__blobServiceUri (or {connectionName}__accountName) for an identity-based connection");

        if (Get("CtScan__ModelRefreshSeconds") is { } refresh)
            options = options with { ModelRefreshInterval = TimeSpan.FromSeconds(ParseDouble("CtScan__ModelRefreshSeconds", refresh)) };
        if (Get("CtScan__PendingSweepSeconds") is { } sweep)
            options = options with { PendingSweepInterval = TimeSpan.FromSeconds(ParseDouble("CtScan__PendingSweepSeconds", sweep)) };
        if (Get("CtScan__PendingGraceSeconds") is { } grace)
            options = options with { PendingSweepGrace = TimeSpan.FromSeconds(ParseDouble("CtScan__PendingGraceSeconds", grace)) };
        if (Get("CtScan__PendingIngestedGraceSeconds") is { } ingestedGrace)
            options = options with { PendingSweepIngestedGrace = TimeSpan.FromSeconds(ParseDouble("CtScan__PendingIngestedGraceSeconds", ingestedGrace)) };
        if (Get("CtScan__MaxConcurrentInferences") is { } inferences)
            options = options with { MaxConcurrentInferences = (int)ParseDouble("CtScan__MaxConcurrentInferences", inferences) };
        if (Get("CtScan__MaxInferenceBatch") is { } inferenceBatch)
            options = options with { MaxInferenceBatch = (int)ParseDouble("CtScan__MaxInferenceBatch", inferenceBatch) };
        if (Get("CtScan__OnnxSpinning") is { } spinning)
            options = options with
            {
                OnnxScorerOptions = options.OnnxScorerOptions with
                {
                    AllowSpinning = bool.TryParse(spinning, out var spin) ? spin
                        : throw new PipelineConfigurationException($"CtScan__OnnxSpinning: expected true or false; got '{spinning}'"),
                },
            };
        if (Get("CtScan__OnnxArena") is { } arena)
            options = options with
            {
                OnnxScorerOptions = options.OnnxScorerOptions with
                {
                    EnableCpuMemArena = bool.TryParse(arena, out var on) ? on
                        : throw new PipelineConfigurationException($"CtScan__OnnxArena: expected true or false; got '{arena}'"),
                },
            };
        if (Get("CtScan__IntraOpThreads") is { } threads)
            options = options with { OnnxScorerOptions = options.OnnxScorerOptions with { IntraOpThreads = (int)ParseDouble("CtScan__IntraOpThreads", threads) } };
        if (Get("CtScan__MaxScanBytes") is { } max)
            options = options with { MaxScanBytes = (long)ParseDouble("CtScan__MaxScanBytes", max) };
        if (Get("CtScan__RetryWindowMinutes") is { } window)
            options = options with { RetryWindow = TimeSpan.FromMinutes(ParseDouble("CtScan__RetryWindowMinutes", window)) };
        if (Get("CtScan__RetryBaseDelaySeconds") is { } baseDelay)
            options = options with { RetryBaseDelay = TimeSpan.FromSeconds(ParseDouble("CtScan__RetryBaseDelaySeconds", baseDelay)) };
        if (Get("CtScan__RetryMaxDelaySeconds") is { } maxDelay)
            options = options with { RetryMaxDelay = TimeSpan.FromSeconds(ParseDouble("CtScan__RetryMaxDelaySeconds", maxDelay)) };
        // The work budget (docs/input-gate.md, "Work budget").
        if (Get("CtScan__ScanMemoryBudgetBytes") is { } memory)
            options = options with { WorkBudget = options.WorkBudget with { MaxMemoryBytes = (long)ParseDouble("CtScan__ScanMemoryBudgetBytes", memory) } };
        if (Get("CtScan__ScanTimeBudgetSeconds") is { } seconds)
            options = options with { WorkBudget = options.WorkBudget with { MaxDuration = TimeSpan.FromSeconds(ParseDouble("CtScan__ScanTimeBudgetSeconds", seconds)) } };
        if (Get("CtScan__MaxTrailingDataBytes") is { } trailing)
            options = options with { NiftiReadOptions = options.NiftiReadOptions with { MaxTrailingDataBytes = (long)ParseDouble("CtScan__MaxTrailingDataBytes", trailing) } };
        if (Get("CtScan__MaxDataOffsetGapBytes") is { } gap)
            options = options with { NiftiReadOptions = options.NiftiReadOptions with { MaxDataOffsetGapBytes = (long)ParseDouble("CtScan__MaxDataOffsetGapBytes", gap) } };
        if (Get("CtScan__ModelCacheDirectory") is { } cache)
            options = options with { ModelCacheDirectory = cache };
        if (Get("CtScan__Explain") is { } explain)
            options = options with
            {
                Explain = bool.TryParse(explain, out var on) ? on
                    : throw new PipelineConfigurationException($"CtScan__Explain: expected true or false; got '{explain}'"),
            };
        if (Get("CtScan__ExplainMethod") is { } method)
            options = options with { ExplainMethod = method };
        if (Get("CtScan__ExplainMaxPatches") is { } patches)
            options = options with { Occlusion = options.Occlusion with { MaxPatches = (int)ParseDouble("CtScan__ExplainMaxPatches", patches) } };
        if (Get("CtScan__LogScanNames") is { } logNames)
            options = options with
            {
                LogScanNames = bool.TryParse(logNames, out var allowed) ? allowed
                    : throw new PipelineConfigurationException($"CtScan__LogScanNames: expected true or false; got '{logNames}'"),
            };
        return options.Validated();
    }

    private static Uri ParseUri(string key, string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
            ? uri
            : throw new PipelineConfigurationException($"{key}: expected an absolute http(s) URL; got '{text}'");

    private static double ParseDouble(string key, string text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new PipelineConfigurationException($"{key}: expected a non-negative number; got '{text}'");

    /// <summary>This, or a <see cref="PipelineConfigurationException"/> naming the bad setting and what is allowed.</summary>
    public PipelineOptions Validated()
    {
        if (ConnectionString is null && BlobServiceUri is null)
            throw new PipelineConfigurationException("set ConnectionString, or BlobServiceUri (with a credential) for the storage account");
        if (ConnectionString is not null && BlobServiceUri is not null)
            throw new PipelineConfigurationException("set either ConnectionString or BlobServiceUri, not both");
        if (ModelRefreshInterval < TimeSpan.Zero)
            throw new PipelineConfigurationException($"ModelRefreshInterval must not be negative; got {ModelRefreshInterval}");
        if (PendingSweepInterval < TimeSpan.Zero || PendingSweepGrace < TimeSpan.Zero || PendingSweepIngestedGrace < TimeSpan.Zero)
            throw new PipelineConfigurationException($"PendingSweepInterval, PendingSweepGrace and PendingSweepIngestedGrace must not be negative; got {PendingSweepInterval}, {PendingSweepGrace} and {PendingSweepIngestedGrace}");
        if (MaxScanBytes <= 0)
            throw new PipelineConfigurationException($"MaxScanBytes must be positive; got {MaxScanBytes}");
        if (MaxConcurrentInferences is < 1 or > 64)
            throw new PipelineConfigurationException($"MaxConcurrentInferences must lie in [1, 64]; got {MaxConcurrentInferences}");
        if (MaxInferenceBatch is < 1 or > 64)
            throw new PipelineConfigurationException($"MaxInferenceBatch must lie in [1, 64]; got {MaxInferenceBatch}");
        if (MaxDequeueCount <= 0)
            throw new PipelineConfigurationException($"MaxDequeueCount must be positive; got {MaxDequeueCount}");
        if (RetryWindow <= TimeSpan.Zero || RetryBaseDelay <= TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
            throw new PipelineConfigurationException(
                $"RetryWindow and RetryBaseDelay must be positive and RetryMaxDelay at least RetryBaseDelay; got {RetryWindow}, {RetryBaseDelay} and {RetryMaxDelay}");
        // Azure Storage refuses a message visibility delay beyond 7 days.
        if (RetryMaxDelay > TimeSpan.FromDays(7))
            throw new PipelineConfigurationException($"RetryMaxDelay must be at most 7 days (the queue's visibility limit); got {RetryMaxDelay}");
        if (BlobTriggerMaxAttempts <= 0)
            throw new PipelineConfigurationException($"BlobTriggerMaxAttempts must be positive; got {BlobTriggerMaxAttempts}");
        foreach (var (name, value) in new[]
                 {
                     (nameof(ScansContainer), ScansContainer), (nameof(TensorsContainer), TensorsContainer),
                     (nameof(ResultsContainer), ResultsContainer), (nameof(ModelsContainer), ModelsContainer),
                     (nameof(TrainingContainer), TrainingContainer), (nameof(ScoreRequestsQueue), ScoreRequestsQueue),
                     (nameof(ScoreRequestsPoisonQueue), ScoreRequestsPoisonQueue), (nameof(BlobTriggerPoisonQueue), BlobTriggerPoisonQueue),
                     (nameof(ExplainRequestsQueue), ExplainRequestsQueue),
                 })
        {
            if (value is not { Length: >= 3 and <= 63 } || !value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
                || value[0] == '-' || value.Contains("--"))
                throw new PipelineConfigurationException(
                    $"{name}: '{value}' is not a valid container/queue name (3–63 lowercase letters, digits and single hyphens)");
        }
        _ = NiftiReadOptions ?? throw new PipelineConfigurationException("NiftiReadOptions must not be null");
        try
        {
            (WorkBudget ?? throw new PipelineConfigurationException("WorkBudget must not be null")).Validated();
        }
        catch (ArgumentOutOfRangeException error)
        {
            throw new PipelineConfigurationException($"WorkBudget: {error.Message}");
        }
        (OnnxScorerOptions ?? throw new PipelineConfigurationException("OnnxScorerOptions must not be null")).Validated();
        if (ExplainMethod is not (ExplanationMethods.Occlusion or ExplanationMethods.GradCam or ExplanationMethods.GuidedGradCam))
            throw new PipelineConfigurationException(
                $"CtScan__ExplainMethod: expected {ExplanationMethods.Occlusion}, {ExplanationMethods.GuidedGradCam} or {ExplanationMethods.GradCam}; got '{ExplainMethod}'");
        try { (Occlusion ?? throw new PipelineConfigurationException("Occlusion must not be null")).Validated(); }
        catch (ArgumentOutOfRangeException error) { throw new PipelineConfigurationException($"explanation settings: {error.Message}"); }
        return this;
    }

    /// <summary>The model cache folder in use: <see cref="ModelCacheDirectory"/>, else one under the temp path (shared by the instances on a machine).</summary>
    public string EffectiveModelCacheDirectory => ModelCacheDirectory ?? Path.Combine(Path.GetTempPath(), "ctscan-model-cache");

    /// <summary>The spool folder in use: <see cref="SpoolDirectory"/>, else the temp path (spool files have unique names).</summary>
    public string EffectiveSpoolDirectory => SpoolDirectory ?? Path.GetTempPath();

    /// <summary>How spool files are named in <see cref="EffectiveSpoolDirectory"/> (a search pattern: tools count leftovers).</summary>
    public const string SpoolFilePattern = "ctscan-spool-*.tmp";
}

/// <summary>The pipeline's settings are missing or invalid (a deployment problem, not a scan's).</summary>
public sealed class PipelineConfigurationException : Exception
{
    public PipelineConfigurationException(string message) : base(message) { }
}
