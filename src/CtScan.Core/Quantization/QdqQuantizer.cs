using CtScan.Onnx;

namespace CtScan.Quantization;

/// <summary>The observed range of one float tensor over the calibration data.</summary>
public readonly record struct ActivationRange(float Min, float Max);

/// <summary>
/// Rewrites a float32 graph into ONNX's QDQ form for static int8 inference: every <c>Conv</c> with constant weights
/// gets int8 weights (per output channel, symmetric), an int32 bias (scale = input scale × weight scale) and a uint8
/// activation (per tensor, asymmetric) on its input and on its output (after a following <c>Relu</c>, whose range then
/// starts at 0). A <c>MaxPool</c> of a quantized tensor keeps its scale, so it runs on uint8. Convs with fewer than
/// <see cref="DefaultMinimumInputChannels"/> input channels and everything else stay float. ONNX Runtime (graph optimisation level all) fuses DequantizeLinear → Conv → QuantizeLinear into
/// QLinearConv, drops the Relu into the quantization and runs MaxPool on uint8.
/// </summary>
public static class QdqQuantizer
{
    /// <summary>QuantizeLinear/DequantizeLinear with a per-channel axis need opset 13.</summary>
    public const int MinimumOpset = 13;

    /// <summary>
    /// Convs with fewer input channels stay float32: ONNX Runtime 1.31's int8 3-D convolution is slow when the GEMM's
    /// depth (channels × kernel volume) is tiny; the seed's first conv (1 channel, 27 taps) took 2–3× its float32 time
    /// in int8, while the 64-channel convs ran ~4× faster (docs/quantization.md has the figures).
    /// </summary>
    public const int DefaultMinimumInputChannels = 16;

    /// <summary>The float tensors whose ranges <see cref="Quantize"/> needs, in graph order.</summary>
    public static IReadOnlyList<string> TensorsToCalibrate(OnnxModel model, int minimumInputChannels = DefaultMinimumInputChannels) =>
        Plan(model, minimumInputChannels).Calibrated;

    /// <summary>The quantized model; <paramref name="ranges"/> must hold every tensor of <see cref="TensorsToCalibrate"/>.</summary>
    public static OnnxModel Quantize(OnnxModel model, IReadOnlyDictionary<string, ActivationRange> ranges, int minimumInputChannels = DefaultMinimumInputChannels)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var plan = Plan(model, minimumInputChannels);
        var graph = model.Graph;
        var initializers = graph.Initializers.ToDictionary(i => i.Name);
        var newInitializers = new List<OnnxInitializer>();
        var nodes = new List<OnnxNode>();

        // Each quantized tensor: its scale and zero point; MaxPool outputs inherit their input's.
        var parameters = new Dictionary<string, (string Scale, string ZeroPoint, float ScaleValue)>();
        (string, string, float) Parameters(string tensor)
        {
            if (parameters.TryGetValue(tensor, out var known)) return known;
            if (plan.InheritsFrom.TryGetValue(tensor, out string? source)) return parameters[tensor] = Parameters(source);
            if (!ranges.TryGetValue(tensor, out var range))
                throw new ArgumentException($"no calibration range for tensor '{tensor}'; expected ranges for [{string.Join(", ", plan.Calibrated)}]", nameof(ranges));
            var (scale, zeroPoint) = UInt8Parameters(range);
            string s = tensor + "_scale", z = tensor + "_zero_point";
            newInitializers.Add(new OnnxInitializer(s, [], [scale]));
            newInitializers.Add(OnnxInitializer.UInt8(z, [], [zeroPoint]));
            return parameters[tensor] = (s, z, scale);
        }

        // Q → DQ after each quantized tensor; consumers read the DQ output.
        var dequantized = new Dictionary<string, string>();
        void AddQdq(string tensor)
        {
            var (scale, zeroPoint, _) = Parameters(tensor);
            nodes.Add(new OnnxNode("QuantizeLinear", tensor + "_quantize", [tensor, scale, zeroPoint], [tensor + "_q"]));
            nodes.Add(new OnnxNode("DequantizeLinear", tensor + "_dequantize", [tensor + "_q", scale, zeroPoint], [tensor + "_dq"]));
            dequantized[tensor] = tensor + "_dq";
        }

