using System.Text.Json.Nodes;
using CtScan.Contracts;

namespace CtScan.Tests.Contracts;

public sealed class ModelManifestTests
{
    internal static ModelManifest Valid() => new()
    {
        Version = "20261129-0130-3fa2c1",
        Sha256 = new string('e', 64),
        Input = new ModelInputSpec("scan", TensorLayout.Ndhwc, [128, 128, 64]),
        Output = new ModelOutputSpec("probability", OutputKind.Logit),
        Threshold = 0.42,
        Preprocessing = new PreprocessingSpec(-1000, 400, [128, 128, 64]),
        TrainingMetrics = new Dictionary<string, double> { ["valAccuracy"] = 0.78, ["valLoss"] = 0.51 },
        DataFingerprint = "sha256:" + new string('f', 64),
        Created = new DateTimeOffset(2026, 11, 29, 1, 30, 0, TimeSpan.Zero),
    };

    [Fact]
    public void RoundTrip_EveryField_Survives()
    {
        var manifest = Valid();

        var back = ContractsJson.DeserializeManifest(ContractsJson.Serialize(manifest));

        Assert.Equal(ContractsJson.Serialize(manifest), ContractsJson.Serialize(back));
        Assert.Equal((TensorLayout.Ndhwc, OutputKind.Logit, 0.42), (back.Input.Layout, back.Output.Kind, back.Threshold));
        Assert.Equal([128, 128, 64], back.Input.Shape);
        Assert.Equal(0.78, back.TrainingMetrics!["valAccuracy"]);
        Assert.True(back.NotForClinicalUse);
    }

    [Fact]
    public void Serialize_UsesContractSpellings()
    {
        var json = JsonNode.Parse(ContractsJson.Serialize(Valid()))!.AsObject();

        Assert.Equal("NDHWC", (string?)json["input"]!["layout"]);
        Assert.Equal("logit", (string?)json["output"]!["kind"]);
        Assert.Equal("model.onnx", (string?)json["modelFile"]);
        Assert.True((bool?)json["notForClinicalUse"]);
        Assert.Contains("Not for clinical use", (string?)json["description"]);
    }

    [Fact]
    public void Serialize_WritesExactlyTheContractFields()
    {
        var json = JsonNode.Parse(ContractsJson.Serialize(Valid()))!.AsObject();

        Assert.Equal(
            ["schemaVersion", "version", "modelFile", "sha256", "input", "output", "threshold", "preprocessing",
             "trainingMetrics", "dataFingerprint", "created", "notForClinicalUse", "description"],
            json.Select(p => p.Key));
        Assert.Equal(["name", "layout", "shape"], json["input"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["windowMinimumHu", "windowMaximumHu", "targetShape"], json["preprocessing"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void Validate_ValidManifest_HasNoProblems() => Assert.Empty(Valid().Validate());

    public static TheoryData<string, Func<ModelManifest, ModelManifest>> BadFields => new()
    {
        { "version", m => m with { Version = "../x" } },
        { "sha256", m => m with { Sha256 = "ABC" } },
        { "input.name", m => m with { Input = m.Input with { Name = "" } } },
        { "input.shape", m => m with { Input = m.Input with { Shape = [128, 128] } } },
        { "output.kind", m => m with { Output = m.Output with { Kind = (OutputKind)7 } } },
        { "threshold", m => m with { Threshold = 1.5 } },
        { "preprocessing.windowMinimumHu", m => m with { Preprocessing = m.Preprocessing with { WindowMinimumHu = 500 } } },
        { "preprocessing.targetShape", m => m with { Preprocessing = m.Preprocessing with { TargetShape = [64, 64, 64] } } },
        { "trainingMetrics", m => m with { TrainingMetrics = new Dictionary<string, double> { ["valLoss"] = double.NaN } } },
        { "created", m => m with { Created = default } },
        { "modelFile", m => m with { ModelFile = "/etc/passwd" } },
        { "preprocessing.orientation", m => m with { Preprocessing = m.Preprocessing with { Orientation = "RRS" } } },
        { "preprocessing.targetSpacingMm", m => m with { Preprocessing = m.Preprocessing with { TargetSpacingMm = [1, 0, 1] } } },
        { "inputGate.minSlices", m => m with { InputGate = new InputGateSpec { MinSlices = 0 } } },
        { "inputGate.recommendedMinSlices", m => m with { InputGate = new InputGateSpec { MinSlices = 20 } } },
        { "inputGate.maxNonFiniteFraction", m => m with { InputGate = new InputGateSpec { MaxNonFiniteFraction = 2 } } },
    };

    [Fact]
    public void Deserialize_OrientationSpacingAndPartialInputGate_KeepsDefaultsForMissingThresholds()
    {
        var json = JsonNode.Parse(ContractsJson.Serialize(Valid()))!.AsObject();
        json["preprocessing"]!["orientation"] = "LPS";
        json["preprocessing"]!["targetSpacingMm"] = new JsonArray(0.7, 0.7, 2.5);
        json["inputGate"] = new JsonObject { ["minSlices"] = 20, ["recommendedMinSlices"] = 40 };

        var manifest = ContractsJson.DeserializeManifest(json.ToJsonString());

        Assert.Equal("LPS", manifest.Preprocessing.Orientation);
        Assert.Equal([0.7, 0.7, 2.5], manifest.Preprocessing.TargetSpacingMm!);
        Assert.Equal((20, 40), (manifest.InputGate!.MinSlices, manifest.InputGate.RecommendedMinSlices));
        Assert.Equal(InputGateSpec.CtDefaults.MinAirFraction, manifest.InputGate.MinAirFraction);
        Assert.Equal(InputGateSpec.CtDefaults.MaxNonFiniteFraction, manifest.InputGate.MaxNonFiniteFraction);
    }

    [Theory]
    [MemberData(nameof(BadFields))]
    public void Validate_OneBadField_NamesIt(string field, Func<ModelManifest, ModelManifest> spoil)
    {
        var problems = spoil(Valid()).Validate();

        var problem = Assert.Single(problems);
        Assert.StartsWith(field + ":", problem);
    }

    [Fact]
    public void Deserialize_UnknownLayout_NamesThePath()
    {
        var json = JsonNode.Parse(ContractsJson.Serialize(Valid()))!.AsObject();
        json["input"]!["layout"] = "NHWC";

        var error = Assert.Throws<InvalidDataException>(() => ContractsJson.DeserializeManifest(json.ToJsonString()));

        Assert.Contains("input.layout", error.Message);
    }

    [Fact]
    public void Deserialize_MissingSha256_IsRefused()
    {
        var json = JsonNode.Parse(ContractsJson.Serialize(Valid()))!.AsObject();
        json.Remove("sha256");

        var error = Assert.Throws<InvalidDataException>(() => ContractsJson.DeserializeManifest(json.ToJsonString()));

        Assert.Contains("sha256", error.Message);
    }

    [Fact]
    public void Deserialize_BadThreshold_ListsTheProblem()
    {
        var json = JsonNode.Parse(ContractsJson.Serialize(Valid()))!.AsObject();
        json["threshold"] = -0.1;

        var error = Assert.Throws<InvalidDataException>(() => ContractsJson.DeserializeManifest(json.ToJsonString()));

        Assert.Contains("threshold: must be in [0, 1]; got -0.1", error.Message);
    }
}
