using System.Text.Json.Serialization;

namespace CtScan.Contracts;

/// <summary>
/// <c>results/&lt;scan blob name&gt;.json</c>: what happened to one scan. Scored results carry the probability, label,
/// threshold and model; rejected (bad input) and failed (our fault) results carry an <see cref="Error"/>.
/// schemas/scan-result.schema.json states the same rules.
/// </summary>
public sealed record ScanResult
{
    public const string CurrentSchemaVersion = "1.1";

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

    /// <summary>Soft findings of the input gate (an oblique affine, few slices, unusual spacing…): the scan was still
    /// scored (or rejected for another reason), but a reader should know. Null (omitted) when there are none.</summary>
    public IReadOnlyList<ScanWarning>? Warnings { get; init; }

    /// <summary>Where the model looked: a saliency map and its montage, added after scoring by the explain step (or
    /// <c>ctscan explain</c>). Null (omitted) until an explanation was made.</summary>
    public ScanExplanation? Explanation { get; init; }

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

/// <summary>
/// The model that answered. <see cref="Fallback"/> (schema 1.1) is true when the current version could not serve (it
/// does not download, verify, load or pass the probe) and an earlier one answered instead: <see cref="FallbackFrom"/>
/// names the current version and <see cref="FallbackReason"/> says why. All three are omitted for the current version,
/// so a reader of schema 1.0 sees the same document as before.
/// </summary>
public sealed record ModelReference(string Version, string Sha256)
{
    /// <summary>True when an earlier version answered because the current one cannot serve; null (omitted) otherwise.</summary>
    public bool? Fallback { get; init; }

    /// <summary>The current version that could not serve (when <see cref="Fallback"/>).</summary>
    public string? FallbackFrom { get; init; }

    /// <summary>Why it could not serve, and which version answered instead (when <see cref="Fallback"/>).</summary>
    public string? FallbackReason { get; init; }
}

/// <summary>The scored input: the SHA-256 of the scan file, its shape, voxel spacing (mm, when known), data type and
/// the axis codes of its affine (nibabel's aff2axcodes, e.g. <c>RAS</c>, <c>LPS</c>; null when the header has no
/// orientation or the input is a tensor).</summary>
public sealed record InputDescription(string Sha256, IReadOnlyList<int> Shape, string Datatype, IReadOnlyList<double>? SpacingMm = null,
    string? Orientation = null);

public sealed record ScanError(string Code, string Message);

/// <summary>A scored scan's explanation (docs/explanations.md).</summary>
/// <param name="Method"><see cref="ExplanationMethods.Occlusion"/>, <see cref="ExplanationMethods.GradCam"/> or <see cref="ExplanationMethods.GuidedGradCam"/>: the
/// method that made the map (a Grad-CAM request falls back to occlusion when the model has no TorchSharp weights).</param>
/// <param name="Map">Blob name in <c>results</c> (for <c>ctscan explain</c>: file name in the output folder) of the
/// saliency volume, <c>&lt;scan&gt;.saliency.nii.gz</c>: float32 on the scan's original voxel grid and affine, values in [0, 1].</param>
/// <param name="Montage">Blob or file name of the PNG montage of the scan with the map overlaid, <c>&lt;scan&gt;.saliency.png</c>.</param>
public sealed record ScanExplanation(string Method, string Map, string Montage);

/// <summary>Values of <see cref="ScanExplanation.Method"/>.</summary>
public static class ExplanationMethods
{
    /// <summary>Occlusion sensitivity through ONNX Runtime: works for any model.</summary>
    public const string Occlusion = "occlusion";
    /// <summary>Grad-CAM through TorchSharp on the last convolution block: models trained here, with weights.</summary>
    public const string GradCam = "gradcam";
    /// <summary>Guided Grad-CAM: Grad-CAM times guided backpropagation times the input, at voxel resolution; models trained here, with weights.</summary>
    public const string GuidedGradCam = "guided-gradcam";

