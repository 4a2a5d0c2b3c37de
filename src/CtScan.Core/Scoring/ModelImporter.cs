using CtScan.Contracts;
using CtScan.Preprocessing;
using Microsoft.ML.OnnxRuntime;

namespace CtScan.Scoring;

/// <summary>Settings of <see cref="ModelImporter"/> that the graph cannot tell.</summary>
public sealed record ModelImportOptions
{
    public TensorLayout Layout { get; init; } = TensorLayout.Ncdhw;
    public OutputKind OutputKind { get; init; } = OutputKind.Sigmoid;
    public double Threshold { get; init; } = ModelManifest.DefaultThreshold;
    /// <summary>The version; null gives <see cref="ModelVersions.Default"/>.</summary>
    public string? Version { get; init; }
    public double WindowMinimumHu { get; init; } = HuWindow.SeedMinimumHu;
    public double WindowMaximumHu { get; init; } = HuWindow.SeedMaximumHu;
}

/// <summary>
/// Makes a model folder from an ONNX file trained elsewhere: the input/output names and the input volume come from
/// the graph, the rest from <see cref="ModelImportOptions"/>. Before the folder is written, the model must pass
/// <see cref="ModelProbe"/>; a model that loads but cannot score, or scores something else, is refused.
/// </summary>
public static class ModelImporter
{
    public static ModelManifest Import(string onnxPath, string directory, ModelImportOptions options, TimeProvider? clock = null)
    {
        if (!File.Exists(onnxPath)) throw new FileNotFoundException($"no ONNX model at {onnxPath}", onnxPath);
        byte[] model = File.ReadAllBytes(onnxPath);
        string inputName, outputName;
        int[] inputDims;
        try
        {
            using var session = new InferenceSession(model);
            var inputs = session.InputMetadata;
            var outputs = session.OutputMetadata;
            if (inputs.Count != 1)
                throw new ModelLoadException($"{onnxPath} has {inputs.Count} inputs [{string.Join(", ", inputs.Keys)}]; a CT model takes exactly one scan tensor");
            if (outputs.Count != 1)
                throw new ModelLoadException($"{onnxPath} has {outputs.Count} outputs [{string.Join(", ", outputs.Keys)}]; a CT model gives exactly one score");
            (inputName, inputDims) = (inputs.Keys.Single(), inputs.Values.Single().Dimensions);
            outputName = outputs.Keys.Single();
        }
        catch (OnnxRuntimeException error)
        {
            throw new ModelLoadException($"ONNX Runtime cannot load {onnxPath}: {error.Message}", error);
        }

        int[] volume = VolumeOf(inputName, inputDims, options.Layout);
        var created = (clock ?? TimeProvider.System).GetUtcNow();
        var manifest = new ModelManifest
        {
            Version = options.Version ?? ModelVersions.Default(created, Contracts.Sha256Hex.Of(model)),
            Sha256 = Contracts.Sha256Hex.Of(model),
            Input = new ModelInputSpec(inputName, options.Layout, volume),
            Output = new ModelOutputSpec(outputName, options.OutputKind),
            Threshold = options.Threshold,
            Preprocessing = new PreprocessingSpec(options.WindowMinimumHu, options.WindowMaximumHu, volume),
            Created = created,
            Description = ModelManifest.DefaultDescription + $" Imported from {Path.GetFileName(onnxPath)}.",
        };
        var problems = manifest.Validate();
        if (problems.Count > 0) throw new ArgumentException($"cannot import {onnxPath}: {string.Join("; ", problems)}");
        ModelProbe.Check(onnxPath, manifest); // only a model that answers a usable score gets a folder
        return ModelFolder.Write(directory, model, manifest);
    }

    /// <summary>[W, H, D] from a rank-5 input shape in <paramref name="layout"/>; the channel axis must be 1, the volume fixed.</summary>
    private static int[] VolumeOf(string name, int[] dims, TensorLayout layout)
    {
        string shape = "[" + string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString())) + "]";
        if (dims.Length != 5)
            throw new ModelLoadException($"input '{name}' has shape {shape}; expected rank 5 ({ContractNames.Of(layout)})");
        (int channels, int[] volume) = layout == TensorLayout.Ncdhw ? (dims[1], dims[2..5]) : (dims[4], dims[1..4]);
        if (channels is not (1 or -1) || volume.Any(d => d <= 0))
            throw new ModelLoadException(
                $"input '{name}' has shape {shape}; as {ContractNames.Of(layout)} it needs one channel and a fixed volume (is --layout right?)");
        return volume;
    }
}
