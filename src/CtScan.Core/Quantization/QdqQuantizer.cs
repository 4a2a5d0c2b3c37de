using CtScan.Onnx;

namespace CtScan.Quantization;

/// <summary>The observed range of one float tensor over the calibration data.</summary>
public readonly record struct ActivationRange(float Min, float Max);

/// <summary>Which convs <see cref="QdqQuantizer"/> quantizes.</summary>
public sealed record QdqQuantizerOptions
{
    /// <summary>Convs with fewer input channels stay float32 (<see cref="QdqQuantizer.DefaultMinimumInputChannels"/>).</summary>
    public int MinimumInputChannels { get; init; } = QdqQuantizer.DefaultMinimumInputChannels;

    /// <summary>Names of Conv nodes that stay float32 whatever their size.</summary>
    public IReadOnlySet<string> KeepFloat { get; init; } = new HashSet<string>();
}

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
    public static IReadOnlyList<string> TensorsToCalibrate(OnnxModel model, QdqQuantizerOptions? options = null) =>
        Plan(model, options ?? new QdqQuantizerOptions()).Calibrated;

    /// <summary>The convs <see cref="Quantize"/> turns int8 with these options, in graph order.</summary>
    public static IReadOnlyList<string> QuantizedConvs(OnnxModel model, QdqQuantizerOptions? options = null)
    {
        var plan = Plan(model, options ?? new QdqQuantizerOptions());
        return model.Graph.Nodes.Where(n => plan.Convs.Contains(n.Name)).Select(n => n.Name).ToList();
    }

    /// <summary>The quantized model; <paramref name="ranges"/> must hold every tensor of <see cref="TensorsToCalibrate"/>.</summary>
    /// <param name="channelMeans">Per-channel means of the conv inputs over the calibration data (<see cref="ActivationCalibrator.ChannelMeans"/>):
    /// with them each quantized conv's bias absorbs the weights' mean rounding error (bias correction, Nagel et al. 2019);
    /// null: no correction.</param>
    public static OnnxModel Quantize(OnnxModel model, IReadOnlyDictionary<string, ActivationRange> ranges, QdqQuantizerOptions? options = null,
        IReadOnlyDictionary<string, float[]>? channelMeans = null)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var plan = Plan(model, options ?? new QdqQuantizerOptions());
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
                var (weightName, weightScales, weightError) = AddWeight(weight, nodes, newInitializers);
                inputs[1] = weightName;
                if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
                {
                    var bias = initializers[node.Inputs[2]];
                    float[] biasValues = bias.Values;
                    if (channelMeans is not null && channelMeans.TryGetValue(node.Inputs[0], out var means))
                        CorrectBias(biasValues, weightError, means);
                    inputs[2] = AddBias(bias.Name, bias.Dims, biasValues, inputScale, weightScales, nodes, newInitializers);
                }
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

    /// <summary>
    /// b[o] −= Σ_c mean_c · Σ_k error[o, c, k]: the conv's output shifts by the rounding error of its weights times its
    /// input, whose mean is large where a BatchNorm was folded into the weights (the conv then subtracts a large per-channel
    /// mean from a large input, and 0.4 % weight error moved the demo model's logits by ~3).
    /// </summary>
    private static void CorrectBias(float[] bias, float[] weightError, float[] channelMeans)
    {
        int outputs = bias.Length, channels = channelMeans.Length;
        if (weightError.Length % (outputs * channels) != 0) return;
        int taps = weightError.Length / outputs / channels;
        for (int o = 0; o < outputs; o++)
        {
            double shift = 0;
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                foreach (float e in weightError.AsSpan((o * channels + c) * taps, taps)) sum += e;
                shift += sum * channelMeans[c];
            }
            bias[o] -= (float)shift;
        }
    }

    /// <returns>The dequantized weight's name, the per-channel scales, and the rounding error (dequantized − float) per weight.</returns>
    private static (string Name, float[] Scales, float[] Error) AddWeight(OnnxInitializer weight, List<OnnxNode> nodes, List<OnnxInitializer> initializers)
    {
        float[] values = weight.Values;
        var error = new float[values.Length];
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
            {
                var q = (sbyte)Math.Clamp(MathF.Round(slice[i] / scale), -127, 127);
                quantized[c * perChannel + i] = q;
                error[c * perChannel + i] = q * scale - slice[i];
            }
        }
        string name = weight.Name;
        initializers.Add(OnnxInitializer.Int8(name + "_quantized", weight.Dims, quantized));
        initializers.Add(new OnnxInitializer(name + "_scale", [channels], scales));
        initializers.Add(OnnxInitializer.Int8(name + "_zero_point", [channels], new sbyte[channels]));
        nodes.Add(new OnnxNode("DequantizeLinear", name + "_dequantize", [name + "_quantized", name + "_scale", name + "_zero_point"], [name + "_dq"])
        {
            Attributes = [new OnnxIntAttribute("axis", 0)],
        });
        return (name + "_dq", scales, error);
    }

    private static string AddBias(string name, IReadOnlyList<long> dims, float[] values, float inputScale, float[] weightScales, List<OnnxNode> nodes, List<OnnxInitializer> initializers)
    {
        var scales = new float[values.Length];
        var quantized = new int[values.Length];
        for (int c = 0; c < values.Length; c++)
        {
            scales[c] = inputScale * weightScales[c];
            quantized[c] = (int)Math.Clamp(Math.Round((double)values[c] / scales[c]), int.MinValue, int.MaxValue);
        }
        initializers.Add(OnnxInitializer.Int32(name + "_quantized", dims, quantized));
        initializers.Add(new OnnxInitializer(name + "_scale", [values.Length], scales));
        initializers.Add(OnnxInitializer.Int32(name + "_zero_point", [values.Length], new int[values.Length]));
        nodes.Add(new OnnxNode("DequantizeLinear", name + "_dequantize", [name + "_quantized", name + "_scale", name + "_zero_point"], [name + "_dq"])
        {
            Attributes = [new OnnxIntAttribute("axis", 0)],
        });
        return name + "_dq";
    }

    private sealed record QuantizationPlan(HashSet<string> Convs, HashSet<string> Quantized, Dictionary<string, string> InheritsFrom, List<string> Calibrated);

    private static QuantizationPlan Plan(OnnxModel model, QdqQuantizerOptions options)
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
        // Every conv input is observed, an inherited one too: bias correction needs its channel means.
        void Calibrate(string tensor)
        {
            quantized.Add(tensor);
            if (!calibrated.Contains(tensor)) calibrated.Add(tensor);
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
            if (weight.Dims.Count < 2 || weight.Dims[1] * groups < options.MinimumInputChannels || options.KeepFloat.Contains(node.Name)) continue;
            // The last conv before the head (global pool, dense layers) stays float: the head sees few values, so
            // their rounding moves the logit most, and that conv is cheap (it works on the smallest volume).
            if (CrossLayerEqualization.NextConv(node, consumers, graphOutputs) is null) continue;
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
