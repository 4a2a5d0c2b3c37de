using CtScan.Contracts;

namespace CtScan.Scoring;

/// <summary>
/// A model on disk: a folder holding <c>model.onnx</c> and <c>manifest.json</c> (the layout of <c>models/&lt;version&gt;/</c>),
/// and for a model trained here its TorchSharp checkpoint in <c>checkpoint/</c> (Grad-CAM needs it; scoring does not).
/// </summary>
public static class ModelFolder
{
    public const string ManifestFileName = "manifest.json";

    /// <summary>The subfolder of a model (or training output) folder that holds the checkpoint.</summary>
    public const string CheckpointFolderName = "checkpoint";

    /// <summary>The checkpoint's weights (TorchSharp's state dictionary format).</summary>
    public const string CheckpointWeightsFileName = "weights.dat";

    /// <summary>The checkpoint's network options (what rebuilds the network before the weights load).</summary>
    public const string CheckpointOptionsFileName = "model.json";

    /// <summary>The checkpoint's files, weights first.</summary>
    public static IReadOnlyList<string> CheckpointFiles { get; } = [CheckpointWeightsFileName, CheckpointOptionsFileName];

    /// <summary>The folder holding both checkpoint files: <paramref name="directory"/> itself or its <c>checkpoint/</c>; null when neither does.</summary>
    public static string? FindCheckpoint(string directory)
    {
        foreach (var folder in new[] { directory, Path.Combine(directory, CheckpointFolderName) })
            if (File.Exists(Path.Combine(folder, CheckpointWeightsFileName)) && File.Exists(Path.Combine(folder, CheckpointOptionsFileName)))
                return folder;
        return null;
    }

    /// <summary>Reads and validates <c>manifest.json</c>; a missing or invalid one is a <see cref="ModelLoadException"/>.</summary>
    public static ModelManifest ReadManifest(string directory)
    {
        string path = Path.Combine(directory, ManifestFileName);
        if (!Directory.Exists(directory)) throw new ModelLoadException($"model folder {directory} does not exist");
        if (!File.Exists(path)) throw new ModelLoadException($"model folder {directory} has no {ManifestFileName}");
        try
        {
            return ContractsJson.DeserializeManifest(File.ReadAllText(path));
        }
        catch (InvalidDataException error)
        {
            throw new ModelLoadException($"{path}: {error.Message}", error);
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> as <c>model.onnx</c> and the manifest (its sha256 and model file set here) into
    /// <paramref name="directory"/>; the manifest goes last, so a folder with a manifest always has its model.
    /// </summary>
    public static ModelManifest Write(string directory, ReadOnlySpan<byte> model, ModelManifest manifest)
    {
        Directory.CreateDirectory(directory);
        var complete = (manifest with { ModelFile = ModelManifest.DefaultModelFile, Sha256 = Sha256Hex.Of(model) }).Validated();
        string modelPath = Path.Combine(directory, complete.ModelFile);
        string manifestPath = Path.Combine(directory, ManifestFileName);
        File.Delete(manifestPath);
        WriteAtomically(modelPath, model);
        WriteAtomically(manifestPath, System.Text.Encoding.UTF8.GetBytes(ContractsJson.Serialize(complete)));
        return complete;
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        File.WriteAllBytes(path + ".tmp", content);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
