using System.IO.Compression;
using CtScan.Tensors;

namespace CtScan.Tests.Support;

/// <summary>Loads the golden arrays (gzip-compressed .npy, .npz) and builds seeded test volumes.</summary>
internal static class TestArrays
{
    public static Float32Tensor LoadGoldenNpyGz(string file)
    {
        using var gzip = new GZipStream(File.OpenRead(Fixtures.Golden(file)), CompressionMode.Decompress);
        return NpyFile.Read(gzip);
    }

    public static Float32Tensor LoadNpzEntry(string npzFile, string entry)
    {
        using ZipArchive zip = ZipFile.OpenRead(Fixtures.Golden(npzFile));
        ZipArchiveEntry found = zip.GetEntry(entry)
            ?? throw new FileNotFoundException($"{npzFile} has no entry {entry}; it has {string.Join(", ", zip.Entries.Select(e => e.FullName))}");
        using Stream stream = found.Open();
        return NpyFile.Read(stream);
    }

    /// <summary>HU-like values in file (Fortran) order, mostly inside the seed window with some outside.</summary>
    public static double[] RandomHu(VolumeShape shape, int seed)
    {
        var random = new Random(seed);
        var values = new double[shape.VoxelCount];
        for (int n = 0; n < values.Length; n++) values[n] = Math.Round(random.NextDouble() * 1800 - 1200);
        return values;
    }

    /// <summary>File order (i fastest) to C order (k fastest).</summary>
    public static double[] FortranToC(ReadOnlySpan<double> fortran, VolumeShape shape)
    {
        var c = new double[fortran.Length];
        for (int k = 0; k < shape.Depth; k++)
            for (int j = 0; j < shape.Height; j++)
                for (int i = 0; i < shape.Width; i++)
                    c[shape.IndexOf(i, j, k)] = fortran[i + shape.Width * (j + shape.Height * k)];
        return c;
    }

    public static (double MaxAbsDiff, int Mismatches) Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        int mismatches = 0;
        for (int n = 0; n < actual.Length; n++)
        {
            double diff = Math.Abs((double)actual[n] - expected[n]);
            if (double.IsNaN(diff)) diff = double.PositiveInfinity;
            if (diff > max) max = diff;
            if (BitConverter.SingleToInt32Bits(actual[n]) != BitConverter.SingleToInt32Bits(expected[n])) mismatches++;
        }
        return (max, mismatches);
    }
}
