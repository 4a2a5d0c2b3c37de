using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace CtScan.Imaging;

/// <summary>Writes 8-bit grayscale and RGB PNG images (enough for slice montages; no image library needed).</summary>
public static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Writes <paramref name="pixels"/> (row-major, <paramref name="width"/> bytes per row) as a PNG.</summary>
    public static void WriteGrayscale(Stream destination, ReadOnlySpan<byte> pixels, int width, int height) =>
        Write(destination, pixels, width, height, channels: 1, colourType: 0);

    /// <summary>Writes <paramref name="pixels"/> (row-major, R, G, B bytes per pixel) as a colour PNG.</summary>
    public static void WriteRgb(Stream destination, ReadOnlySpan<byte> pixels, int width, int height) =>
        Write(destination, pixels, width, height, channels: 3, colourType: 2);

    private static void Write(Stream destination, ReadOnlySpan<byte> pixels, int width, int height, int channels, byte colourType)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (width < 1 || height < 1)
            throw new ArgumentOutOfRangeException(nameof(width), $"image size must be at least 1×1; got {width}×{height}");
        if (pixels.Length != (long)width * height * channels)
            throw new ArgumentException($"{pixels.Length} bytes given for a {width}×{height} image of {channels} byte(s) per pixel", nameof(pixels));

        destination.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bit depth
        header[9] = colourType; // 0 grayscale, 2 RGB
        header[10] = 0; // deflate
        header[11] = 0; // adaptive filtering
        header[12] = 0; // no interlace
        WriteChunk(destination, "IHDR"u8, header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter type None
                zlib.Write(pixels.Slice(y * width * channels, width * channels));
            }
        }
        WriteChunk(destination, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(destination, "IEND"u8, []);
    }

    private static void WriteChunk(Stream destination, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        destination.Write(word);
        destination.Write(type);
        destination.Write(data);
        var crc = new Crc32();
        crc.Append(type);
        crc.Append(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc.GetCurrentHashAsUInt32());
        destination.Write(word);
    }
}
