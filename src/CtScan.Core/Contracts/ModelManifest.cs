using System.Globalization;
using System.Text.Json.Serialization;

namespace CtScan.Contracts;

/// <summary>
/// <c>manifest.json</c>, written beside every <c>model.onnx</c>: which file, how to feed it, how to read its output,
/// which preprocessing produced its training data, and where it came from. The scorer trusts nothing else.
/// </summary>
public sealed record ModelManifest
{
    public const int CurrentSchemaVersion = 1;
    public const string DefaultModelFile = "model.onnx";
    public const double DefaultThreshold = 0.5;
    public const string DefaultDescription =
        "Research prototype classifying chest CT scans as normal or showing viral pneumonia findings. Not for clinical use: not a medical device, not validated for diagnosis.";

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>The model's version, e.g. 20261129-0130-3fa2c1 (also its folder name in the registry).</summary>
    public required string Version { get; init; }

    /// <summary>The model file, relative to the manifest's folder.</summary>
    public string ModelFile { get; init; } = DefaultModelFile;

    /// <summary>SHA-256 of the model file, 64 lowercase hex digits; checked before the model is loaded.</summary>
    public required string Sha256 { get; init; }

    public required ModelInputSpec Input { get; init; }

    public required ModelOutputSpec Output { get; init; }

    /// <summary>Probabilities at or above it are labelled abnormal.</summary>
    public double Threshold { get; init; } = DefaultThreshold;

    public required PreprocessingSpec Preprocessing { get; init; }

    /// <summary>Thresholds of the input gate (docs/input-gate.md); null: <see cref="InputGateSpec.CtDefaults"/>.</summary>
    public InputGateSpec? InputGate { get; init; }

    /// <summary>Validation metrics of the training run (e.g. valAccuracy, valLoss, epoch), when known.</summary>
    public IReadOnlyDictionary<string, double>? TrainingMetrics { get; init; }

    /// <summary>A fingerprint of the training data (e.g. SHA-256 over the sorted scan hashes), when known.</summary>
    public string? DataFingerprint { get; init; }

    /// <summary>Numeric precision of the graph: null or <see cref="Float32Precision"/> as exported, <see cref="Int8Precision"/> when quantized (see <see cref="Quantization"/>).</summary>
    public string? Precision { get; init; }

    /// <summary>How an int8 model was made from its float32 source; set exactly when <see cref="Precision"/> is int8.</summary>
    public QuantizationSpec? Quantization { get; init; }

    public const string Float32Precision = "float32";
    public const string Int8Precision = "int8";

    /// <summary>When the model was exported or imported (UTC).</summary>
    public required DateTimeOffset Created { get; init; }

    public bool NotForClinicalUse { get; init; } = true;

    public string Description { get; init; } = DefaultDescription;

    /// <summary>Every problem, each naming its JSON field, the bad value and what is allowed; empty when usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Check(bool ok, string field, string message) { if (!ok) problems.Add($"{field}: {message}"); }

