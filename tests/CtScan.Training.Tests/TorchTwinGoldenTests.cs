using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace CtScan.Training.Tests;

/// <summary>
/// Holds the seed-size model against the PyTorch twin (shared/reference/torch_model.py, PyTorch 1.13 from Debian):
/// Golden/torch_twin_golden.json comes from Golden/make_torch_twin_golden.py. Same seed, same generator
/// (mt19937) and the same draw order give bit-identical weights; the forward output may differ in the last bits
/// between libtorch versions.
/// </summary>
public sealed class TorchTwinGoldenTests
{
    private static readonly JsonElement Golden =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "torch_twin_golden.json"))).RootElement;

    [Fact]
    public void KerasInitializer_Seed1337_ReproducesTheTwinsWeights()
    {
        using var model = SeedModel();
        var state = model.state_dict();

        float[] firstValues = [.. state["block1.0.weight"].flatten()[..8].data<float>()];
        Assert.Equal(Golden.GetProperty("block1KernelFirstValues").EnumerateArray().Select(v => v.GetSingle()), firstValues);
        foreach (var expected in Golden.GetProperty("stateSums").EnumerateObject())
        {
            double sum = state[expected.Name].to_type(ScalarType.Float64).sum().item<double>();
            Assert.True(Math.Abs(sum - expected.Value.GetDouble()) <= 1e-9 * Math.Max(1, Math.Abs(sum)),
                $"{expected.Name}: sum {sum:R}, the twin's {expected.Value.GetDouble():R}");
        }
    }

    [Fact]
    public void Forward_SeedSize_HasKerasBlockShapesAndTheTwinsOutput()
    {
        // The one full-size forward of the suite (1–2 s on two cores).
        using var model = SeedModel();
        model.eval();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();

        var features = GoldenInput();
        var shapes = new List<long[]>();
        foreach (var block in model.Blocks)
        {
            features = block.call(features);
            shapes.Add(features.shape);
        }
        var output = model.Classify(features);

        // Keras's (W, H, D, C) is our (C, W, H, D) after the batch axis.
        Assert.Equal([1, 64, 63, 63, 31], shapes[0]);
        Assert.Equal([1, 64, 30, 30, 14], shapes[1]);
        Assert.Equal([1, 128, 14, 14, 6], shapes[2]);
        Assert.Equal([1, 256, 6, 6, 2], shapes[3]);
        Assert.Equal([1, 1], output.shape);
        Assert.Equal(Golden.GetProperty("output").GetDouble(), output.item<float>(), 1e-5);
    }

    private static CtScanNet SeedModel()
    {
        var model = new CtScanNet(ModelOptions.Seed);
        KerasInitializer.Apply(model, seed: Golden.GetProperty("seed").GetInt64());
        return model;
    }

    /// <summary>x[i, j, k] = ((i·131 + j·71 + k·29) mod 256) / 255: exact in both languages, no shared RNG needed.</summary>
    private static Tensor GoldenInput()
    {
        var shape = VolumeShape.SeedTarget;
        var voxels = new float[shape.VoxelCount];
        for (int i = 0; i < shape.Width; i++)
            for (int j = 0; j < shape.Height; j++)
                for (int k = 0; k < shape.Depth; k++)
                    voxels[shape.IndexOf(i, j, k)] = (float)((i * 131 + j * 71 + k * 29) % 256 / 255.0);
        return torch.tensor(voxels, [1, 1, shape.Width, shape.Height, shape.Depth]);
    }
}
