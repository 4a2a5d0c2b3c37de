using System.IO.Compression;

namespace CtScan.Tests.Nifti;

internal static class GzipBytes
{
    public static byte[] Compress(ReadOnlySpan<byte> bytes)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(bytes);
        return output.ToArray();
    }
}
