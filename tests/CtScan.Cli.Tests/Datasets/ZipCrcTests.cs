using System.IO.Compression;
using CtScan.Cli.Datasets;

namespace CtScan.Cli.Tests.Datasets;

public sealed class ZipCrcTests
{
    private static readonly byte[] Data = TestZips.Noise(4096, 7);
    private static readonly byte[] Corrupt = TestZips.FlipBitIn(TestZips.Build(CompressionLevel.NoCompression, ("CT-0/a.nii.gz", Data)), Data[100..132]);

    /// <summary>
    /// The claim behind ZipChecks: .NET's ZipArchive does not check CRC-32 on read. If a later .NET starts to, this test fails
    /// and ZipChecks' own CRC-32 becomes a second check (harmless).
    /// </summary>
    [Fact]
    public void ZipArchive_FlippedBitInStoredEntry_ReadsBackWithoutAnError()
    {
        using var zip = new ZipArchive(new MemoryStream(Corrupt), ZipArchiveMode.Read);
        using var entry = zip.Entries.Single().Open();
        var read = new MemoryStream();
        entry.CopyTo(read);

        Assert.Equal(Data.Length, read.Length);
        Assert.NotEqual(Data, read.ToArray());
    }

    [Fact]
    public async Task VerifyAsync_FlippedBitInStoredEntry_FailsTheCrcCheck()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.Path("CT-0.zip"), Corrupt);

        var error = await Assert.ThrowsAsync<DatasetDownloadException>(() => ZipChecks.VerifyAsync(temp.Path("CT-0.zip"), "CT-0.zip"));

        Assert.Equal("CT-0.zip", error.Archive);
        Assert.StartsWith("CT-0.zip is corrupt: entry 'CT-0/a.nii.gz' fails its CRC-32 check (stored ", error.Message);
    }

    [Fact]
    public async Task VerifyAsync_IntactZip_Passes()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.Path("CT-0.zip"), TestZips.Build(CompressionLevel.Optimal, ("CT-0/a.nii.gz", Data), ("CT-0/b.nii.gz", [])));

        await ZipChecks.VerifyAsync(temp.Path("CT-0.zip"), "CT-0.zip");
    }
}
