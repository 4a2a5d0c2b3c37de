using CtScan.Nifti;

namespace CtScan.Tests.Nifti;

/// <summary>Files written by <see cref="NiftiWriter"/> read back exactly, for every datatype, byte order, version
/// and file layout.</summary>
public sealed class RoundTripTests : IDisposable
{
    private static readonly long[] Shape = [5, 4, 3];
    private readonly string _dir = Directory.CreateTempSubdirectory("nifti-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<NiftiDataType, bool, int, string> Cases()
    {
        var data = new TheoryData<NiftiDataType, bool, int, string>();
        foreach (var type in NiftiDataTypes.Supported)
            foreach (var little in new[] { true, false })
                foreach (var version in new[] { 1, 2 })
                    foreach (var suffix in new[] { ".nii", ".nii.gz", ".hdr", ".img.gz" })
                        data.Add(type, little, version, suffix);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WriteThenOpen_AnyTypeOrderVersionLayout_ValuesAndHeaderRoundTrip(
        NiftiDataType type, bool littleEndian, int version, string suffix)
    {
        var path = Path.Combine(_dir, "image" + suffix);
        var options = new NiftiWriteOptions
        {
            Shape = Shape, Version = version, LittleEndian = littleEndian, VoxelSize = [0.5, 0.75, 2.5],
            Descrip = "round trip", QformCode = 1, Quaternion = (0, 0, 1), QOffset = (1, 2, 3),
        };
        var expected = Samples.Write(type, path, options, scale: null);

        using var image = NiftiImage.Open(path);
        Assert.Equal(version, image.Header.NiftiVersion);
        Assert.Equal(littleEndian, image.Header.IsLittleEndian);
        Assert.Equal(type, image.Header.DataType);
        Assert.Equal(suffix is ".hdr" or ".img.gz", image.Header.IsPairFormat);
        Assert.Equal(Shape, image.Header.DataShape);
        Assert.Equal("round trip", image.Header.Descrip);
        Assert.Equal((0.5, 0.75, 2.5), image.Header.SpacingMm);
        Assert.Equal(expected, NiftiTestData.ReadAll(image));
        var stats = image.ComputeStatistics(); // second pass: reopens the file
        Assert.Equal(expected.Min(), stats.Min);
        Assert.Equal(expected.Max(), stats.Max);
        // quaternion (0,0,1) rotates 180° about z: x and y flip
        var affine = image.Header.GetBestAffine();
        Assert.Equal(-0.5, affine[0, 0], 1e-12);
        Assert.Equal(-0.75, affine[1, 1], 1e-12);
        Assert.Equal(2.5, affine[2, 2], 1e-12);
        Assert.Equal(3.0, affine[2, 3]);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void WriteThenRead_Scaled_AppliesFloat32SlopeAndInterceptInFloat64(NiftiDataType type)
    {
        var path = Path.Combine(_dir, "scaled.nii");
        var options = new NiftiWriteOptions { Shape = Shape, SclSlope = 0.1, SclInter = -1024.3 };
        var expected = Samples.Write(type, path, options, scale: ((float)0.1, (float)-1024.3));
        using var image = NiftiImage.Open(path);
        Assert.Equal(new ScaleFactors((float)0.1, (float)-1024.3), image.Scaling);
        Assert.Equal(expected, NiftiTestData.ReadAll(image));
    }

    public static TheoryData<NiftiDataType> Types() => new(NiftiDataTypes.Supported);

    [Theory]
    [InlineData(0.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Open_SlopeZeroNaNOrInfinite_IsUnscaled(double slope)
    {
        var path = Path.Combine(_dir, "unscaled.nii");
        short[] data = [1, -2, 3, 4];
        NiftiWriter.Write<short>(path, data, new NiftiWriteOptions { Shape = [4], SclSlope = slope, SclInter = 100 });
        using var image = NiftiImage.Open(path);
        Assert.Null(image.Scaling);
        Assert.Equal([1.0, -2, 3, 4], NiftiTestData.ReadAll(image));
    }

    [Fact]
    public void Open_Extensions_ListedWithCodeAndPaddedSize()
    {
        var path = Path.Combine(_dir, "ext.nii.gz");
        NiftiWriter.Write<byte>(path, [1, 2, 3], new NiftiWriteOptions
        {
            Shape = [3], Extensions = [(6, "hello"u8.ToArray()), (4, new byte[20])],
        });
        using var image = NiftiImage.Open(path);
        Assert.Equal([new NiftiExtension(6, 16), new NiftiExtension(4, 32)], image.Extensions);
        Assert.Equal(352 + 48, image.Header.DataOffset);
        Assert.Equal([1.0, 2, 3], NiftiTestData.ReadAll(image));
    }

    [Fact]
    public void OpenVolume_TwoDimensionalImage_IsOneSlice()
    {
        var path = Path.Combine(_dir, "flat.nii");
        NiftiWriter.Write<float>(path, [1, 2, 3, 4, 5, 6], new NiftiWriteOptions { Shape = [3, 2] });
        using var image = NiftiImage.Open(path);
        var volume = image.OpenVolume();
        Assert.Equal(new VolumeShape(3, 2, 1), volume.Shape);
        var slice = new double[6];
        volume.ReadNextSlice(slice);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], slice);
        Assert.Throws<InvalidOperationException>(() => volume.ReadNextSlice(slice));
    }

    [Fact]
    public void OpenVolume_FourDimensionalWithSingleVolume_NeedsNoIndex()
    {
        var path = Path.Combine(_dir, "single4d.nii");
        NiftiWriter.Write<short>(path, [1, 2, 3, 4], new NiftiWriteOptions { Shape = [2, 2, 1, 1, 1] });
        using var image = NiftiImage.Open(path);
        Assert.Equal(new VolumeShape(2, 2, 1), image.OpenVolume().Shape);
    }

    [Fact]
    public void OpenVolume_VolumeIndex_SkipsToThatVolume()
    {
        var path = Path.Combine(_dir, "series.nii.gz");
        var data = Enumerable.Range(0, 2 * 2 * 3 * 4).Select(i => (short)i).ToArray();
        NiftiWriter.Write<short>(path, data, new NiftiWriteOptions { Shape = [2, 2, 3, 4] });
        using var image = NiftiImage.Open(path);
        var volume = image.OpenVolume(2);
        var slice = new double[4];
        volume.ReadNextSlice(slice);
        volume.ReadNextSlice(slice);
        Assert.Equal([28.0, 29, 30, 31], slice); // volume 2 starts at 24; its second slice at 28
    }

    [Fact]
    public void Read_MultiMemberGzip_ReadsAllMembers()
    {
        var nii = new MemoryStream();
        var data = Enumerable.Range(0, 4000).Select(i => (short)(i % 700)).ToArray();
        NiftiWriter.WriteSingle<short>(nii, data, new NiftiWriteOptions { Shape = [20, 20, 10] });
        var bytes = nii.ToArray();
        var gz = new MemoryStream();
        gz.Write(GzipBytes.Compress(bytes.AsSpan(0, 3000)));
        gz.Write(GzipBytes.Compress(bytes.AsSpan(3000)));
        gz.Position = 0;

        using var image = NiftiImage.Read(gz, "members.nii.gz");
        Assert.Equal(data.Select(v => (double)v), NiftiTestData.ReadAll(image));
    }
}
