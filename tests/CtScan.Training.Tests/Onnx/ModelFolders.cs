using CtScan.Contracts;
using CtScan.Scoring;
using CtScan.Training.Onnx;

namespace CtScan.Training.Tests.Onnx;

/// <summary>Model folders (model.onnx + manifest.json) in a temporary directory, deleted with it.</summary>
internal sealed class ModelFolders : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("ctscan-onnx-test-");

    public string Write(string name, byte[] model, ModelManifest manifest)
    {
        string directory = Path.Combine(_root.FullName, name);
        ModelFolder.Write(directory, model, manifest);
        return directory;
    }

    /// <summary>Exports <paramref name="network"/> with <paramref name="options"/> and a manifest that describes it.</summary>
    public string Export(string name, CtScanNet network, OnnxExportOptions? options = null, double threshold = 0.5)
    {
        options ??= new OnnxExportOptions();
        return Write(name, CtScanOnnxExporter.Export(network, options), ManifestFor(network.Options, options, threshold));
    }

    public static ModelManifest ManifestFor(ModelOptions model, OnnxExportOptions options, double threshold = 0.5)
    {
        int[] shape = [model.Input.Width, model.Input.Height, model.Input.Depth];
        return new ModelManifest
        {
            Version = "test-1",
            Sha256 = new string('0', 64), // ModelFolder.Write sets the real one
            Input = new ModelInputSpec(options.InputName, options.Layout, shape),
            Output = new ModelOutputSpec(options.OutputName, options.Output),
            Threshold = threshold,
            Preprocessing = new PreprocessingSpec(-1000, 400, shape),
            Created = new DateTimeOffset(2026, 11, 29, 1, 30, 0, TimeSpan.Zero),
        };
    }

    public void Dispose() => _root.Delete(recursive: true);
}
