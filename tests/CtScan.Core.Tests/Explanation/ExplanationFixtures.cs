using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Scoring;
using CtScan.Validation;

namespace CtScan.Tests.Explanation;

/// <summary>The bundled demo model and phantoms written to a temporary folder for the explanation tests.</summary>
internal static class ExplanationFixtures
{
    public static string DemoModel => Fixtures.Path("..", "..", "models", "demo");

    /// <summary>Writes an abnormal phantom and its mask into <paramref name="folder"/>; returns the scan path and the phantom.</summary>
    public static (string Scan, ChestPhantom Phantom) AbnormalPhantom(string folder, int seed, VolumeShape shape, double noiseHu = 15)
    {
        string scan = Path.Combine(folder, $"phantom-{seed:D5}.nii.gz");
        var phantom = ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = shape, Seed = seed, Label = PhantomLabel.Abnormal, NoiseHu = noiseHu });
        ChestPhantomFile.WriteMask(ChestPhantomFile.MaskPathFor(scan), phantom);
        return (scan, phantom);
    }

    /// <summary>The model input the demo model's intake makes of <paramref name="scan"/>.</summary>
    public static float[] ModelInput(string scan, global::CtScan.Contracts.ModelManifest manifest)
    {
        using var image = NiftiImage.Open(scan);
        return ScanIntake.For(manifest.Preprocessing, manifest.InputGate).Process(image).Scan!.Tensor.Data;
    }

    /// <summary>Reads a NIfTI volume's voxels as floats (file order).</summary>
    public static double[] Voxels(string path)
    {
        using var image = NiftiImage.Open(path);
        var shape = image.VolumeShape;
        var values = new double[shape.VoxelCount];
        var slices = image.OpenVolume();
        for (int k = 0; k < shape.Depth; k++) slices.ReadNextSlice(values.AsSpan(k * shape.SliceVoxelCount, shape.SliceVoxelCount));
        return values;
    }
}

