using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CtScan.Training;

/// <summary>
/// Keras's default initialisation, drawn from one seeded generator so a seed reproduces the weights:
/// glorot_uniform kernels (U(−l, l), l = √(6 / (fan_in + fan_out))), zero biases, BatchNorm γ 1, β 0,
/// running mean 0 and variance 1. Same draw order as shared/reference/torch_model.py's keras_like_init.
/// </summary>
public static class KerasInitializer
{
    /// <summary>The seed used when the caller gives none (the Keras example's random seed).</summary>
    public const long DefaultSeed = 1337;

    public static void Apply(nn.Module module, long seed = DefaultSeed)
    {
        using var generator = new Generator(unchecked((ulong)seed));
        using var noGrad = no_grad();
        foreach (var child in DepthFirst(module))
        {
            switch (child)
            {
                case Conv3d conv:
                    GlorotUniform(conv.weight!, generator);
                    conv.bias?.zero_();
                    break;
                case Linear linear:
                    GlorotUniform(linear.weight!, generator);
                    linear.bias?.zero_();
                    break;
                case BatchNorm3d norm:
                    norm.weight?.fill_(1);
                    norm.bias?.zero_();
                    norm.reset_running_stats();
                    break;
            }
        }
    }

    /// <summary>
    /// PyTorch's module order (pre-order, depth first): block1, its conv, …, then dense and out. TorchSharp's
    /// named_modules() lists all children before any grandchild, which would draw the dense kernels first.
    /// </summary>
    private static IEnumerable<nn.Module> DepthFirst(nn.Module module)
    {
        yield return module;
        foreach (var (_, child) in module.named_children())
            foreach (var descendant in DepthFirst(child))
                yield return descendant;
    }

    private static void GlorotUniform(Tensor weight, Generator generator)
    {
        // Kernels are (out, in, k…): fans multiply the channel counts by the receptive field.
        long receptiveField = 1;
        for (int axis = 2; axis < weight.dim(); axis++) receptiveField *= weight.shape[axis];
        long fanIn = weight.shape[1] * receptiveField, fanOut = weight.shape[0] * receptiveField;
        double limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        using var draw = rand(weight.shape, dtype: weight.dtype, generator: generator);
        weight.copy_(draw.mul_(2 * limit).sub_(limit));
    }
}
