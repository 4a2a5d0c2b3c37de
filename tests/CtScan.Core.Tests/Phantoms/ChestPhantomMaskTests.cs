using CtScan.Nifti;
using CtScan.Phantoms;

namespace CtScan.Tests.Phantoms;

public sealed class ChestPhantomMaskTests
{
    private static readonly VolumeShape Shape = new(96, 96, 40);

    [Fact]
    public void ReadMaskSlice_NoiseFreeAbnormal_MarksExactlyVoxelsRaisedHalfWayToGroundGlass()
    {
        var options = new ChestPhantomOptions { Shape = Shape, Seed = 9, Label = PhantomLabel.Abnormal, NoiseHu = 0 };
        double[] hu = new ChestPhantom(options).ToArray();
        var phantom = new ChestPhantom(options);
        var mask = new byte[Shape.SliceVoxelCount];
        int marked = 0;
        const double HalfWay = (ChestPhantom.LungHu + ChestPhantom.GroundGlassHu) / 2;

        for (int k = 0; k < Shape.Depth; k++)
        {
            phantom.ReadMaskSlice(k, mask);
            for (int v = 0; v < mask.Length; v++)
            {
                if (mask[v] == 0) continue;
                marked++;
                Assert.True(hu[k * mask.Length + v] >= HalfWay - 1e-9, $"masked voxel {v} of slice {k} has {hu[k * mask.Length + v]} HU; an opacity raises it to at least {HalfWay}");
            }
        }
        Assert.True(marked > 100, $"only {marked} voxels marked for {phantom.Opacities.Count} opacities");
    }

    [Fact]
    public void ReadMaskSlice_Normal_IsEmpty()
    {
        var phantom = new ChestPhantom(new ChestPhantomOptions { Shape = Shape, Seed = 9, Label = PhantomLabel.Normal });
        var mask = new byte[Shape.SliceVoxelCount];

        for (int k = 0; k < Shape.Depth; k++)
        {
            phantom.ReadMaskSlice(k, mask);
            Assert.All(mask, m => Assert.Equal(0, m));
        }
    }

    [Fact]
    public void WriteMask_BesideTheScan_HasTheScansGridAndAffine()
    {
        var folder = Directory.CreateTempSubdirectory("ctscan-mask-test-");
        try
        {
            string scan = Path.Combine(folder.FullName, "phantom-00009.nii.gz");
            var phantom = ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = Shape, Seed = 9, Label = PhantomLabel.Abnormal });
            string maskPath = ChestPhantomFile.MaskPathFor(scan);

            ChestPhantomFile.WriteMask(maskPath, phantom);

            Assert.Equal(Path.Combine(folder.FullName, "phantom-00009.mask.nii.gz"), maskPath);
            Assert.True(ChestPhantomFile.IsMaskPath(maskPath));
            Assert.False(ChestPhantomFile.IsMaskPath(scan));
            using var image = NiftiImage.Open(scan);
            using var mask = NiftiImage.Open(maskPath);
            Assert.Equal(image.Header.DataShape, mask.Header.DataShape);
            Assert.Equal(image.Header.GetBestAffine().Cast<double>(), mask.Header.GetBestAffine().Cast<double>());
            Assert.Equal(NiftiDataType.UInt8, mask.Header.DataType);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void MaskPathFor_NotNifti_NamesThePath() =>
        Assert.Contains("scan.npy", Assert.Throws<ArgumentException>(() => ChestPhantomFile.MaskPathFor("scan.npy")).Message);
}
