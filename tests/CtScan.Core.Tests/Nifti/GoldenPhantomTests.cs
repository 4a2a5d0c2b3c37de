using System.Text.Json;
using CtScan.Nifti;

namespace CtScan.Tests.Nifti;

/// <summary>The golden phantoms (make_phantom.py, read by nibabel 5.0.0): header fields and get_fdata.</summary>
public class GoldenPhantomTests
{
    private static readonly JsonElement Manifest =
        JsonDocument.Parse(File.ReadAllText(Fixtures.Golden("manifest.json"))).RootElement;

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Manifest.GetProperty("files").EnumerateArray()) data.Add(f.GetProperty("nifti").GetString()!);
        return data;
    }

    private static JsonElement Entry(string file) =>
        Manifest.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("nifti").GetString() == file);

    private static double ParseDouble(JsonElement e) =>
        e.ValueKind == JsonValueKind.String ? double.Parse(e.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : e.GetDouble();

    [Theory]
    [MemberData(nameof(Files))]
    public void Open_GoldenPhantom_HeaderMatches(string file)
    {
        var h = Entry(file).GetProperty("header");
        using var image = NiftiImage.Open(Fixtures.Golden(file));
        var header = image.Header;
        Assert.Equal(h.GetProperty("dim").EnumerateArray().Select(e => e.GetInt64()), header.Dim);
        Assert.Equal(h.GetProperty("datatype_code").GetInt32(), (short)header.DataType);
        Assert.Equal(h.GetProperty("vox_offset").GetDouble(), header.VoxOffset);
        Assert.Equal(ParseDouble(h.GetProperty("scl_slope")), header.SclSlope);
        Assert.Equal(ParseDouble(h.GetProperty("scl_inter")), header.SclInter);
        Assert.Equal(h.GetProperty("pixdim").EnumerateArray().Select(e => e.GetDouble()), header.PixDim);
        Assert.Equal(h.GetProperty("nifti_version").GetInt32(), header.NiftiVersion);
        var slopeInter = h.GetProperty("nibabel_slope_inter");
        if (slopeInter[0].ValueKind == JsonValueKind.Null) Assert.Null(image.Scaling);
        else Assert.Equal(new ScaleFactors(slopeInter[0].GetDouble(), slopeInter[1].GetDouble()), image.Scaling);
        var expectedAffine = h.GetProperty("affine").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();
        var affine = header.GetBestAffine();
        for (var r = 0; r < 4; r++)
            for (var c = 0; c < 4; c++)
                Assert.Equal(expectedAffine[r][c], affine[r, c], 1e-12);
        Assert.Equal(10, header.XyztUnits); // mm, so the spacing is pixdim[1..3] as stored
        Assert.Equal((header.PixDim[1], header.PixDim[2], header.PixDim[3]), header.SpacingMm);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ReadAll_GoldenPhantom_FdataMatchesExactly(string file)
    {
        var fdata = Entry(file).GetProperty("fdata");
        var shape = fdata.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var values = NiftiTestData.ReadAll(Fixtures.Golden(file));

        Assert.Equal(fdata.GetProperty("sha256_f64le_fortran_order").GetString(), NiftiTestData.Sha256OfFloat64(values));
        foreach (var sample in fdata.GetProperty("samples").EnumerateObject())
        {
            // keys like "[64, 64, 32]", clamped to shape − 1 per axis (see the manifest's note)
            var index = sample.Name.Trim('[', ']').Split(',').Select(long.Parse).Select((v, axis) => Math.Min(v, shape[axis] - 1)).ToArray();
            Assert.Equal(sample.Value.GetDouble(), values[NiftiTestData.FortranIndex(shape, index)]);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ComputeStatistics_GoldenPhantom_Matches(string file)
    {
        var fdata = Entry(file).GetProperty("fdata");
        using var image = NiftiImage.Open(Fixtures.Golden(file));
        var stats = image.ComputeStatistics();
        Assert.Equal(fdata.GetProperty("min").GetDouble(), stats.Min);
        Assert.Equal(fdata.GetProperty("max").GetDouble(), stats.Max);
        Assert.Equal(fdata.GetProperty("sum").GetDouble(), stats.Sum, 1e-12 * Math.Abs(stats.Sum));
        Assert.Equal(fdata.GetProperty("mean").GetDouble(), stats.Mean, 1e-12 * Math.Abs(stats.Mean));
        Assert.Equal(0, stats.NaNCount);
        Assert.Equal(0, stats.InfinityCount);
    }
}
