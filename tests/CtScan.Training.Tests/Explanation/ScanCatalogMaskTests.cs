using CtScan.Phantoms;

namespace CtScan.Training.Tests.Explanation;

public sealed class ScanCatalogMaskTests
{
    [Fact]
    public void Discover_PhantomsWithMasks_ListsTheScansOnly()
    {
        var folder = Directory.CreateTempSubdirectory("ctscan-catalog-mask-test-");
        try
        {
            string scan = Path.Combine(folder.FullName, "CT-23", "phantom-00001.nii.gz");
            Directory.CreateDirectory(Path.GetDirectoryName(scan)!);
            var phantom = ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = new VolumeShape(16, 16, 4), Seed = 1, Label = PhantomLabel.Abnormal });
            ChestPhantomFile.WriteMask(ChestPhantomFile.MaskPathFor(scan), phantom);

            var scans = ScanCatalog.Discover(folder.FullName);

            Assert.Equal(scan, Assert.Single(scans).Path);
            Assert.False(ScanCatalog.IsNifti("x.mask.nii.gz"));
            Assert.True(ScanCatalog.IsNifti("x.nii"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
