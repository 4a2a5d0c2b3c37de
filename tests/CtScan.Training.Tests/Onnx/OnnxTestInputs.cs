using CtScan.Phantoms;
using CtScan.Preprocessing;

namespace CtScan.Training.Tests.Onnx;

/// <summary>Model inputs for parity tests: seeded uniform noise in [0, 1], and preprocessed chest phantoms.</summary>
internal static class OnnxTestInputs
{
    public static float[] Random(VolumeShape shape, int seed)
    {
        var random = new Random(seed);
        var values = new float[shape.VoxelCount];
        for (int n = 0; n < values.Length; n++) values[n] = random.NextSingle();
        return values;
    }

    /// <summary>A chest phantom through the seed's preprocessing, zoomed to <paramref name="target"/>.</summary>
    public static float[] Phantom(VolumeShape target, int seed, PhantomLabel label = PhantomLabel.Abnormal)
    {
        var phantom = new ChestPhantom(new ChestPhantomOptions { Shape = new VolumeShape(160, 160, 64), Seed = seed, Label = label });
        var preprocessor = new ScanPreprocessor(new PreprocessingOptions { TargetShape = target });
        return preprocessor.Process(phantom).Tensor.Data;
    }

    public static float[] Concat(params float[][] scans) => [.. scans.SelectMany(s => s)];
}
