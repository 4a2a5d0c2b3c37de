using CtScan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CtScan.Training.Tests.Onnx;

/// <summary>
/// Seeded models whose every parameter matters: Keras initialisation, then non-zero conv/dense biases and BatchNorm
/// running statistics and affine parameters far from their 0/1 defaults, so an exporter that drops or misplaces any
/// of them fails parity.
/// </summary>
internal static class TrainedLookingModel
{
    public static CtScanNet Create(ModelOptions options, long seed)
    {
        var model = new CtScanNet(options);
        KerasInitializer.Apply(model, seed);
        var generator = new Generator((ulong)seed + 1);
        using (no_grad())
        {
            foreach (var (name, tensor) in model.state_dict())
            {
                if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
                Tensor Uniform(double low, double high) => rand(tensor.shape, generator: generator) * (high - low) + low;
                if (name.EndsWith("running_mean", StringComparison.Ordinal)) tensor.copy_(Uniform(-0.1, 0.4));
                else if (name.EndsWith("running_var", StringComparison.Ordinal)) tensor.copy_(Uniform(0.3, 2.0));
                else if (name.EndsWith(".3.weight", StringComparison.Ordinal)) tensor.copy_(Uniform(0.5, 1.5));
                else if (name.EndsWith(".3.bias", StringComparison.Ordinal)) tensor.copy_(Uniform(-0.2, 0.2));
                else if (name.EndsWith("bias", StringComparison.Ordinal)) tensor.copy_(Uniform(-0.05, 0.05));
            }
        }
        model.eval();
        return model;
    }

    /// <summary>TorchSharp's eval forward of a C-order batch [count, 1, W, H, D].</summary>
    public static float[] Forward(CtScanNet model, float[] batch, int count)
    {
        var shape = model.Options.Input;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(batch, [count, 1, shape.Width, shape.Height, shape.Depth]);
        return model.call(input).data<float>().ToArray();
    }
}
