using System.Buffers.Binary;
using System.IO.Compression;

namespace CtScan.Tests.Support;

/// <summary>
/// A deliberately tiny NIfTI-1 loader for the four golden files only (uint8, int16, float32; single-file .nii or
/// .nii.gz), so preprocessing parity can be tested independently of the product's reader. Scales like nibabel's
/// get_fdata: raw × slope + inter in float64, unscaled when the slope is 0, NaN or ±∞.
/// </summary>
internal static class GoldenNifti
{
    public static ArrayVolumeSlices Open(string path)
    {
        byte[] bytes;
        using (Stream file = File.OpenRead(path))
        using (Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file)
        using (var memory = new MemoryStream())
        {
            stream.CopyTo(memory);
            bytes = memory.ToArray();
        }
        ReadOnlySpan<byte> h = bytes;
        Assert.Equal(348, BinaryPrimitives.ReadInt32LittleEndian(h));
        var shape = new VolumeShape(
            BinaryPrimitives.ReadInt16LittleEndian(h[42..]),
            BinaryPrimitives.ReadInt16LittleEndian(h[44..]),
            BinaryPrimitives.ReadInt16LittleEndian(h[46..]));
        short datatype = BinaryPrimitives.ReadInt16LittleEndian(h[70..]);
        int offset = (int)BinaryPrimitives.ReadSingleLittleEndian(h[108..]);
        double slope = BinaryPrimitives.ReadSingleLittleEndian(h[112..]);
        double inter = BinaryPrimitives.ReadSingleLittleEndian(h[116..]);
        bool scaled = double.IsFinite(slope) && slope != 0;
        if (!double.IsFinite(inter)) inter = 0;
        var values = new double[shape.VoxelCount];
        ReadOnlySpan<byte> data = h[offset..];
        for (int n = 0; n < values.Length; n++)
        {
            double raw = datatype switch
            {
                2 => data[n],
                4 => BinaryPrimitives.ReadInt16LittleEndian(data[(2 * n)..]),
                16 => BinaryPrimitives.ReadSingleLittleEndian(data[(4 * n)..]),
                _ => throw new NotSupportedException($"golden loader handles datatypes 2, 4, 16; got {datatype}"),
            };
            values[n] = scaled ? raw * slope + inter : raw;
        }
        return new ArrayVolumeSlices(values, shape);
    }
}
