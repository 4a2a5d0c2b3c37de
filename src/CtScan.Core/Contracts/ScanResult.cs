using System.Text.Json.Serialization;

namespace CtScan.Contracts;

/// <summary>
/// <c>results/&lt;scan blob name&gt;.json</c>: what happened to one scan. Scored results carry the probability, label,
/// threshold and model; rejected (bad input) and failed (our fault) results carry an <see cref="Error"/>.
/// schemas/scan-result.schema.json states the same rules.
/// </summary>
public sealed record ScanResult
{
    public const string CurrentSchemaVersion = "1.0";

    public string SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>The scan's name (blob name in <c>scans</c>, or the file given to the CLI).</summary>
    public required string Scan { get; init; }

    public required ScanStatus Status { get; init; }

    public double? ProbabilityAbnormal { get; init; }

    /// <summary><see cref="ScanLabels.Normal"/> or <see cref="ScanLabels.Abnormal"/>.</summary>
    public string? Label { get; init; }

    public double? Threshold { get; init; }

    public ModelReference? Model { get; init; }

    public InputDescription? Input { get; init; }

    /// <summary>Milliseconds per step (read, preprocess, inference, total, …).</summary>
    public IReadOnlyDictionary<string, double> TimingsMs { get; init; } = new Dictionary<string, double>();

    public ScanError? Error { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<ScanStatus>))]
public enum ScanStatus
{
    /// <summary>The model scored the scan.</summary>
    [JsonStringEnumMemberName("scored")] Scored,

    /// <summary>The input cannot be scored (unreadable, wrong shape, …); retrying will not help.</summary>
    [JsonStringEnumMemberName("rejected")] Rejected,

    /// <summary>Scoring failed for a reason of ours (model, storage); a retry may succeed.</summary>
    [JsonStringEnumMemberName("failed")] Failed,
}

public sealed record ModelReference(string Version, string Sha256);

/// <summary>The scored input: the SHA-256 of the scan file, its shape, voxel spacing (mm, when known) and data type.</summary>
public sealed record InputDescription(string Sha256, IReadOnlyList<int> Shape, string Datatype, IReadOnlyList<double>? SpacingMm = null);

public sealed record ScanError(string Code, string Message);

/// <summary>Error codes of <see cref="ScanError"/>.</summary>
public static class ScanErrorCodes
{
    /// <summary>The file is not a readable NIfTI or .npy tensor.</summary>
    public const string UnreadableInput = "unreadable-input";
    /// <summary>The file's extension is neither .nii, .nii.gz nor .npy.</summary>
    public const string UnsupportedFormat = "unsupported-format";
    /// <summary>The tensor's shape is not the one the model takes.</summary>
    public const string ShapeMismatch = "shape-mismatch";
    /// <summary>The tensor holds NaN or infinite values.</summary>
    public const string NonFiniteValues = "non-finite-values";
    /// <summary>The model failed to run.</summary>
    public const string InferenceFailed = "inference-failed";
}

/// <summary>The two labels and the rule that picks one.</summary>
public static class ScanLabels
{
    public const string Normal = "normal";
    public const string Abnormal = "abnormal";

    public static string For(double probabilityAbnormal, double threshold) => probabilityAbnormal >= threshold ? Abnormal : Normal;
}

/// <summary>Queue <c>score-requests</c>: one preprocessed scan waiting to be scored.</summary>
/// <param name="Scan">Blob name in <c>scans</c>.</param>
/// <param name="Tensor">Blob name in <c>tensors</c> (CtScan.Tensors.TensorNames: hash, preprocessing version and key).</param>
/// <param name="Sha256">SHA-256 of the scan blob's content that was preprocessed.</param>
/// <param name="EnqueuedAt">When the request was queued (UTC).</param>
/// <param name="ScanETag">The scan blob's ETag when its content was read (without quotes); null when the ingest step
/// was handed bytes without a blob version. The score step drops the request when the blob holds other content now.</param>
public sealed record ScoreRequest(string Scan, string Tensor, string Sha256, DateTimeOffset EnqueuedAt, string? ScanETag = null);
