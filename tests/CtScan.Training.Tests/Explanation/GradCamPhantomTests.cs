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
/// abnormal phantoms (128×128×64, seeds 1, 3, …, 39) the map's peak, carried back to the scan's own grid, lies inside a
/// ground-glass opacity of the phantom's lesion mask for at least 90 %. Guided Grad-CAM passes (18/20; 20/20 on the
/// even seeds 2–40, which were held out when it was chosen); the plain last-block map cannot (0/20: its 4×4×2 cells
/// are coarser than the opacities). Measured 2026-11-29; docs/explanations.md.
/// </summary>
public sealed class GradCamPhantomTests(ITestOutputHelper output)
{
    private const int Count = 20;

    private static string DemoModel
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
                if (File.Exists(Path.Combine(folder.FullName, "CtFunctions.sln"))) return Path.Combine(folder.FullName, "models", "demo");
            throw new DirectoryNotFoundException($"no CtFunctions.sln above {AppContext.BaseDirectory}");
        }
    }

    [Fact]
    public void GuidedGradCam_TwentyAbnormalPhantoms_PeakInsideAnOpacityForAtLeast90Percent()
    {
        int hits = PeaksInsideOpacities(ExplanationMethods.GuidedGradCam);
        Assert.True(hits >= 18, $"{hits}/{Count} Guided Grad-CAM peaks inside an opacity (needs 18)");
    }

    [Fact(Skip = "plain Grad-CAM: 0/20 peaks inside an opacity; its 4×4×2 map is coarser than the opacities (measured 2026-11-29; docs/explanations.md). Guided Grad-CAM passes.")]
    public void GradCam_TwentyAbnormalPhantoms_PeakInsideAnOpacityForAtLeast90Percent()
    {
        int hits = PeaksInsideOpacities(ExplanationMethods.GradCam);
        Assert.True(hits >= 18, $"{hits}/{Count} Grad-CAM peaks inside an opacity (needs 18)");
    }

    private int PeaksInsideOpacities(string methodName)
    {
        var folder = Directory.CreateTempSubdirectory("ctscan-gradcam-phantoms-");
        try
        {
            using var method = SaliencyMethodFactory.Open(DemoModel, methodName);
            Assert.Equal(methodName, Assert.IsType<GradCam>(method).Method);
            var manifest = CtScan.Scoring.ModelFolder.ReadManifest(DemoModel);
            var explainer = new ScanExplainer(method, manifest);
            int hits = 0;
            for (int n = 0; n < Count; n++)
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
            output.WriteLine($"{methodName}: {hits}/{Count} peaks inside an opacity");
            return hits;
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
