using System.Buffers.Binary;
using CtScan.Nifti;

namespace CtScan.Tests.Nifti;

/// <summary>One hand-made bad file per failure: the exception type and the key words of its message.</summary>
public class BadInputTests
{
    private const string Name = "bad.nii";

    /// <summary>A valid little-endian int16 single file of 8×6×4 voxels (values 0..191).</summary>
    private static byte[] ValidFile(int version = 1, bool littleEndian = true)
    {
        var stream = new MemoryStream();
        var data = Enumerable.Range(0, 8 * 6 * 4).Select(i => (short)i).ToArray();
        NiftiWriter.WriteSingle<short>(stream, data, new NiftiWriteOptions { Shape = [8, 6, 4], Version = version, LittleEndian = littleEndian });
        return stream.ToArray();
    }

    private static NiftiLayout Layout(int version) => NiftiLayout.ForVersion(version);

    private static NiftiFormatException ReadFails(byte[] bytes, NiftiReadOptions? options = null, string name = Name) =>
        Assert.Throws<NiftiFormatException>(() =>
        {
            using var image = NiftiImage.Read(new MemoryStream(bytes), name, options);
            image.ComputeStatistics();
        });

    private static void AssertMessage(NiftiFormatException e, string field, params string[] words)
    {
        Assert.Equal(field, e.Field);
        Assert.Contains(Name, e.Message);
        foreach (var word in words) Assert.Contains(word, e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Read_WrongMagic_Throws(int version)
    {
        var bytes = ValidFile(version);
        "xx"u8.CopyTo(bytes.AsSpan(Layout(version).Magic));
        AssertMessage(ReadFails(bytes), "magic", "'xx", $"n+{version}", $"ni{version}");
    }

    [Fact]
    public void Read_WrongSizeofHdr_Throws()
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteInt32LittleEndian(bytes, 349);
        AssertMessage(ReadFails(bytes), "sizeof_hdr", "349", "348", "540");
    }

    [Theory]
    [InlineData(1, 200, "348")]
    [InlineData(2, 400, "540")]
    [InlineData(1, 2, "348")]
    public void Read_TruncatedHeader_Throws(int version, int keep, string expected)
    {
        var bytes = ValidFile(version)[..keep];
        AssertMessage(ReadFails(bytes), "header", "truncated", expected, $"found {keep}");
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public void Read_TruncatedData_ThrowsWithExpectedAndFoundBytes(int version, bool littleEndian)
    {
        var bytes = ValidFile(version, littleEndian)[..^10];
        AssertMessage(ReadFails(bytes), "data", "truncated", "expected 384 bytes", "found 374");
    }

    [Fact]
    public void OpenVolume_TruncatedData_ThrowsOnTheShortSlice()
    {
        using var image = NiftiImage.Read(new MemoryStream(ValidFile()[..^100]), Name);
        var volume = image.OpenVolume();
        var slice = new double[volume.Shape.SliceVoxelCount];
        volume.ReadNextSlice(slice); // slices are 96 bytes: two whole ones remain, the third is 92 bytes
        volume.ReadNextSlice(slice);
        AssertMessage(Assert.Throws<NiftiFormatException>(() => volume.ReadNextSlice(slice)), "data", "expected 384", "found 284");
    }

    [Theory]
    [InlineData(NiftiDataType.Rgb24, 24, "RGB24")]
    [InlineData(NiftiDataType.Complex64, 64, "complex64")]
    [InlineData(NiftiDataType.Float128, 128, "float128")]
    [InlineData((NiftiDataType)3, 8, "code 3")]
    public void Read_UnsupportedDatatype_ThrowsListingSupported(NiftiDataType type, short bitpix, string typeName)
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(Layout(1).DataType), (short)type);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(Layout(1).BitPix), bitpix);
        AssertMessage(ReadFails(bytes), "datatype", $"datatype {(short)type} ({typeName}) is not supported",
            "supported: uint8 (2), int8 (256), int16 (4)", "float64 (64)");
    }

    [Fact]
    public void Read_BitpixInconsistent_Throws()
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(Layout(1).BitPix), 32);
        AssertMessage(ReadFails(bytes), "bitpix", "bitpix is 32", "int16 needs 16");
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(3, -1)]
    public void Read_UsedDimNotPositive_Throws(int axis, short value)
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(Layout(1).Dim + 2 * axis), value);
        AssertMessage(ReadFails(bytes), "dim", $"dim[{axis}] is {value}", "at least 1");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(-3)]
    public void Read_RankOutOfRange_Throws(short rank)
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(Layout(1).Dim), rank);
        AssertMessage(ReadFails(bytes), "dim", $"dim[0] (number of dimensions) is {rank}", "1..7");
    }

    [Fact]
    public void Read_DataOverConfiguredLimit_Throws()
    {
        var options = new NiftiReadOptions { MaxVoxelDataBytes = 100 };
        AssertMessage(ReadFails(ValidFile(), options), "dim", "8×6×4 int16", "384 bytes", "MaxVoxelDataBytes", "100 bytes");
    }

    [Fact]
    public void Read_HeaderDeclaring2To40Voxels_ThrowsBeforeAllocating()
    {
        var bytes = ValidFile(version: 2);
        var layout = Layout(2);
        long[] dims = [3, 1L << 14, 1L << 14, 1L << 12];
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(layout.Dim + 8 * i), dims[i]);
        var stream = new MemoryStream(bytes);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<NiftiFormatException>(() => NiftiImage.Read(stream, Name));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        AssertMessage(e, "dim", "16384×16384×4096", "2199023255552 bytes", "2147483648 bytes");
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(1, 100f)]
    [InlineData(2, 300f)]
    [InlineData(1, 352.5f)]
    public void Read_VoxOffsetInsideHeaderOrFractional_Throws(int version, float offset)
    {
        var bytes = ValidFile(version);
        var layout = Layout(version);
        if (version == 1) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(layout.VoxOffset), offset);
        else BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(layout.VoxOffset), (long)offset);
        AssertMessage(ReadFails(bytes), "vox_offset", $"vox_offset is {offset}");
    }

    [Fact]
    public void Read_ValidSlopeWithNaNIntercept_Throws()
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(Layout(1).SclSlope), 2f);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(Layout(1).SclInter), float.NaN);
        AssertMessage(ReadFails(bytes), "scl_inter", "scl_slope is 2", "NaN", "finite intercept");
    }

    [Fact]
    public void Read_PairHeaderFromStream_Throws()
    {
        var bytes = ValidFile();
        "ni1\0"u8.CopyTo(bytes.AsSpan(Layout(1).Magic));
        AssertMessage(ReadFails(bytes), "magic", "'ni1'", ".hdr/.img pair");
    }

    [Fact]
    public void Read_CorruptDeflateBody_ThrowsGzipError()
    {
        var gz = BigGzipFile();
        gz[gz.Length * 3 / 4] ^= 0x5A;
        var e = ReadFails(gz, name: "bad.nii.gz");
        Assert.Equal("gzip", e.Field);
        Assert.Contains("bad.nii.gz", e.Message);
        Assert.Contains("gzip", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void Read_GzipTrailerMissingOrShort_ThrowsTruncated(int cut)
    {
        var e = ReadFails(BigGzipFile()[..^cut], name: "bad.nii.gz");
        Assert.Equal("gzip", e.Field);
        Assert.Contains("bad.nii.gz", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Read_GzipTruncatedInBody_ThrowsTruncated()
    {
        var gz = BigGzipFile();
        var e = ReadFails(gz[..(gz.Length / 2)], name: "bad.nii.gz");
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData(8)] // first byte of the CRC-32
    [InlineData(5)] // last byte of the CRC-32
    [InlineData(2)] // ISIZE
    public void Read_GzipTrailerMismatch_ThrowsCorrupt(int fromEnd)
    {
        var gz = BigGzipFile();
        gz[^fromEnd] ^= 0xFF;
        var e = ReadFails(gz, name: "bad.nii.gz");
        Assert.Equal("gzip", e.Field);
        Assert.Contains("CRC-32", e.Message);
    }

    [Fact]
    public void Read_GzipWithTrailingGarbage_Throws()
    {
        var e = ReadFails([.. BigGzipFile(), 1, 2, 3], name: "bad.nii.gz");
        Assert.Equal("gzip", e.Field);
        Assert.Contains("trailing bytes", e.Message);
    }

    [Fact]
    public void OpenVolume_LastSliceOfGzipFile_VerifiesTrailer()
    {
        using var image = NiftiImage.Read(new MemoryStream(BigGzipFile()[..^4]), "bad.nii.gz");
        var volume = image.OpenVolume();
        var slice = new double[volume.Shape.SliceVoxelCount];
        for (var k = 0; k < volume.Shape.Depth - 1; k++) volume.ReadNextSlice(slice);
        Assert.Contains("truncated", Assert.Throws<NiftiFormatException>(() => volume.ReadNextSlice(slice)).Message);
    }

    [Fact]
    public void OpenVolume_SeveralVolumesWithoutIndex_ThrowsNamingTheRange()
    {
        using var image = NiftiImage.Open(Fixtures.RealNifti("functional.nii"));
        var e = Assert.Throws<NiftiFormatException>(() => image.OpenVolume());
        Assert.Contains("functional.nii", e.Message);
        Assert.Contains("4-D with 20 volumes", e.Message);
        Assert.Contains("pass a volume index 0..19", e.Message);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(-1)]
    public void OpenVolume_IndexOutOfRange_Throws(int index)
    {
        using var image = NiftiImage.Open(Fixtures.RealNifti("functional.nii"));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => image.OpenVolume(index));
        Assert.Contains("20 volume(s)", e.Message);
        Assert.Contains("0..19", e.Message);
    }

    [Fact]
    public void OpenVolume_SecondPassOverCallerStream_Throws()
    {
        using var image = NiftiImage.Read(new MemoryStream(ValidFile()), Name);
        image.ComputeStatistics();
        Assert.Throws<InvalidOperationException>(() => image.OpenVolume());
    }

    [Fact]
    public void ReadNextSlice_Cancelled_Throws()
    {
        using var image = NiftiImage.Read(new MemoryStream(ValidFile()), Name);
        var volume = image.OpenVolume();
        Assert.Throws<OperationCanceledException>(() => volume.ReadNextSlice(new double[48], new CancellationToken(canceled: true)));
    }

    [Fact]
    public void ReadNextSlice_WrongDestinationLength_Throws()
    {
        using var image = NiftiImage.Read(new MemoryStream(ValidFile()), Name);
        Assert.Throws<ArgumentException>(() => image.OpenVolume().ReadNextSlice(new double[47]));
    }

    [Fact]
    public void ComputeStatistics_NaNAndInfinityVoxels_AreCountedNotErrors()
    {
        var stream = new MemoryStream();
        float[] data = [1, float.NaN, float.PositiveInfinity, -2, float.NaN, float.NegativeInfinity, 5, 0];
        NiftiWriter.WriteSingle<float>(stream, data, new NiftiWriteOptions { Shape = [2, 2, 2] });
        stream.Position = 0;
        using var image = NiftiImage.Read(stream, Name);
        var stats = image.ComputeStatistics();
        Assert.Equal(8, stats.VoxelCount);
        Assert.Equal(2, stats.NaNCount);
        Assert.Equal(1, stats.PositiveInfinityCount);
        Assert.Equal(1, stats.NegativeInfinityCount);
        Assert.Equal(double.NegativeInfinity, stats.Min);
        Assert.Equal(double.PositiveInfinity, stats.Max);
        Assert.True(double.IsNaN(stats.Sum)); // +inf + −inf
    }

    [Fact]
    public void Diagnose_SoftProblems_AreReportedNotThrown()
    {
        var bytes = ValidFile();
        var layout = Layout(1);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(layout.PixDim), 0f);     // qfac 0
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(layout.PixDim + 8), -2f); // pixdim[2] < 0
        using var image = NiftiImage.Read(new MemoryStream(bytes), Name);
        var problems = image.Header.Diagnose();
        Assert.Contains(problems, p => p is { Level: ProblemLevel.Info, Field: "pixdim" } && p.Message.Contains("qfac"));
        Assert.Contains(problems, p => p is { Level: ProblemLevel.Warning, Field: "pixdim" } && p.Message.Contains("pixdim[2]"));
        Assert.DoesNotContain(problems, p => p.Level == ProblemLevel.Error);
        Assert.Equal(192 * 191 / 2, image.ComputeStatistics().Sum);
    }

    [Fact]
    public void Diagnose_BrokenHeader_ListsEveryError()
    {
        var bytes = ValidFile();
        var layout = Layout(1);
        "xx"u8.CopyTo(bytes.AsSpan(layout.Magic));
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(layout.DataType), (short)NiftiDataType.Rgb24);
        var problems = NiftiHeader.Parse(bytes).Diagnose();
        Assert.Equal(["magic", "datatype"], problems.Where(p => p.Level == ProblemLevel.Error).Select(p => p.Field));
    }

    /// <summary>A gzipped single file whose compressed body is large (varied data), so a flip lands in deflate data.</summary>
    private static byte[] BigGzipFile()
    {
        var random = new Random(7);
        var data = new short[64 * 64 * 8];
        for (var i = 0; i < data.Length; i++) data[i] = (short)random.Next(-1000, 1000);
        var stream = new MemoryStream();
        NiftiWriter.WriteSingle<short>(stream, data, new NiftiWriteOptions { Shape = [64, 64, 8] });
        return GzipBytes.Compress(stream.ToArray());
    }
}
