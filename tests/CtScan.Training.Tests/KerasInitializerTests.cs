using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CtScan.Training.Tests;

public sealed class KerasInitializerTests
{
    [Fact]
    public void Apply_SameSeed_SameWeights()
    {
        using var first = Initialized(seed: 42);
        using var second = Initialized(seed: 42);

        foreach (var ((name, a), (_, b)) in first.state_dict().Zip(second.state_dict()))
            Assert.True(a.eq(b).all().item<bool>(), $"{name} differs between two models from seed 42");
    }

    [Fact]
    public void Apply_DifferentSeeds_DifferentKernels()
    {
        using var first = Initialized(seed: 1);
        using var second = Initialized(seed: 2);

        Assert.False(first.state_dict()["block1.0.weight"].eq(second.state_dict()["block1.0.weight"]).all().item<bool>());
    }

    [Fact]
    public void Apply_Kernels_AreGlorotUniform()
    {
        using var model = Initialized(seed: 1337);

        foreach (var (name, weight) in model.named_parameters().Where(p => p.name.EndsWith(".weight", StringComparison.Ordinal) && p.parameter.dim() > 1))
        {
            long receptiveField = weight.shape.Skip(2).Aggregate(1L, (a, b) => a * b);
            double limit = Math.Sqrt(6.0 / ((weight.shape[0] + weight.shape[1]) * receptiveField));
            double max = weight.abs().max().item<float>();
            Assert.True(max <= limit, $"{name}: |w| reaches {max}, above the glorot limit {limit}");
            Assert.True(max > 0.8 * limit, $"{name}: |w| only reaches {max} of the glorot limit {limit}");
        }
    }

    [Fact]
    public void Apply_BiasesAndNormalisation_AreKerasDefaults()
    {
        using var model = Initialized(seed: 1337);

        foreach (var (name, tensor) in model.state_dict())
        {
            float expected = name switch
            {
                _ when name.EndsWith("running_var", StringComparison.Ordinal) => 1,
                _ when name.EndsWith("running_mean", StringComparison.Ordinal) => 0,
                _ when name.EndsWith("num_batches_tracked", StringComparison.Ordinal) => 0,
                _ when name.EndsWith(".bias", StringComparison.Ordinal) => 0,
                _ when name.EndsWith(".3.weight", StringComparison.Ordinal) => 1,  // BatchNorm γ
                _ => float.NaN,
            };
            if (float.IsNaN(expected)) continue;
            Assert.True(tensor.to_type(ScalarType.Float32).eq(expected).all().item<bool>(), $"{name} is not all {expected}");
        }
    }

    [Fact]
    public void BatchNorm_UsesKerasEpsilonAndMomentum()
    {
        using var model = new CtScanNet(ModelTestShapes.Small);

        var norms = model.modules().OfType<BatchNorm3d>().ToList();

        Assert.Equal(4, norms.Count);
        Assert.All(norms, norm => Assert.Equal((1e-3, 0.01), (norm.eps, norm.momentum!.Value)));
    }

    private static CtScanNet Initialized(long seed)
    {
        var model = new CtScanNet(ModelTestShapes.Small);
        KerasInitializer.Apply(model, seed);
        return model;
    }
}
