using System.Text.Json.Nodes;
using CtScan.Contracts;

namespace CtScan.Tests.Contracts;

public sealed class ScanResultContractTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 29, 1, 30, 0, TimeSpan.Zero);

    internal static ScanResult Scored() => new()
    {
        Scan = "hospital-a/2026/ct-0001.nii.gz",
        Status = ScanStatus.Scored,
        ProbabilityAbnormal = 0.73,
        Label = ScanLabels.Abnormal,
        Threshold = 0.5,
        Model = new ModelReference("20261129-0130-3fa2c1", new string('a', 64)),
        Input = new InputDescription(new string('b', 64), [512, 512, 64], "int16", [0.7, 0.7, 5.0]),
        TimingsMs = new Dictionary<string, double> { ["read"] = 120.5, ["preprocess"] = 80.25, ["inference"] = 640 },
        CreatedAt = Created,
    };

    internal static ScanResult Rejected() => new()
    {
        Scan = "x.npy",
        Status = ScanStatus.Rejected,
        Error = new ScanError(ScanErrorCodes.ShapeMismatch, "tensor shape [10, 10, 10]; the model takes [128, 128, 64]"),
        CreatedAt = Created,
    };

    [Fact]
    public void Serialize_Scored_IsCamelCaseWithContractValues()
    {
        var json = JsonNode.Parse(ContractsJson.Serialize(Scored()))!.AsObject();

        Assert.Equal("1.1", (string?)json["schemaVersion"]);
        Assert.Equal("scored", (string?)json["status"]);
        Assert.Equal(0.73, (double?)json["probabilityAbnormal"]);
        Assert.Equal("abnormal", (string?)json["label"]);
        Assert.Equal("20261129-0130-3fa2c1", (string?)json["model"]!["version"]);
        Assert.Equal(512, (int?)json["input"]!["shape"]![0]);
        Assert.Equal(80.25, (double?)json["timingsMs"]!["preprocess"]);
        Assert.Equal("2026-11-29T01:30:00+00:00", (string?)json["createdAt"]);
        Assert.False(json.ContainsKey("error"), "a scored result has no error field");
    }

    [Fact]
    public void Serialize_WarningsAndOrientation_AreSchemaValidAndOmittedWhenAbsent()
    {
        var warned = Scored() with
        {
            Input = Scored().Input! with { Orientation = "LPS" },
            Warnings = [new ScanWarning(ScanWarningCodes.FewSlices, "the scan has 12 slices; the model was made for at least 16")],
        };

        string json = ContractsJson.Serialize(warned);
        var node = JsonNode.Parse(json)!.AsObject();

        Assert.Empty(ResultSchema.Errors(json));
        Assert.Equal("LPS", (string?)node["input"]!["orientation"]);
        Assert.Equal("few-slices", (string?)node["warnings"]![0]!["code"]);
        Assert.False(JsonNode.Parse(ContractsJson.Serialize(Scored()))!.AsObject().ContainsKey("warnings"));
        Assert.Equal(warned.Warnings, ContractsJson.DeserializeResult(json).Warnings);
    }

    [Theory]
    [InlineData("warnings", "[{\"code\": \"Bad Code\", \"message\": \"x\"}]")]
    [InlineData("warnings", "[{\"code\": \"few-slices\"}]")]
    public void Schema_MalformedWarnings_AreRefused(string field, string value)
    {
        var node = JsonNode.Parse(ContractsJson.Serialize(Scored()))!.AsObject();
        node[field] = JsonNode.Parse(value);

        Assert.NotEmpty(ResultSchema.Errors(node.ToJsonString()));
    }

    [Fact]
    public void Schema_OrientationOtherThanAxisCodes_IsRefused()
    {
        var node = JsonNode.Parse(ContractsJson.Serialize(Scored()))!.AsObject();
        node["input"]!["orientation"] = "XYZ";

        Assert.NotEmpty(ResultSchema.Errors(node.ToJsonString()));
    }

    [Fact]
    public void RoundTrip_Scored_GivesAnEqualResult()
    {
        var original = Scored();

        var back = ContractsJson.DeserializeResult(ContractsJson.Serialize(original));

        Assert.Equal(ContractsJson.Serialize(original), ContractsJson.Serialize(back));
        Assert.Equal(original.Status, back.Status);
        Assert.Equal(original.Input!.Shape, back.Input!.Shape);
    }

    [Fact]
    public void RoundTrip_InputWithoutSpacing_OmitsAndRestoresIt()
    {
        var original = Scored() with { Input = new InputDescription(new string('b', 64), [128, 128, 64], "float32") };

        string json = ContractsJson.Serialize(original);
        var back = ContractsJson.DeserializeResult(json);

        Assert.DoesNotContain("spacingMm", json);
        Assert.Null(back.Input!.SpacingMm);
        Assert.Empty(ResultSchema.Errors(json));
    }

    [Fact]
    public void Serialize_FallbackModel_WritesTheThreeFieldsAndIsSchemaValid()
    {
        var fallback = Scored() with
        {
            Model = new ModelReference("20261122-0300-8c1d2e", new string('c', 64))
            {
                Fallback = true,
                FallbackFrom = "20261129-0130-3fa2c1",
                FallbackReason = "current model 20261129-0130-3fa2c1 cannot serve: ONNX Runtime cannot load it",
            },
        };

        string json = ContractsJson.Serialize(fallback);
        var model = JsonNode.Parse(json)!["model"]!.AsObject();

        Assert.Empty(ResultSchema.Errors(json));
        Assert.Equal(["version", "sha256", "fallback", "fallbackFrom", "fallbackReason"], model.Select(p => p.Key));
        Assert.True((bool?)model["fallback"]);
        Assert.Equal(fallback.Model, ContractsJson.DeserializeResult(json).Model);
        // The current model's result has none of them: a schema 1.0 reader sees what it always saw.
        Assert.Equal(["version", "sha256"], JsonNode.Parse(ContractsJson.Serialize(Scored()))!["model"]!.AsObject().Select(p => p.Key));
    }

    [Theory]
    [InlineData("{\"fallback\": false}")]                          // only ever true when present
    [InlineData("{\"fallback\": true}")]                           // without from and reason
    [InlineData("{\"fallbackReason\": \"x\"}")]                    // a reason without the flag
    public void Schema_IncompleteFallback_IsInvalid(string fields)
    {
        var node = JsonNode.Parse(ContractsJson.Serialize(Scored()))!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(fields)!.AsObject().ToList())
            node["model"]![key] = value?.DeepClone();

        Assert.NotEmpty(ResultSchema.Errors(node.ToJsonString()));
    }

    [Fact]
    public void Schema_ScoredAndRejected_AreValid()
    {
        Assert.Empty(ResultSchema.Errors(ContractsJson.Serialize(Scored())));
        Assert.Empty(ResultSchema.Errors(ContractsJson.Serialize(Rejected())));
    }

    [Theory]
    [InlineData("status", "\"done\"")]                     // not one of the three statuses
    [InlineData("probabilityAbnormal", "1.5")]            // outside [0, 1]
    [InlineData("label", "\"sick\"")]                     // not normal/abnormal
    [InlineData("error", "{\"code\":\"x\",\"message\":\"y\"}")] // a scored result with an error
    [InlineData("createdAt", "\"yesterday\"")]            // not a date-time
    [InlineData("extra", "1")]                             // unknown field
    public void Schema_ScoredWithOneBadField_IsInvalid(string field, string value)
    {
        var json = JsonNode.Parse(ContractsJson.Serialize(Scored()))!.AsObject();
        json[field] = JsonNode.Parse(value);

        Assert.NotEmpty(ResultSchema.Errors(json.ToJsonString()));
    }

    [Fact]
    public void Schema_RejectedWithoutError_IsInvalid()
    {
        var json = JsonNode.Parse(ContractsJson.Serialize(Rejected()))!.AsObject();
        json.Remove("error");

        Assert.NotEmpty(ResultSchema.Errors(json.ToJsonString()));
    }

    [Theory]
    [InlineData(0.5, 0.5, "abnormal")]
    [InlineData(0.4999, 0.5, "normal")]
    [InlineData(0.2, 0.1, "abnormal")]
    [InlineData(0.95, 0.97, "normal")]
    public void Label_ProbabilityAgainstThreshold_AtOrAboveIsAbnormal(double probability, double threshold, string label) =>
        Assert.Equal(label, ScanLabels.For(probability, threshold));

    [Fact]
    public void ScoreRequest_RoundTrip_UsesTheQueueFieldNames()
    {
        var request = new ScoreRequest("a/b.nii.gz", new string('c', 64) + ".npy", new string('c', 64), Created);

        string json = ContractsJson.Serialize(request);
        var node = JsonNode.Parse(json)!.AsObject();

        Assert.Equal(["scan", "tensor", "sha256", "enqueuedAt"], node.Select(p => p.Key));
        Assert.Equal(request, ContractsJson.DeserializeScoreRequest(json));
    }
}
