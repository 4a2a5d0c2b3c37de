using System.Text.Json;
using CtScan.Nifti;

namespace CtScan.Tests.Nifti;

/// <summary>Real files from nibabel's test data, checked against nibabel 5.0.0's values (manifest.json).</summary>
public class RealNiftiTests
{
    private static readonly JsonElement Manifest =
        JsonDocument.Parse(File.ReadAllText(Fixtures.RealNifti("manifest.json"))).RootElement;

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Manifest.GetProperty("files").EnumerateArray()) data.Add(f.GetProperty("file").GetString()!);
        return data;
    }

    private static JsonElement Entry(string file) =>
        Manifest.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("file").GetString() == file);

    private static long[] Longs(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt64()).ToArray();
    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    [Theory]
    [MemberData(nameof(Files))]
    public void Open_RealFile_HeaderMatchesNibabel(string file)
    {
        var expected = Entry(file);
        var h = expected.GetProperty("header");
        using var image = NiftiImage.Open(Fixtures.RealNifti(file));
        var header = image.Header;

        Assert.Equal(h.GetProperty("sizeof_hdr").GetInt32(), header.SizeOfHeader);
        Assert.Equal(h.GetProperty("endianness").GetString() == "little", header.IsLittleEndian);
        Assert.Equal(h.GetProperty("datatype_code").GetInt32(), (short)header.DataType);
        Assert.Equal(expected.GetProperty("raw_dtype").GetString(), header.DataType.Name());
        Assert.Equal(h.GetProperty("bitpix").GetInt32(), header.BitPix);
        Assert.Equal(Longs(h.GetProperty("dim")), header.Dim);
        Assert.Equal(Longs(expected.GetProperty("shape")), header.DataShape);
        Assert.Equal(Doubles(h.GetProperty("pixdim")), header.PixDim);
        Assert.Equal(h.GetProperty("vox_offset").GetDouble(), header.VoxOffset);
        Assert.Equal(expected.GetProperty("data_offset").GetInt64(), header.DataOffset);
        Assert.Equal(h.GetProperty("scl_slope").GetDouble(), header.SclSlope);
        Assert.Equal(h.GetProperty("scl_inter").GetDouble(), header.SclInter);
        Assert.Equal(h.GetProperty("qform_code").GetInt32(), header.QformCode);
        Assert.Equal(h.GetProperty("sform_code").GetInt32(), header.SformCode);
        Assert.Equal(h.GetProperty("cal_min").GetDouble(), header.CalMin);
        Assert.Equal(h.GetProperty("cal_max").GetDouble(), header.CalMax);
        Assert.Equal(h.GetProperty("xyzt_units").GetInt32(), header.XyztUnits);
        Assert.Equal(h.GetProperty("dim_info").GetInt32(), header.DimInfo);
        Assert.Equal(h.GetProperty("slice_code").GetInt32(), header.SliceCode);
        Assert.Equal(h.GetProperty("intent_code").GetInt32(), header.IntentCode);
        Assert.Equal(h.GetProperty("magic").GetString(), header.Magic);
        Assert.False(header.IsPairFormat);
        Assert.Equal(header.SizeOfHeader == 540 ? 2 : 1, header.NiftiVersion);
        // descrip: the manifest shows the bytes up to the last non-NUL; the header string stops at the first NUL.
        Assert.StartsWith(header.Descrip, h.GetProperty("descrip").GetString()!);
        Assert.Equal(expected.GetProperty("fdata").GetProperty("n_voxels").GetInt64(), header.VoxelCount);
        Assert.Equal(header.VoxelCount * 2, header.DataByteCount);

        var slopeInter = Doubles(expected.GetProperty("header").GetProperty("nibabel_slope_inter"));
        var scaling = header.GetSlopeInter();
        Assert.NotNull(scaling);
        Assert.Equal(slopeInter[0], scaling.Value.Slope);
        Assert.Equal(slopeInter[1], scaling.Value.Intercept);

        var extensions = h.TryGetProperty("extensions", out var ext)
            ? ext.EnumerateArray().Select(e => new NiftiExtension(e.GetProperty("code").GetInt32(), e.GetProperty("esize").GetInt32())).ToArray()
            : [];
        Assert.Equal(extensions, image.Extensions);
        Assert.DoesNotContain(header.Diagnose(), p => p.Level == ProblemLevel.Error);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void GetBestAffine_RealFile_MatchesNibabel(string file)
    {
        var expected = Entry(file).GetProperty("affine").EnumerateArray().Select(Doubles).ToArray();
        using var image = NiftiImage.Open(Fixtures.RealNifti(file));
        var affine = image.Header.GetBestAffine();
        for (var r = 0; r < 4; r++)
            for (var c = 0; c < 4; c++)
                Assert.Equal(expected[r][c], affine[r, c], 1e-12);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ReadAll_RealFile_ScaledDataMatchesNibabelExactly(string file)
    {
        var expected = Entry(file);
        var fdata = expected.GetProperty("fdata");
        var values = NiftiTestData.ReadAll(Fixtures.RealNifti(file));

        Assert.Equal(expected.GetProperty("fdata_sha256").GetString(), NiftiTestData.Sha256OfFloat64(values));
        var shape = Longs(expected.GetProperty("shape"));
        foreach (var sample in fdata.GetProperty("samples").EnumerateArray())
        {
            var index = Longs(sample.GetProperty("index"));
            Assert.Equal(sample.GetProperty("value").GetDouble(), values[NiftiTestData.FortranIndex(shape, index)]);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ComputeStatistics_RealFile_MatchesNibabel(string file)
    {
        var fdata = Entry(file).GetProperty("fdata");
        using var image = NiftiImage.Open(Fixtures.RealNifti(file));
        var stats = image.ComputeStatistics();

        Assert.Equal(fdata.GetProperty("n_voxels").GetInt64(), stats.VoxelCount);
        Assert.Equal(fdata.GetProperty("min").GetDouble(), stats.Min);
        Assert.Equal(fdata.GetProperty("max").GetDouble(), stats.Max);
        // numpy sums pairwise, we sum in file order: equal for integer data, within rounding for scaled data.
        Assert.Equal(fdata.GetProperty("sum").GetDouble(), stats.Sum, 1e-12 * Math.Abs(stats.Sum));
        Assert.Equal(fdata.GetProperty("mean").GetDouble(), stats.Mean, 1e-12 * Math.Abs(stats.Mean));
        Assert.Equal(fdata.GetProperty("n_nan").GetInt64(), stats.NaNCount);
        Assert.Equal(fdata.GetProperty("n_inf").GetInt64(), stats.InfinityCount);
    }

    [Fact]
    public void OpenVolume_Anatomical_BigEndian3DNeedsNoIndex()
    {
        using var image = NiftiImage.Open(Fixtures.RealNifti("anatomical.nii"));
        var volume = image.OpenVolume();
        Assert.Equal(new VolumeShape(33, 41, 25), volume.Shape);
        var slice = new double[volume.Shape.SliceVoxelCount];
        volume.ReadNextSlice(slice);
        Assert.Equal(10712.0, slice[0]); // manifest sample [0,0,0]
    }

    [Fact]
    public void Read_GzipStreamWithoutGzName_SniffsMagic()
    {
        using var file = File.OpenRead(Fixtures.RealNifti("example4d.nii.gz"));
        using var image = NiftiImage.Read(file, "renamed.nii");
        Assert.Equal(2, image.VolumeCount);
        var volume = image.OpenVolume(1);
        var slice = new double[volume.Shape.SliceVoxelCount];
        for (var k = 0; k <= 12; k++) volume.ReadNextSlice(slice);
        Assert.Equal(266.0, slice[64 + 128 * 48]); // manifest sample [64,48,12,1]
    }
}
