using System.IO.Compression;
using System.Text;

namespace CtScan.Cli.Tests.Datasets;

/// <summary>Small synthetic zips built in the test.</summary>
internal static class TestZips
{
    public static byte[] Build(CompressionLevel level, params (string Name, byte[] Data)[] entries)
    {
        var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using var stream = zip.CreateEntry(name, level).Open();
                stream.Write(data);
            }
        }
        return memory.ToArray();
    }

    /// <summary>Incompressible pseudo-random bytes, so a stored zip is about as large as its entries.</summary>
    public static byte[] Noise(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static byte[] Text(string text) => Encoding.ASCII.GetBytes(text);

    /// <summary>Flips one bit inside the first occurrence of <paramref name="marker"/> (an entry's stored data).</summary>
    public static byte[] FlipBitIn(byte[] zip, byte[] marker)
    {
        int at = zip.AsSpan().IndexOf(marker);
        if (at < 0) throw new InvalidOperationException("marker not in the zip");
        var copy = (byte[])zip.Clone();
        copy[at + marker.Length / 2] ^= 0x20;
        return copy;
    }
}
