using CtScan.Onnx;
using CtScan.Contracts;

namespace CtScan.Training.Onnx;

/// <summary>
/// Writes <see cref="CtScanNet"/> as an inference-only ONNX graph (TorchSharp has no exporter):
/// input [N,1,W,H,D] (or [N,W,H,D,1]) with a dynamic batch N → 4 × [Conv → Relu → MaxPool (→ BatchNormalization)] →
/// GlobalAveragePool → Flatten → Gemm → Relu → Gemm → Sigmoid → output [N,1]. Dropout is gone (identity at
/// inference); with <see cref="OnnxExportOptions.FoldBatchNorm"/> each BatchNorm is folded into the next Conv or
/// into the first Gemm (see <see cref="BatchNormFolding"/>).
/// </summary>
public static class CtScanOnnxExporter
{
    public const string ProducerName = "CtScan.Training";

    /// <summary>The serialized model, ready for ONNX Runtime.</summary>
    public static byte[] Export(CtScanNet model, OnnxExportOptions? options = null) =>
        OnnxWriter.ToBytes(Build(CtScanNetWeights.From(model), options));

    public static OnnxModel Build(CtScanNetWeights weights, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        options = (options ?? new OnnxExportOptions()).Validated();
        var graph = new GraphBuilder();
        var input = weights.Options.Input;
        const string batch = "N";

        string current = options.InputName;
        OnnxDimension[] inputShape = options.Layout == TensorLayout.Ncdhw
            ? [OnnxDimension.Symbol(batch), 1, input.Width, input.Height, input.Depth]
            : [OnnxDimension.Symbol(batch), input.Width, input.Height, input.Depth, 1];
        if (options.Layout == TensorLayout.Ndhwc)
            current = graph.Node("Transpose", "to_channels_first", [current], new OnnxIntsAttribute("perm", [0, 4, 1, 2, 3]));

        ChannelAffine? pending = null; // a BatchNorm waiting to be folded into the next linear layer
        for (int b = 0; b < weights.Blocks.Count; b++)
        {
            string name = $"block{b + 1}";
            var conv = weights.Blocks[b].Conv;
            if (pending is not null) conv = BatchNormFolding.IntoConv(pending, conv);
            pending = null;
            string kernel = graph.Initializer($"{name}.conv.weight", [conv.OutputChannels, conv.InputChannels, conv.KernelSize, conv.KernelSize, conv.KernelSize], conv.Kernel);
            string bias = graph.Initializer($"{name}.conv.bias", [conv.OutputChannels], conv.Bias);
            long k = conv.KernelSize;
            current = graph.Node("Conv", $"{name}.conv", [current, kernel, bias],
                new OnnxIntsAttribute("kernel_shape", [k, k, k]), new OnnxIntsAttribute("pads", [0, 0, 0, 0, 0, 0]),
                new OnnxIntsAttribute("strides", [1, 1, 1]), new OnnxIntsAttribute("dilations", [1, 1, 1]));
            current = graph.Node("Relu", $"{name}.relu", [current]);
            current = graph.Node("MaxPool", $"{name}.pool", [current],
                new OnnxIntsAttribute("kernel_shape", [2, 2, 2]), new OnnxIntsAttribute("strides", [2, 2, 2]));

            var norm = weights.Blocks[b].Norm;
            if (options.FoldBatchNorm)
            {
                pending = ChannelAffine.Of(norm);
                continue;
            }
            current = graph.Node("BatchNormalization", $"{name}.norm",
                [current,
                 graph.Initializer($"{name}.norm.scale", [norm.Channels], norm.Scale),
                 graph.Initializer($"{name}.norm.shift", [norm.Channels], norm.Shift),
                 graph.Initializer($"{name}.norm.mean", [norm.Channels], norm.RunningMean),
                 graph.Initializer($"{name}.norm.variance", [norm.Channels], norm.RunningVariance)],
                new OnnxFloatAttribute("epsilon", (float)norm.Epsilon));
        }

        current = graph.Node("GlobalAveragePool", "gap", [current]);
        current = graph.Node("Flatten", "flatten", [current], new OnnxIntAttribute("axis", 1));
        var dense = pending is null ? weights.Dense : BatchNormFolding.IntoDense(pending, weights.Dense);
        current = Gemm(graph, "dense", current, dense);
        current = graph.Node("Relu", "dense.relu", [current]);
        current = Gemm(graph, "out", current, weights.Output);
        if (options.Output == OutputKind.Sigmoid) current = graph.Node("Sigmoid", "sigmoid", [current]);
        graph.Rename(current, options.OutputName);

        var model = new OnnxGraph("CtScanNet", graph.Nodes, graph.Initializers,
            [new OnnxValueInfo(options.InputName, inputShape)],
            [new OnnxValueInfo(options.OutputName, [OnnxDimension.Symbol(batch), 1])]);
        return new OnnxModel(model, options.Opset, ProducerName, typeof(CtScanOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0")
        {
            Metadata = new Dictionary<string, string>
            {
                ["widthMultiplier"] = weights.Options.WidthMultiplier.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["batchNormFolded"] = options.FoldBatchNorm ? "true" : "false",
            },
        };
    }

    // Gemm with transB = 1 takes PyTorch's Linear weight [outputs, inputs] as it is.
    private static string Gemm(GraphBuilder graph, string name, string input, DenseWeights dense) =>
        graph.Node("Gemm", name,
            [input, graph.Initializer($"{name}.weight", [dense.Outputs, dense.Inputs], dense.Weight), graph.Initializer($"{name}.bias", [dense.Outputs], dense.Bias)],
            new OnnxIntAttribute("transB", 1));

    /// <summary>Collects nodes and initializers; each node's single output is named after the node.</summary>
    private sealed class GraphBuilder
    {
        private readonly List<OnnxNode> _nodes = [];
        private readonly List<OnnxInitializer> _initializers = [];

        public IReadOnlyList<OnnxNode> Nodes => _nodes;
        public IReadOnlyList<OnnxInitializer> Initializers => _initializers;

        public string Initializer(string name, long[] dims, float[] values)
        {
            _initializers.Add(new OnnxInitializer(name, dims, values));
            return name;
        }

        public string Node(string opType, string name, string[] inputs, params OnnxAttribute[] attributes)
        {
            string output = name + ".out";
            _nodes.Add(new OnnxNode(opType, name, inputs, [output]) { Attributes = attributes });
            return output;
        }

        /// <summary>Renames the last node's output to the graph output name.</summary>
        public void Rename(string output, string graphOutput)
        {
            var last = _nodes[^1];
            if (last.Outputs[0] != output) throw new InvalidOperationException($"{output} is not the last node's output");
            _nodes[^1] = last with { Outputs = [graphOutput] };
        }
    }
}
