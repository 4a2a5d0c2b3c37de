using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using CtScan.Imaging;

namespace CtScan.Tests.Imaging;

public class PngEncoderTests
{
    [Fact]
    public void WriteGrayscale_RoundTripsPixelsThroughValidChunks()
    {
        const int width = 5, height = 3;
        var pixels = Enumerable.Range(0, width * height).Select(v => (byte)(v * 17)).ToArray();
        using var png = new MemoryStream();
        PngEncoder.WriteGrayscale(png, pixels, width, height);

        var bytes = png.ToArray();
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        var chunks = ReadChunks(bytes.AsSpan(8));
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        var ihdr = chunks[0].Data;
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(ihdr));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(ihdr.AsSpan(4)));
        Assert.Equal(8, ihdr[8]);
        Assert.Equal(0, ihdr[9]);

        using var inflater = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        inflater.CopyTo(raw);
        var scanlines = raw.ToArray();
        Assert.Equal(height * (width + 1), scanlines.Length);
        for (int y = 0; y < height; y++)
        {
            Assert.Equal(0, scanlines[y * (width + 1)]);
            Assert.Equal(pixels.AsSpan(y * width, width).ToArray(), scanlines.AsSpan(y * (width + 1) + 1, width).ToArray());
        }
    }

    [Fact]
    public void WriteGrayscale_WrongPixelCount_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => PngEncoder.WriteGrayscale(new MemoryStream(), new byte[5], 2, 3));
        Assert.Contains("2×3", error.Message);
    }

    private static List<(string Type, byte[] Data)> ReadChunks(ReadOnlySpan<byte> rest)
    {
        var chunks = new List<(string, byte[])>();
        while (rest.Length > 0)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(rest);
            var typeAndData = rest.Slice(4, 4 + length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(rest.Slice(8 + length));
            Assert.Equal(Crc32.HashToUInt32(typeAndData), crc);
            chunks.Add((System.Text.Encoding.ASCII.GetString(typeAndData[..4]), typeAndData[4..].ToArray()));
            rest = rest[(12 + length)..];
        }
        return chunks;
    }
}
