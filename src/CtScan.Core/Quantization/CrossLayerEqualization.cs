using CtScan.Onnx;

namespace CtScan.Quantization;

/// <summary>
/// Cross-layer equalization (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias Correction",
/// 2019): for two convs joined only by Relu and MaxPool (both commute with a positive per-channel scale), output
/// channel c of the first is divided by s_c and input channel c of the second multiplied by it, with
/// s_c = √(r1_c / r2_c) (r: the channel's largest |weight|), so both end up with range √(r1_c·r2_c). The float
/// function is unchanged. Needed because our exporter folds each BatchNorm into the next conv's input channels: in the
/// demo model those differ up to 500× in size, and per-output-channel int8 rounded the small ones to zero.
/// </summary>
public static class CrossLayerEqualization
{
    /// <summary>Rounds over all pairs; each round moves the ranges closer together (three are plenty for a chain of four).</summary>
    public const int DefaultRounds = 3;

    public static OnnxModel Apply(OnnxModel model, int rounds = DefaultRounds)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var values = graph.Initializers.Where(i => i.DataType == OnnxDataType.Float).ToDictionary(i => i.Name, i => i.Values);
        var consumers = graph.Nodes.SelectMany(n => n.Inputs.Select(i => (Input: i, Node: n))).ToLookup(p => p.Input, p => p.Node);
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        var pairs = new List<(OnnxNode First, OnnxNode Second)>();
        foreach (var conv in graph.Nodes.Where(IsPlainConv))
            if (NextConv(conv, consumers, graphOutputs) is { } next && IsPlainConv(next)) pairs.Add((conv, next));

        bool IsPlainConv(OnnxNode node) =>
            node.OpType == "Conv" && node.Inputs.Count >= 2 && values.ContainsKey(node.Inputs[1])
            && (node.Inputs.Count < 3 || node.Inputs[2].Length == 0 || values.ContainsKey(node.Inputs[2]))
            && (node.Attributes.OfType<OnnxIntAttribute>().FirstOrDefault(a => a.Name == "group")?.Value ?? 1) == 1;

        var dims = graph.Initializers.ToDictionary(i => i.Name, i => i.Dims);
        for (int round = 0; round < rounds; round++)
        {
            foreach (var (first, second) in pairs)
            {
                float[] w1 = values[first.Inputs[1]], w2 = values[second.Inputs[1]];
                int channels = (int)dims[first.Inputs[1]][0];
                if (dims[second.Inputs[1]][1] != channels) continue;
                int perOutput = w1.Length / channels;
                int outputs2 = (int)dims[second.Inputs[1]][0], perInput2 = w2.Length / outputs2 / channels;
                float[]? bias = first.Inputs.Count > 2 && first.Inputs[2].Length > 0 ? values[first.Inputs[2]] : null;
                for (int c = 0; c < channels; c++)
                {
                    float r1 = MaxAbs(w1.AsSpan(c * perOutput, perOutput)), r2 = 0;
                    for (int o = 0; o < outputs2; o++) r2 = Math.Max(r2, MaxAbs(w2.AsSpan((o * channels + c) * perInput2, perInput2)));
                    if (r1 <= 0 || r2 <= 0) continue; // a dead channel: nothing to balance
                    float s = MathF.Sqrt(r1 / r2);
                    foreach (ref float v in w1.AsSpan(c * perOutput, perOutput)) v /= s;
                    if (bias is not null) bias[c] /= s;
                    for (int o = 0; o < outputs2; o++)
                        foreach (ref float v in w2.AsSpan((o * channels + c) * perInput2, perInput2)) v *= s;
                }
            }
        }
        var initializers = graph.Initializers.Select(i => values.TryGetValue(i.Name, out var v) ? new OnnxInitializer(i.Name, i.Dims, v) : i).ToList();
        return model with { Graph = graph with { Initializers = initializers } };
    }

    /// <summary>The conv that the output of <paramref name="conv"/> reaches through single-consumer Relu/MaxPool nodes.</summary>
    internal static OnnxNode? NextConv(OnnxNode conv, ILookup<string, OnnxNode> consumers, IReadOnlySet<string> graphOutputs)
    {
        string tensor = conv.Outputs[0];
        while (!graphOutputs.Contains(tensor) && consumers[tensor].ToList() is [var next])
        {
            if (next.OpType == "Conv") return next.Inputs[0] == tensor ? next : null;
            if (next.OpType is not ("Relu" or "MaxPool") || next.Outputs.Count != 1) return null;
            tensor = next.Outputs[0];
        }
        return null;
    }

    private static float MaxAbs(ReadOnlySpan<float> values)
    {
        float max = 0;
        foreach (float v in values) max = Math.Max(max, Math.Abs(v));
        return max;
    }
}
