using static TorchSharp.torch;

namespace CtScan.Training.Onnx;

/// <summary>A 3-D convolution's weights: kernel [out, in, k, k, k] C order, and a bias per output channel.</summary>
public sealed record ConvWeights(float[] Kernel, float[] Bias, int OutputChannels, int InputChannels, int KernelSize)
{
    public int KernelVolume => KernelSize * KernelSize * KernelSize;
}

/// <summary>A BatchNorm layer in eval mode: y = (x − mean) / √(variance + ε) · scale + shift, per channel.</summary>
public sealed record BatchNormWeights(float[] Scale, float[] Shift, float[] RunningMean, float[] RunningVariance, double Epsilon)
{
    public int Channels => Scale.Length;
}

/// <summary>A dense layer: weight [outputs, inputs] C order (PyTorch's Linear), bias per output.</summary>
public sealed record DenseWeights(float[] Weight, float[] Bias, int Outputs, int Inputs);

/// <summary>One convolution block: Conv3d → ReLU → MaxPool 2 → BatchNorm.</summary>
public sealed record BlockWeights(ConvWeights Conv, BatchNormWeights Norm);

/// <summary>
/// Every number <see cref="CtScanNet"/> uses in eval mode, copied out of TorchSharp as plain arrays, so export and BN
/// folding are ordinary arithmetic that tests can check without a model.
/// </summary>
public sealed record CtScanNetWeights(ModelOptions Options, IReadOnlyList<BlockWeights> Blocks, DenseWeights Dense, DenseWeights Output)
{
    /// <summary>Copies the weights of <paramref name="model"/> (its state dictionary: block1.0.weight, …, out.bias).</summary>
    public static CtScanNetWeights From(CtScanNet model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = model.state_dict();
        float[] Read(string key) => state.TryGetValue(key, out var tensor)
            ? tensor.detach().cpu().to_type(ScalarType.Float32).data<float>().ToArray()
            : throw new KeyNotFoundException($"the model has no parameter {key}; it has [{string.Join(", ", state.Keys)}]");

        var filters = model.Options.BlockFilters;
        var blocks = new List<BlockWeights>();
        int inputChannels = 1;
        for (int b = 0; b < filters.Count; b++)
        {
            string prefix = $"block{b + 1}";
            var conv = new ConvWeights(Read($"{prefix}.0.weight"), Read($"{prefix}.0.bias"), filters[b], inputChannels, 3);
            var norm = new BatchNormWeights(Read($"{prefix}.3.weight"), Read($"{prefix}.3.bias"),
                Read($"{prefix}.3.running_mean"), Read($"{prefix}.3.running_var"), CtScanNet.BatchNormEpsilon);
            blocks.Add(new BlockWeights(conv, norm));
            inputChannels = filters[b];
        }
        var dense = new DenseWeights(Read("dense.weight"), Read("dense.bias"), model.Options.DenseUnits, filters[^1]);
        var output = new DenseWeights(Read("out.weight"), Read("out.bias"), 1, model.Options.DenseUnits);
        return new CtScanNetWeights(model.Options, blocks, dense, output);
    }
}