        Check(SchemaVersion == CurrentSchemaVersion, "schemaVersion", $"got {SchemaVersion}; this reader knows {CurrentSchemaVersion}");
        Check(!string.IsNullOrWhiteSpace(Version) && Version.IndexOfAny(['/', '\\']) < 0 && Version is not ("." or ".."),
            "version", $"must be a non-empty folder name without slashes; got '{Version}'");
        Check(!string.IsNullOrWhiteSpace(ModelFile) && !Path.IsPathRooted(ModelFile) && !ModelFile.Contains(".."),
            "modelFile", $"must be a relative file name inside the model folder; got '{ModelFile}'");
        Check(Sha256Hex.IsValid(Sha256), "sha256", $"must be 64 lowercase hex digits; got '{Sha256}'");
        if (Input is null) problems.Add("input: missing");
        else
        {
            Check(!string.IsNullOrWhiteSpace(Input.Name), "input.name", $"must not be empty; got '{Input.Name}'");
            Check(Enum.IsDefined(Input.Layout), "input.layout", $"got {Input.Layout}; expected one of {{NCDHW, NDHWC}}");
            Check(IsTensorShape(Input.Shape), "input.shape",
                $"must be three positive extents [W, H, D] of at most {Array.MaxLength} values in all (one tensor); got {Format(Input.Shape)}");
        }
        if (Output is null) problems.Add("output: missing");
        else
        {
            Check(!string.IsNullOrWhiteSpace(Output.Name), "output.name", $"must not be empty; got '{Output.Name}'");
            Check(Enum.IsDefined(Output.Kind), "output.kind", $"got {Output.Kind}; expected one of {{sigmoid, logit}}");
        }
        Check(Threshold is >= 0 and <= 1, "threshold", $"must be in [0, 1]; got {Threshold.ToString(CultureInfo.InvariantCulture)}");
        if (Preprocessing is null) problems.Add("preprocessing: missing");
        else
        {
            Check(double.IsFinite(Preprocessing.WindowMinimumHu) && double.IsFinite(Preprocessing.WindowMaximumHu)
                  && Preprocessing.WindowMinimumHu < Preprocessing.WindowMaximumHu,
                "preprocessing.windowMinimumHu", $"the HU window must be finite with minimum < maximum; got [{Preprocessing.WindowMinimumHu.ToString(CultureInfo.InvariantCulture)}, {Preprocessing.WindowMaximumHu.ToString(CultureInfo.InvariantCulture)}]");
            Check(IsTensorShape(Preprocessing.TargetShape), "preprocessing.targetShape",
                $"must be three positive extents [W, H, D] of at most {Array.MaxLength} values in all (one tensor); got {Format(Preprocessing.TargetShape)}");
            Check(Preprocessing.Orientation is null || CtScan.Preprocessing.AxisOrientation.TryParse(Preprocessing.Orientation, out _),
                "preprocessing.orientation", $"must be three axis codes, one each of R/L, A/P and S/I (e.g. RAS, LPS); got '{Preprocessing.Orientation}'");
            Check(Preprocessing.TargetSpacingMm is null || (Preprocessing.TargetSpacingMm.Count == 3 && Preprocessing.TargetSpacingMm.All(v => double.IsFinite(v) && v > 0)),
                "preprocessing.targetSpacingMm", $"must be three positive voxel sizes in mm [x, y, z]; got {FormatDoubles(Preprocessing.TargetSpacingMm)}");
            if (Input?.Shape is { Count: 3 } && Preprocessing.TargetShape is { Count: 3 })
                Check(Input.Shape.SequenceEqual(Preprocessing.TargetShape), "preprocessing.targetShape",
                    $"must equal input.shape {Format(Input.Shape)} (preprocessing makes the model's input); got {Format(Preprocessing.TargetShape)}");
        }
        if (InputGate is not null)
            foreach (var problem in InputGate.Validate()) problems.Add($"inputGate.{problem}");
        Check(TrainingMetrics is null || TrainingMetrics.Values.All(double.IsFinite), "trainingMetrics", "every metric must be a finite number");
        Check(Precision is null or Float32Precision or Int8Precision, "precision", $"got '{Precision}'; expected one of {{{Float32Precision}, {Int8Precision}}} or none");
        Check((Precision == Int8Precision) == (Quantization is not null), "quantization",
            $"must be present exactly when precision is {Int8Precision}; precision is '{Precision ?? "none"}'");
        if (Quantization is not null) foreach (var problem in Quantization.Validate()) problems.Add($"quantization.{problem}");
        Check(Created != default, "created", "must be set (UTC ISO-8601)");
        Check(!string.IsNullOrWhiteSpace(Description), "description", "must say what the model is and that it is not for clinical use");
        return problems;
    }

    /// <summary>This manifest, or an <see cref="InvalidDataException"/> listing every problem.</summary>
    public ModelManifest Validated()
    {
        var problems = Validate();
        return problems.Count == 0 ? this : throw new InvalidDataException($"invalid model manifest: {string.Join("; ", problems)}");
    }

    /// <summary>The volume shape the model takes (W, H, D); derived from <see cref="Input"/>, not written.</summary>
    [JsonIgnore]
    public VolumeShape InputVolume => new(Input.Shape[0], Input.Shape[1], Input.Shape[2]);

    // Found by fuzzing (fuzz/regressions/manifest): without the size bound a shape such as [2^31-1, 2^31-1, 2^31-1]
    // passed, and its VoxelCount wrapped around long.
    private static bool IsTensorShape(IReadOnlyList<int>? shape) =>
        shape is { Count: 3 } s && s.All(n => n > 0) && (Int128)s[0] * s[1] * s[2] <= Array.MaxLength;

    private static string Format(IReadOnlyList<int>? values) => values is null ? "null" : $"[{string.Join(", ", values)}]";

    private static string FormatDoubles(IReadOnlyList<double>? values) =>
        values is null ? "null" : $"[{string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]";
}

/// <summary>
/// How a quantized model was made: the float32 model it came from, the calibration data's fingerprint (SHA-256 over the
/// sorted SHA-256s of the calibration tensors) and how many there were, how activation ranges were taken, and which
/// layers run in int8 (the others stay float32).
/// </summary>
public sealed record QuantizationSpec(string Method, string SourceVersion, string SourceSha256, string CalibrationFingerprint,
    int CalibrationTensors, string ActivationRanges, IReadOnlyList<string>? Int8Layers = null)
{
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Method)) problems.Add("method: must not be empty");
        if (string.IsNullOrWhiteSpace(SourceVersion)) problems.Add("sourceVersion: must not be empty");
        if (!Sha256Hex.IsValid(SourceSha256)) problems.Add($"sourceSha256: must be 64 lowercase hex digits; got '{SourceSha256}'");
        if (!Sha256Hex.IsValid(CalibrationFingerprint)) problems.Add($"calibrationFingerprint: must be 64 lowercase hex digits; got '{CalibrationFingerprint}'");
        if (CalibrationTensors < 1) problems.Add($"calibrationTensors: must be at least 1; got {CalibrationTensors}");
        if (string.IsNullOrWhiteSpace(ActivationRanges)) problems.Add("activationRanges: must not be empty");
        return problems;
    }
}

/// <summary>The graph input: its name, axis order and the volume [W, H, D] it takes (one channel, any batch size).</summary>
public sealed record ModelInputSpec(string Name, TensorLayout Layout, IReadOnlyList<int> Shape);

/// <summary>The graph output [N, 1]: its name and whether it is a probability or a logit.</summary>
public sealed record ModelOutputSpec(string Name, OutputKind Kind);

/// <summary>The preprocessing the model was trained with (see CtScan.Preprocessing.PreprocessingOptions).</summary>
/// <param name="Orientation">Axis codes of the training scans (e.g. LPS): other orthogonal orientations are permuted and
/// flipped to it before the seed's steps. Null: no reorientation (the seed's behaviour: the array is used as stored).</param>
/// <param name="TargetSpacingMm">Opt-in: resample to this voxel spacing [x, y, z] in mm (trilinear, like MONAI's
/// Spacingd) before the seed's zoom. Null: no spacing resampling (the seed's behaviour).</param>
public sealed record PreprocessingSpec(double WindowMinimumHu, double WindowMaximumHu, IReadOnlyList<int> TargetShape,
    string? Orientation = null, IReadOnlyList<double>? TargetSpacingMm = null);
