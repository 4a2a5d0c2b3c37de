using CtScan.Onnx;
using CtScan.Quantization;

namespace CtScan.Tests.Quantization;

/// <summary>The graph rewrite on a small two-conv network: what is quantized, how, and what stays float.</summary>
public sealed class QdqQuantizerTests
{
    // input [N,1,6,6,6] → conv1 (1 → c channels: too few inputs, stays float) → relu → maxpool → conv2 (c → 3, int8)
    // → relu → maxpool → conv3 (3 → 2: the last conv, stays float) → flatten.
    private static OnnxModel ThreeConvs(int secondInputChannels = 16)
    {
        var random = new Random(3);
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ => random.NextSingle() - 0.5f)];
        int c = secondInputChannels;
        var nodes = new List<OnnxNode>
        {
            new("Conv", "conv1", ["scan", "w1", "b1"], ["c1"]) { Attributes = [new OnnxIntsAttribute("kernel_shape", [1, 1, 1])] },
            new("Relu", "relu1", ["c1"], ["r1"]),
            new("MaxPool", "pool1", ["r1"], ["p1"]) { Attributes = [new OnnxIntsAttribute("kernel_shape", [2, 2, 2]), new OnnxIntsAttribute("strides", [2, 2, 2])] },
            new("Conv", "conv2", ["p1", "w2", "b2"], ["c2"]) { Attributes = [new OnnxIntsAttribute("kernel_shape", [1, 1, 1])] },
            new("Relu", "relu2", ["c2"], ["r2"]),
            new("MaxPool", "pool2", ["r2"], ["p2"]) { Attributes = [new OnnxIntsAttribute("kernel_shape", [3, 3, 3]), new OnnxIntsAttribute("strides", [3, 3, 3])] },
            new("Conv", "conv3", ["p2", "w3", "b3"], ["c3"]) { Attributes = [new OnnxIntsAttribute("kernel_shape", [1, 1, 1])] },
            new("Flatten", "flatten", ["c3"], ["out"]) { Attributes = [new OnnxIntAttribute("axis", 1)] },
        };
        var initializers = new List<OnnxInitializer>
        {
            new("w1", [c, 1, 1, 1, 1], Values(c)), new("b1", [c], Values(c)),
            new("w2", [3, c, 1, 1, 1], Values(3 * c)), new("b2", [3], Values(3)),
            new("w3", [2, 3, 1, 1, 1], Values(6)), new("b3", [2], Values(2)),
        };
        var graph = new OnnxGraph("two-convs", nodes, initializers,
            [new OnnxValueInfo("scan", [OnnxDimension.Symbol("N"), 1, 6, 6, 6])], [new OnnxValueInfo("out", [OnnxDimension.Symbol("N"), 2])]);
        return new OnnxModel(graph, 17, "test", "1");
    }

    [Fact]
    public void TensorsToCalibrate_FirstConvHasOneChannel_OnlySecondConvsInputAndReluOutput()
    {
        Assert.Equal(["p1", "r2"], QdqQuantizer.TensorsToCalibrate(ThreeConvs()));
    }

    [Fact]
    public void TensorsToCalibrate_MinimumChannelsOne_FirstTwoConvsAndThePoolBetween()
    {
        // The pool between two int8 convs keeps r1's scale, but is observed for its channel means (bias correction).
        Assert.Equal(["scan", "r1", "p1", "r2"], QdqQuantizer.TensorsToCalibrate(ThreeConvs(), new QdqQuantizerOptions { MinimumInputChannels = 1 }));
    }

    [Fact]
    public void TensorsToCalibrate_KeepFloatSecondConv_NothingToQuantize()
    {
        var error = Assert.Throws<NotSupportedException>(() => QdqQuantizer.TensorsToCalibrate(ThreeConvs(), new QdqQuantizerOptions { KeepFloat = new HashSet<string> { "conv2" } }));
        Assert.Contains("nothing to quantize", error.Message);
    }

    [Fact]
    public void Quantize_ThreeConvs_Int8PerChannelWeightsInt32BiasAndQdqAroundTheSecondConv()
    {
        var model = ThreeConvs();
        var ranges = new Dictionary<string, ActivationRange> { ["p1"] = new(0, 2.55f), ["r2"] = new(0, 5.1f) };
        var quantized = QdqQuantizer.Quantize(model, ranges);
        var byName = quantized.Graph.Initializers.ToDictionary(i => i.Name);

        // Weights: symmetric per output channel, max |w| of each channel maps to 127.
        var w2 = model.Graph.Initializers.Single(i => i.Name == "w2").Values;
        var scales = byName["w2_scale"].Values;
        var q = byName["w2_quantized"];
        Assert.Equal(OnnxDataType.Int8, q.DataType);
        for (int o = 0; o < 3; o++)
        {
            float maxAbs = w2.Skip(o * 16).Take(16).Max(Math.Abs);
            Assert.Equal(maxAbs / 127f, scales[o], 6);
            for (int i = 0; i < 16; i++)
                Assert.Equal((sbyte)Math.Round(w2[o * 16 + i] / scales[o]), (sbyte)q.RawData[o * 16 + i]);
        }
        // Bias: int32 at input scale × weight scale; p1's range [0, 2.55] gives scale 0.01.
        var bias = byName["b2_quantized"];
        Assert.Equal(OnnxDataType.Int32, bias.DataType);
        float b0 = model.Graph.Initializers.Single(i => i.Name == "b2").Values[0];
        Assert.Equal((int)Math.Round(b0 / (0.01f * scales[0])), BitConverter.ToInt32(bias.RawData, 0));
        Assert.Equal(0.01f * scales[0], byName["b2_scale"].Values[0], 6);

        // Float weights of the quantized conv are gone; the first and last convs keep their own.
        Assert.False(byName.ContainsKey("w2"));
        Assert.True(byName.ContainsKey("w1") && byName.ContainsKey("w3"));
        var ops = quantized.Graph.Nodes.Select(n => n.OpType).ToList();
        // conv1 → pool1 → relu1 (swapped) → Q/DQ → [DQ w2, DQ b2] conv2 → relu2 → Q/DQ → pool2 → Q/DQ (inherited) → conv3 → flatten.
        Assert.Equal(["Conv", "MaxPool", "Relu", "QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "DequantizeLinear", "Conv",
            "Relu", "QuantizeLinear", "DequantizeLinear", "MaxPool", "QuantizeLinear", "DequantizeLinear", "Conv", "Flatten"], ops);
        var conv2 = quantized.Graph.Nodes.Single(n => n.Name == "conv2");
        Assert.Equal(["p1_dq", "w2_dq", "b2_dq"], conv2.Inputs);
        // The pool keeps the relu's scale (no calibration of p2).
        var poolQuantize = quantized.Graph.Nodes.Single(n => n.Name == "p2_quantize");
        Assert.Equal("r2_scale", poolQuantize.Inputs[1]);
    }

    [Fact]
    public void Quantize_MissingRange_NamesTheTensorAndTheExpectedOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => QdqQuantizer.Quantize(ThreeConvs(), new Dictionary<string, ActivationRange> { ["p1"] = new(0, 1) }));
        Assert.Contains("'r2'", error.Message);
        Assert.Contains("[p1, r2]", error.Message);
    }

    [Fact]
    public void Quantize_Opset12_RefusedNamingTheOpset()
    {
        var error = Assert.Throws<NotSupportedException>(() => QdqQuantizer.TensorsToCalibrate(ThreeConvs() with { Opset = 12 }));
        Assert.Contains("opset 12", error.Message);
    }

    [Theory]
    [InlineData(0f, 2.55f, 0.01f, 0)]
    [InlineData(-1f, 1.55f, 0.01f, 100)]
    [InlineData(0.5f, 2.55f, 0.01f, 0)]     // widened to hold 0
    [InlineData(0f, 0f, 1f, 0)]             // always 0
    public void UInt8Parameters_Range_ScaleAndZeroPoint(float min, float max, float scale, int zeroPoint)
    {
        var (s, z) = QdqQuantizer.UInt8Parameters(new ActivationRange(min, max));
        Assert.Equal(scale, s, 6);
        Assert.Equal(zeroPoint, z);
    }
}
