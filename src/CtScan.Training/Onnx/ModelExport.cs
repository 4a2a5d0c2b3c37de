using CtScan.Contracts;
using CtScan.Scoring;

namespace CtScan.Training.Onnx;

/// <summary>Settings of <see cref="ModelExport"/>: the manifest fields the network cannot tell.</summary>
public sealed record ModelExportOptions
{
    /// <summary>The version; null gives <see cref="ModelVersions.Default"/>.</summary>
    public string? Version { get; init; }
    public double Threshold { get; init; } = ModelManifest.DefaultThreshold;
    public IReadOnlyDictionary<string, double>? TrainingMetrics { get; init; }
    public string? DataFingerprint { get; init; }
    /// <summary>The preprocessing the network was trained with (the seed's by default; its target must be the network's input).</summary>
    public double WindowMinimumHu { get; init; } = Preprocessing.HuWindow.SeedMinimumHu;
    public double WindowMaximumHu { get; init; } = Preprocessing.HuWindow.SeedMaximumHu;
    /// <summary>The training scans' orientation (axis codes); null: no reorientation when serving (the seed's behaviour).
    /// <see cref="ModelExport.FromCheckpoint"/> takes it from the run's split.json when not set.</summary>
    public string? Orientation { get; init; }
    /// <summary>The opt-in target voxel spacing [x, y, z] in mm the training scans were resampled to; null: none.</summary>
    public IReadOnlyList<double>? TargetSpacingMm { get; init; }
    public OnnxExportOptions Onnx { get; init; } = new();
}

/// <summary>
/// Writes a trained <see cref="CtScanNet"/> as a model folder: model.onnx + manifest.json, and its TorchSharp
/// checkpoint in checkpoint/ (published with the model, it lets the pipeline's explain step run Grad-CAM).
/// </summary>
public static class ModelExport
{
    /// <summary>
    /// Loads the checkpoint in <paramref name="checkpointDirectory"/> and exports it; unless <paramref name="options"/>
    /// sets them, trainingMetrics and dataFingerprint come from the run's metrics.json and split.json beside the checkpoint.
    /// </summary>
    public static ModelManifest FromCheckpoint(string checkpointDirectory, string directory, ModelExportOptions? options = null, TimeProvider? clock = null)
    {
        options ??= new ModelExportOptions();
        var (metrics, fingerprint) = TrainingRunMetadata.ForCheckpoint(checkpointDirectory);
        options = options with
        {
            TrainingMetrics = options.TrainingMetrics ?? metrics,
            DataFingerprint = options.DataFingerprint ?? fingerprint,
            Orientation = options.Orientation ?? TrainingRunMetadata.OrientationForCheckpoint(checkpointDirectory),
        };
        using var model = ModelCheckpoint.Load(checkpointDirectory);
        return ToFolder(model, directory, options, clock);
    }

    public static ModelManifest ToFolder(CtScanNet model, string directory, ModelExportOptions? options = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ModelExportOptions();
        byte[] onnx = CtScanOnnxExporter.Export(model, options.Onnx);
        var created = (clock ?? TimeProvider.System).GetUtcNow();
        string sha256 = Sha256Hex.Of(onnx);
        var input = model.Options.Input;
        int[] shape = [input.Width, input.Height, input.Depth];
        var manifest = new ModelManifest
        {
            Version = options.Version ?? ModelVersions.Default(created, sha256),
            Sha256 = sha256,
            Input = new ModelInputSpec(options.Onnx.InputName, options.Onnx.Layout, shape),
            Output = new ModelOutputSpec(options.Onnx.OutputName, options.Onnx.Output),
            Threshold = options.Threshold,
            Preprocessing = new PreprocessingSpec(options.WindowMinimumHu, options.WindowMaximumHu, shape, options.Orientation, options.TargetSpacingMm),
            TrainingMetrics = options.TrainingMetrics,
            DataFingerprint = options.DataFingerprint,
            Created = created,
        };
        var problems = manifest.Validate();
        if (problems.Count > 0) throw new ArgumentException($"cannot export: {string.Join("; ", problems)}");
        var written = ModelFolder.Write(directory, onnx, manifest);
        ModelCheckpoint.Save(model, Path.Combine(directory, ModelFolder.CheckpointFolderName));
        return written;
    }
}