    /// <summary>The suffix of the saliency volume beside the scan's result: <c>&lt;scan&gt;.saliency.nii.gz</c>.</summary>
    public const string MapSuffix = ".saliency.nii.gz";
    /// <summary>The suffix of the montage beside the scan's result: <c>&lt;scan&gt;.saliency.png</c>.</summary>
    public const string MontageSuffix = ".saliency.png";
}

/// <summary>A soft finding: the code (see docs/input-gate.md) and a message naming the measured value and the threshold.</summary>
public sealed record ScanWarning(string Code, string Message);

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
    /// <summary>The model ran but its output is NaN, infinite or outside [0, 1] (status failed: the model's fault).</summary>
    public const string InvalidModelOutput = "invalid-model-output";
    /// <summary>The volume has too few voxels along an axis (fewer slices or a smaller plane than the gate allows).</summary>
    public const string VolumeTooSmall = "volume-too-small";
    /// <summary>The in-plane field of view (extent × spacing) is smaller than a chest.</summary>
    public const string FieldOfViewTooSmall = "field-of-view-too-small";
    /// <summary>A voxel spacing is zero, not finite, or outside the plausible range.</summary>
    public const string ImplausibleSpacing = "implausible-spacing";
    /// <summary>The affine gives no orientation (singular, or no qform/sform when the model needs one).</summary>
    public const string OrientationUndetermined = "orientation-undetermined";
    /// <summary>Values outside the Hounsfield range, or a CT stored without its rescale intercept.</summary>
    public const string ImplausibleIntensities = "implausible-intensities";
    /// <summary>The volume does not look like CT at all: no air (MR-like), pure noise, or uniform.</summary>
    public const string NotACtVolume = "not-a-ct-volume";

    /// <summary>The scan exceeds the work budget: preprocessing memory estimated from the header, the decode time,
    /// or data after the voxels / before vox_offset beyond the reader's bounds (docs/input-gate.md, "Work budget").</summary>
    public const string TooLarge = "too-large";
}

/// <summary>Codes of <see cref="ScanWarning"/>.</summary>
public static class ScanWarningCodes
{
    /// <summary>The affine is not axis-aligned; the scan was handled like its closest orthogonal orientation.</summary>
    public const string ObliqueAffine = "oblique-affine";
    /// <summary>Fewer slices than the model's training scans typically had.</summary>
    public const string FewSlices = "few-slices";
    /// <summary>A voxel spacing outside the typical range of chest CT (but not absurd).</summary>
    public const string UnusualSpacing = "unusual-spacing";
    /// <summary>The header has neither qform nor sform; the array was used as stored.</summary>
    public const string OrientationUnknown = "orientation-unknown";
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
/// <param name="Attempt">Which attempt this message is (absent: the first). A request that failed for a transient reason
/// is queued again with the next number and a visibility delay that grows with it; <see cref="EnqueuedAt"/> stays the
/// first attempt's, so the retry window is measured from there.</param>
public sealed record ScoreRequest(string Scan, string Tensor, string Sha256, DateTimeOffset EnqueuedAt, string? ScanETag = null, int? Attempt = null);

/// <summary>Queue <c>explain-requests</c>: a scored scan whose explanation (saliency map and montage) is to be made.</summary>
/// <param name="Scan">Blob name in <c>scans</c>.</param>
/// <param name="Sha256">SHA-256 of the scan content that was scored; the explain step drops the request when the blob
/// or its result now describe other content.</param>
/// <param name="Model">The model version that scored it; the map explains that model's answer.</param>
/// <param name="EnqueuedAt">When the request was queued (UTC).</param>
/// <param name="Method"><see cref="ExplanationMethods.Occlusion"/> or <see cref="ExplanationMethods.GradCam"/>; null:
/// the host's setting.</param>
public sealed record ExplainRequest(string Scan, string Sha256, ModelReference Model, DateTimeOffset EnqueuedAt, string? Method = null);