        foreach (var input in graph.Inputs)
            if (plan.Quantized.Contains(input.Name)) AddQdq(input.Name);
        foreach (var node in PoolBeforeRelu(graph, plan))
        {
            var inputs = node.Inputs.Select(i => dequantized.GetValueOrDefault(i, i)).ToList();
            if (plan.Convs.Contains(node.Name))
            {
                var weight = initializers[node.Inputs[1]];
                float inputScale = Parameters(node.Inputs[0]).Item3;
                var (weightName, weightScales) = AddWeight(weight, nodes, newInitializers);
                inputs[1] = weightName;
                if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
                    inputs[2] = AddBias(initializers[node.Inputs[2]], inputScale, weightScales, nodes, newInitializers);
            }
            nodes.Add(node with { Inputs = inputs });
            foreach (string output in node.Outputs)
                if (plan.Quantized.Contains(output)) AddQdq(output);
        }

        var used = plan.Convs.Select(c => graph.Nodes.First(n => n.Name == c)).SelectMany(n => n.Inputs.Skip(1)).ToHashSet();
        var kept = graph.Initializers.Where(i => !used.Contains(i.Name) || graph.Nodes.Any(n => !plan.Convs.Contains(n.Name) && n.Inputs.Contains(i.Name)));
        return model with
        {
            Graph = graph with { Nodes = nodes, Initializers = [.. kept, .. newInitializers] },
        };
    }

    /// <summary>
    /// Float Relu → MaxPool pairs whose output is quantized become MaxPool → Relu (the same values: ReLU is monotonic).
    /// With the Relu right before the QuantizeLinear, ONNX Runtime folds it into the quantization and keeps the MaxPool
    /// float; otherwise its QDQ propagation moves the QuantizeLinear above the MaxPool, which then runs on uint8 in
    /// channels-first layout, 5× slower than in float32 at the seed size (255 vs 51 ms, docs/quantization.md).
    /// </summary>
    private static List<OnnxNode> PoolBeforeRelu(OnnxGraph graph, QuantizationPlan plan)
    {
        var nodes = graph.Nodes.ToList();
        var consumers = nodes.SelectMany(n => n.Inputs).GroupBy(i => i).ToDictionary(g => g.Key, g => g.Count());
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        for (int i = 0; i + 1 < nodes.Count; i++)
        {
            OnnxNode relu = nodes[i], pool = nodes[i + 1];
            if (relu.OpType != "Relu" || pool.OpType != "MaxPool" || pool.Outputs.Count != 1 || pool.Inputs[0] != relu.Outputs[0]) continue;
            if (consumers.GetValueOrDefault(relu.Outputs[0]) != 1 || graphOutputs.Contains(relu.Outputs[0])) continue;
            if (plan.Quantized.Contains(relu.Outputs[0]) || !plan.Quantized.Contains(pool.Outputs[0])) continue;
            nodes[i] = pool with { Inputs = [relu.Inputs[0], .. pool.Inputs.Skip(1)], Outputs = [relu.Outputs[0]] };
            nodes[i + 1] = relu with { Inputs = [relu.Outputs[0]], Outputs = pool.Outputs };
        }
        return nodes;
    }

    /// <summary>uint8 asymmetric: the range widened to hold 0 (zero must be exact), 255 steps.</summary>
    public static (float Scale, byte ZeroPoint) UInt8Parameters(ActivationRange range)
    {
        float min = Math.Min(range.Min, 0f), max = Math.Max(range.Max, 0f);
        if (!float.IsFinite(min) || !float.IsFinite(max))
            throw new ArgumentException($"calibration range [{range.Min}, {range.Max}] is not finite", nameof(range));
        float scale = (max - min) / 255f;
        if (scale <= 0) scale = 1f; // a tensor that is always 0
        byte zeroPoint = (byte)Math.Clamp(MathF.Round(-min / scale), 0, 255);
        return (scale, zeroPoint);
    }

    private static (string Name, float[] Scales) AddWeight(OnnxInitializer weight, List<OnnxNode> nodes, List<OnnxInitializer> initializers)
    {
        float[] values = weight.Values;
        int channels = (int)weight.Dims[0];
        int perChannel = values.Length / channels;
        var scales = new float[channels];
        var quantized = new sbyte[values.Length];
        for (int c = 0; c < channels; c++)
        {
            var slice = values.AsSpan(c * perChannel, perChannel);
            float maxAbs = 0;
            foreach (float v in slice) maxAbs = Math.Max(maxAbs, Math.Abs(v));
            // Symmetric in [-127, 127]: zero point 0, so ONNX Runtime's int8 GEMM needs no weight offset correction.
            float scale = maxAbs > 0 ? maxAbs / 127f : 1f;
            scales[c] = scale;
            for (int i = 0; i < perChannel; i++)
                quantized[c * perChannel + i] = (sbyte)Math.Clamp(MathF.Round(slice[i] / scale), -127, 127);
        }
        string name = weight.Name;
        initializers.Add(OnnxInitializer.Int8(name + "_quantized", weight.Dims, quantized));
        initializers.Add(new OnnxInitializer(name + "_scale", [channels], scales));
        initializers.Add(OnnxInitializer.Int8(name + "_zero_point", [channels], new sbyte[channels]));
        nodes.Add(new OnnxNode("DequantizeLinear", name + "_dequantize", [name + "_quantized", name + "_scale", name + "_zero_point"], [name + "_dq"])
        {
            Attributes = [new OnnxIntAttribute("axis", 0)],
        });
        return (name + "_dq", scales);
    }

    private static string AddBias(OnnxInitializer bias, float inputScale, float[] weightScales, List<OnnxNode> nodes, List<OnnxInitializer> initializers)
    {
        float[] values = bias.Values;
        var scales = new float[values.Length];
        var quantized = new int[values.Length];
        for (int c = 0; c < values.Length; c++)
        {
            scales[c] = inputScale * weightScales[c];
            quantized[c] = (int)Math.Clamp(Math.Round((double)values[c] / scales[c]), int.MinValue, int.MaxValue);
        }
        string name = bias.Name;
        initializers.Add(OnnxInitializer.Int32(name + "_quantized", bias.Dims, quantized));
        initializers.Add(new OnnxInitializer(name + "_scale", [values.Length], scales));
        initializers.Add(OnnxInitializer.Int32(name + "_zero_point", [values.Length], new int[values.Length]));
        nodes.Add(new OnnxNode("DequantizeLinear", name + "_dequantize", [name + "_quantized", name + "_scale", name + "_zero_point"], [name + "_dq"])
        {
            Attributes = [new OnnxIntAttribute("axis", 0)],
        });
        return name + "_dq";
    }

    private sealed record QuantizationPlan(HashSet<string> Convs, HashSet<string> Quantized, Dictionary<string, string> InheritsFrom, List<string> Calibrated);

    private static QuantizationPlan Plan(OnnxModel model, int minimumInputChannels)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Opset < MinimumOpset)
            throw new NotSupportedException($"the model uses opset {model.Opset}; quantization needs opset {MinimumOpset} or later (per-channel DequantizeLinear)");
        var graph = model.Graph;
        var constants = graph.Initializers.ToDictionary(i => i.Name);
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        var consumers = graph.Nodes.SelectMany(n => n.Inputs.Select(i => (Input: i, Node: n))).ToLookup(p => p.Input, p => p.Node);

        var convs = new HashSet<string>();
        var quantized = new HashSet<string>();
        var inheritsFrom = new Dictionary<string, string>();
        var calibrated = new List<string>();
        void Calibrate(string tensor)
        {
            if (quantized.Add(tensor) && !inheritsFrom.ContainsKey(tensor)) calibrated.Add(tensor);
        }

        foreach (var node in graph.Nodes)
        {
            if (node.OpType == "MaxPool" && quantized.Contains(node.Inputs[0]) && node.Outputs.Count == 1 && !graphOutputs.Contains(node.Outputs[0]))
            {
                // Max of uint8 values is the uint8 of the max: same scale, no calibration.
                inheritsFrom[node.Outputs[0]] = node.Inputs[0];
                quantized.Add(node.Outputs[0]);
                continue;
            }
            if (node.OpType != "Conv" || node.Inputs.Count < 2 || !constants.TryGetValue(node.Inputs[1], out var weight)) continue;
            if (weight.DataType != OnnxDataType.Float || (node.Inputs.Count > 2 && node.Inputs[2].Length > 0 && !constants.ContainsKey(node.Inputs[2])))
                continue;
            if (graphOutputs.Contains(node.Inputs[0]) || constants.ContainsKey(node.Inputs[0])) continue;
            long groups = node.Attributes.OfType<OnnxIntAttribute>().FirstOrDefault(a => a.Name == "group")?.Value ?? 1;
            if (weight.Dims.Count < 2 || weight.Dims[1] * groups < minimumInputChannels) continue;
            convs.Add(node.Name);
            Calibrate(node.Inputs[0]);
            // The conv's output is quantized after its Relu when the Relu is its only consumer (range [0, max]).
            string output = node.Outputs[0];
            var next = consumers[output].ToList();
            if (next is [{ OpType: "Relu" } relu] && !graphOutputs.Contains(output)) output = relu.Outputs[0];
            if (!graphOutputs.Contains(output)) Calibrate(output);
        }
        if (convs.Count == 0) throw new NotSupportedException("the graph has no Conv with constant weights; nothing to quantize");
        return new QuantizationPlan(convs, quantized, inheritsFrom, calibrated);
    }
}
