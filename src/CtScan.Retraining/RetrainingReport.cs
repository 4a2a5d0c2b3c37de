using System.Text.Json;
using System.Text.Json.Serialization;

namespace CtScan.Retraining;

/// <summary>
/// What a retraining run did, as written to <c>models/runs/&lt;run id&gt;/report.json</c> (camelCase; a metric that is
/// undefined on the validation set, e.g. sensitivity without abnormal scans, is null).
/// </summary>
public sealed record RetrainingReport
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required string RunId { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }

    /// <summary>One of <see cref="RetrainingDecision"/>'s values.</summary>
    public required string Decision { get; init; }

    public required string Reason { get; init; }
    public required GateReport Gate { get; init; }
    public required string? CurrentBefore { get; init; }
    public required string CurrentAfter { get; init; }
    public required ModelReport Candidate { get; init; }

    /// <summary>The model that was current before the run; null when none was.</summary>
    public required ModelReport? Current { get; init; }

    public required DataReport Data { get; init; }
    public required TensorReport Tensors { get; init; }
    public required TrainingSettingsReport Training { get; init; }

    /// <summary>Seconds per step (download, tensorSeeding, training, export, evaluation, publish) and total.</summary>
    public required IReadOnlyDictionary<string, double> TimingsSeconds { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static RetrainingReport FromJson(string json) =>
        JsonSerializer.Deserialize<RetrainingReport>(json, Json) ?? throw new InvalidDataException("report.json is null");
}

public sealed record GateReport(string Rule, string Metric, bool Force, bool Promote);

/// <summary>A model of the run: its evaluation, or (current model only) why it could not be scored.</summary>
public sealed record ModelReport
{
    public required string Version { get; init; }
    public string? Sha256 { get; init; }
    public IReadOnlyList<int>? InputShape { get; init; }
    public MetricsReport? Metrics { get; init; }

    /// <summary>Candidate only: whether the upload happened (false: the version already existed with this content).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Uploaded { get; init; }

    /// <summary>Current model only: why it has no metrics.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    public static ModelReport Of(ModelEvaluation e, bool? uploaded = null) => new()
    {
        Version = e.Version,
        Sha256 = e.Sha256,
        InputShape = e.InputShape,
        Metrics = new MetricsReport(Finite(e.Auc), Finite(e.Accuracy), Finite(e.Loss), Finite(e.Sensitivity), Finite(e.Specificity), e.Threshold, e.Count),
        Uploaded = uploaded,
    };

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

/// <summary>ONNX Runtime metrics on the run's validation split (<see cref="N"/> scans) at <see cref="Threshold"/>.</summary>
public sealed record MetricsReport(double? Auc, double? Accuracy, double? Loss, double? Sensitivity, double? Specificity, double Threshold, int N);

/// <param name="Layout">"folders" or "labels.csv".</param>
/// <param name="Fingerprint">The candidate manifest's data fingerprint.</param>
public sealed record DataReport(string Container, string Layout, int Scans, int Normal, int Abnormal, int TrainingScans, int ValidationScans,
    string? Fingerprint, int Downloaded, int AlreadyPresent);

public sealed record TensorReport(string Preprocessing, int SeededFromStorage, int AlreadyCached, int NotInStorage, int Preprocessed, int CacheHits,
    int? CurrentModelSeededFromStorage, int? CurrentModelPreprocessed);

public sealed record TrainingSettingsReport(string Device, int EpochsRun, int? BestEpoch, string StopReason, long Steps, double WidthMultiplier,
    IReadOnlyList<int> Input, double LearningRate, int BatchSize, long Seed);
