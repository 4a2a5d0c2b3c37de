using System.Buffers.Binary;
using CtScan.Nifti;

namespace CtScan.Cli.Tests;

public class PhantomsAndMontageTests
{
    [Fact]
    public async Task Phantoms_WritesLabelledFoldersOfReadableScans()
    {
        using var temp = new TempFolder();

        var (exit, _, error) = await CliRunner.RunAsync("phantoms", "--out", temp.Directory.FullName, "--count", "3", "--seed", "10", "--shape", "40", "32", "8");

        Assert.True(exit == 0, error);
        var normal = Directory.GetFiles(temp.Path("CT-0")).Order().ToArray();
        var abnormal = Directory.GetFiles(temp.Path("CT-23"));
        Assert.Equal(["phantom-00010.nii.gz", "phantom-00012.nii.gz"], normal.Select(Path.GetFileName));
        Assert.Equal(["phantom-00011.nii.gz"], abnormal.Select(Path.GetFileName));
        using var image = NiftiImage.Open(abnormal[0]);
        Assert.Equal(new VolumeShape(40, 32, 8), image.VolumeShape);
        Assert.Equal(NiftiDataType.Int16, image.Header.DataType);
        var stats = image.ComputeStatistics();
        Assert.InRange(stats.Min, -1200, -900);  // air
        Assert.InRange(stats.Max, 600, 800);     // bone
    }

    [Fact]
    public async Task Montage_FromAScan_WritesAPngOfTheGrid()
    {
        using var temp = new TempFolder();
        await CliRunner.RunAsync("phantoms", "--out", temp.Directory.FullName, "--count", "1", "--shape", "48", "48", "12");
        var png = temp.Path("m.png");

        var (exit, stdout, error) = await CliRunner.RunAsync("montage", temp.Path("CT-0/phantom-00000.nii.gz"), "-o", png, "--target", "32", "24", "12", "--rows", "2", "--columns", "3");

        Assert.True(exit == 0, error);
        Assert.Contains("2×3", stdout);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal(0x89, bytes[0]);
        // IHDR: width = 3 panels × 24 (axis 1), height = 2 panels × 32 (axis 0).
        Assert.Equal(72, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(64, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public async Task Montage_NotATensor_ExitsWithTheNpyError()
    {
        using var temp = new TempFolder();
        var bogus = temp.Path("x.npy");
        File.WriteAllBytes(bogus, new byte[100]);
        var (exit, _, error) = await CliRunner.RunAsync("montage", bogus, "-o", temp.Path("m.png"));
        Assert.Equal(2, exit);
        Assert.Contains("x.npy", error);
    }
}
