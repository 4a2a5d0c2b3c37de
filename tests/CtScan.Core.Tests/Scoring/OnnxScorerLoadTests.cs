using CtScan.Contracts;
using CtScan.Scoring;
using CtScan.Tests.Contracts;

namespace CtScan.Tests.Scoring;

/// <summary>What the scorer refuses before ONNX Runtime is involved (models that load are tested with the exporter).</summary>
public sealed class OnnxScorerLoadTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("ctscan-scorer-test-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void Open_HashMismatch_IsRefusedBeforeLoadingNamingBothHashes()
    {
        // Not even an ONNX model: if the session were created first, ONNX Runtime's parse error would surface instead.
        byte[] bytes = "not an onnx model"u8.ToArray();
        ModelFolder.Write(_folder.FullName, bytes, ModelManifestTests.Valid());
        var manifest = ModelFolder.ReadManifest(_folder.FullName);
        File.WriteAllBytes(Path.Combine(_folder.FullName, "model.onnx"), "tampered"u8.ToArray());

        var error = Assert.Throws<ModelLoadException>(() => OnnxScorer.Open(_folder.FullName));

        Assert.Contains(manifest.Sha256, error.Message);
        Assert.Contains(Sha256Hex.Of("tampered"u8), error.Message);
        Assert.Contains("Refusing to load", error.Message);
    }

    [Fact]
    public void Open_MatchingHashOfAnInvalidModel_FailsInOnnxRuntime()
    {
        ModelFolder.Write(_folder.FullName, "not an onnx model"u8.ToArray(), ModelManifestTests.Valid());

        var error = Assert.Throws<ModelLoadException>(() => OnnxScorer.Open(_folder.FullName));

        Assert.Contains("ONNX Runtime cannot load", error.Message);
    }

    [Fact]
    public void Open_NoManifest_SaysSo()
    {
        var error = Assert.Throws<ModelLoadException>(() => OnnxScorer.Open(_folder.FullName));
        Assert.Contains("has no manifest.json", error.Message);
    }

    [Fact]
    public void Open_InvalidManifest_NamesTheField()
    {
        File.WriteAllText(Path.Combine(_folder.FullName, "manifest.json"),
            ContractsJson.Serialize(ModelManifestTests.Valid() with { Threshold = 2 }));

        var error = Assert.Throws<ModelLoadException>(() => OnnxScorer.Open(_folder.FullName));

        Assert.Contains("threshold", error.Message);
    }

    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(2.0, 0.8807970779778823)]
    [InlineData(-800.0, 0.0)]
    [InlineData(800.0, 1.0)]
    public void Sigmoid_Logit_IsTheLogisticFunctionWithoutOverflow(double logit, double probability) =>
        Assert.Equal(probability, OnnxScorer.Sigmoid(logit), 12);
}
