using CtScan.Contracts;

namespace CtScan.Tests.Contracts;

/// <summary>The manifest's <c>precision</c> and <c>quantization</c>: present together or not at all, and they round-trip.</summary>
public sealed class ModelManifestPrecisionTests
{
    private static readonly QuantizationSpec Spec = new("static QDQ", "v1", new string('a', 64), new string('b', 64), 20, "min/max", ["block2.conv"]);

    [Fact]
    public void Validate_Int8WithoutQuantization_NamesTheField()
    {
        var problems = (ModelManifestTests.Valid() with { Precision = "int8" }).Validate();
        Assert.Contains(problems, p => p.StartsWith("quantization: must be present exactly when precision is int8", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_UnknownPrecision_ListsTheAllowedOnes()
    {
        var problems = (ModelManifestTests.Valid() with { Precision = "fp16" }).Validate();
        Assert.Contains("precision: got 'fp16'; expected one of {float32, int8} or none", problems);
    }

    [Fact]
    public void Validate_BadCalibrationFingerprint_NamesTheNestedField()
    {
        var problems = (ModelManifestTests.Valid() with { Precision = "int8", Quantization = Spec with { CalibrationFingerprint = "xyz" } }).Validate();
        Assert.Contains("quantization.calibrationFingerprint: must be 64 lowercase hex digits; got 'xyz'", problems);
    }

    [Fact]
    public void Serialize_Int8Manifest_RoundTripsPrecisionAndQuantization()
    {
        var manifest = ModelManifestTests.Valid() with { Precision = "int8", Quantization = Spec };
        var json = ContractsJson.Serialize(manifest);
        Assert.Contains("\"precision\": \"int8\"", json);
        Assert.Contains("\"calibrationFingerprint\": \"" + new string('b', 64) + "\"", json);
        var back = ContractsJson.DeserializeManifest(json);
        Assert.Equal("int8", back.Precision);
        Assert.Equal(Spec with { Int8Layers = null }, back.Quantization! with { Int8Layers = null });
        Assert.Equal(["block2.conv"], back.Quantization!.Int8Layers);
        Assert.Empty(back.Validate());
    }
}
