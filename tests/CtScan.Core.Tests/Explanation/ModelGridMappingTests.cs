using CtScan.Explanation;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Preprocessing;
using CtScan.Validation;

namespace CtScan.Tests.Explanation;

public sealed class ModelGridMappingTests
{
    private static readonly PreprocessingOptions Lps = new() { TargetShape = new VolumeShape(64, 64, 46), TargetOrientation = "LPS" };

    /// <summary>
    /// The preprocessed scan carried back to the file's grid must match the windowed scan itself (up to the zoom's
    /// blur): a wrong rotation direction, flip or axis order would put the spine and body outline elsewhere.
    /// </summary>
    [Theory]
    [InlineData(160, 128, 64, false)] // non-square plane: the rotation's crop and padding matter
    [InlineData(128, 128, 64, true)]  // stored RAS, the model wants LPS: reorientation is undone too
    public void ToSource_PreprocessedPhantom_MatchesTheWindowedScan(int width, int height, int depth, bool storeRas)
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "scan.nii.gz");
        var shape = new VolumeShape(width, height, depth);
        var phantom = new ChestPhantom(new ChestPhantomOptions { Shape = shape, Seed = 4, Label = PhantomLabel.Abnormal, NoiseHu = 0 });
        double[] hu = phantom.ToArray();
        if (storeRas) WriteRas(path, hu, shape);
        else ChestPhantomFile.Write(path, phantom.Options);
        using var image = NiftiImage.Open(path);
        var tensor = new ScanIntake(Lps).Process(image).Scan!.Tensor.Data;
        double[] stored = ExplanationFixtures.Voxels(path);

        var back = ModelGridMapping.For(image.Header, image.VolumeShape, Lps).ToSource(tensor);

        double error = 0, mirrored = 0;
        for (int k = 0, v = 0; k < depth; k++)
            for (int j = 0; j < height; j++)
                for (int i = 0; i < width; i++, v++)
                {
                    double windowed = Math.Clamp((stored[v] + 1000) / 1400, 0, 1);
                    error += Math.Abs(windowed - back[v]);
                    mirrored += Math.Abs(windowed - back[(width - 1 - i) + width * ((height - 1 - j) + height * k)]);
                }
        Assert.True(error / stored.Length < 0.03, $"mean |windowed − mapped back| = {error / stored.Length:F4}; expected < 0.03");
        Assert.True(mirrored > 1.8 * error, $"the in-plane mirror image fits nearly as well ({mirrored / stored.Length:F4} vs {error / stored.Length:F4}): the check cannot tell orientations apart");
    }

    [Fact]
    public void ToModel_SeedSquarePlane_RotatesAndZooms()
    {
        var mapping = new ModelGridMapping(new VolumeShape(128, 128, 64), null, (0.7, 0.7, 5), new PreprocessingOptions { TargetShape = new VolumeShape(64, 64, 46) });

        // scipy's rotate by 90 (reshape=False) reads output (o0, o1) from input (o1, 127 − o0): input (x0, x1) lands at (127 − x1, x0).
        var (i, j, k) = mapping.ToModel(10, 20, 63);

        Assert.Equal((127 - 20) * 63.0 / 127, i, 9);
        Assert.Equal(10 * 63.0 / 127, j, 9);
        Assert.Equal(45, k, 9);
    }

    [Fact]
    public void ToSource_WrongLength_NamesBothSizes()
    {
        var mapping = new ModelGridMapping(new VolumeShape(50, 50, 50), null, (1, 1, 1), new PreprocessingOptions { TargetShape = new VolumeShape(46, 46, 46) });

        var error = Assert.Throws<ArgumentException>(() => mapping.ToSource(new float[10]));

        Assert.Contains("10 values", error.Message);
        Assert.Contains("46×46×46", error.Message);
    }

    /// <summary>Writes <paramref name="lpsHu"/> (laid out as the phantom: i to the left, j posterior) flipped to RAS storage.</summary>
    private static void WriteRas(string path, double[] lpsHu, VolumeShape shape)
    {
        var ras = new short[lpsHu.Length];
        int w = shape.Width, h = shape.Height;
        for (int k = 0, v = 0; k < shape.Depth; k++)
            for (int j = 0; j < h; j++)
                for (int i = 0; i < w; i++, v++)
                    ras[v] = (short)Math.Round(lpsHu[(w - 1 - i) + w * ((h - 1 - j) + h * k)]);
        NiftiWriter.Write<short>(path, ras, new NiftiWriteOptions
        {
            Shape = [w, h, shape.Depth],
            VoxelSize = [0.7, 0.7, 5],
            SformCode = 1,
            Sform = [0.7, 0, 0, -44, 0, 0.7, 0, -44, 0, 0, 5, -150],
        });
    }
}

/// <summary>A temporary folder deleted at the end of the test.</summary>
internal sealed class TempFolder : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("ctscan-explain-test-");

    public string Path => _directory.FullName;

    public void Dispose() => _directory.Delete(recursive: true);
}
