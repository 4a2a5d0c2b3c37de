using System.Buffers.Binary;

namespace CtScan.Nifti;

/// <summary>Stream plumbing shared by the reader: gzip sniffing, exact reads and skips with NIfTI error messages.</summary>
internal static class NiftiStreams
{
    private static ReadOnlySpan<byte> GzipMagic => [0x1F, 0x8B];

    /// <summary>Returns a stream of the decompressed content if <paramref name="raw"/> starts with the gzip magic
    /// (whatever the file is called), else of <paramref name="raw"/> itself.</summary>
    /// <param name="inflateAhead">Inflate on a second thread, ahead of the reader (<see cref="NiftiReadOptions.InflateAhead"/>).</param>
    public static Stream Decompressed(Stream raw, string fileName, bool leaveOpen, bool inflateAhead = false)
    {
        var prefix = new byte[GzipMagic.Length];
        var n = raw.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        var replay = new PrefixedStream(prefix[..n], raw, leaveOpen);
        return n == prefix.Length && prefix.AsSpan().SequenceEqual(GzipMagic)
            ? new GzipVerifyingStream(replay, fileName, leaveOpen: false, inflateAhead)
            : replay;
    }

    /// <summary>Reads and parses the header (not yet checked), reading no further than the header itself.</summary>
    public static NiftiHeader ReadHeader(Stream stream, string fileName)
    {
        var bytes = new byte[NiftiLayout.Nifti2.HeaderSize];
        var n = stream.ReadAtLeast(bytes.AsSpan(0, sizeof(int)), sizeof(int), throwOnEndOfStream: false);
        if (n < sizeof(int)) throw NiftiHeader.Truncated(fileName, NiftiLayout.Nifti1.HeaderSize, n);
        var format = NiftiHeader.DetectFormat(bytes);
        if (format is null) return NiftiHeader.Parse(bytes.AsSpan(0, n), fileName); // throws the sizeof_hdr error
        var size = NiftiLayout.ForVersion(format.Value.Version).HeaderSize;
        n += stream.ReadAtLeast(bytes.AsSpan(n, size - n), size - n, throwOnEndOfStream: false);
        if (n < size) throw NiftiHeader.Truncated(fileName, size, n);
        return NiftiHeader.Parse(bytes.AsSpan(0, size), fileName);
    }

    /// <summary>Reads the extension flag and extensions that follow the header, up to <paramref name="limit"/> bytes
    /// of the stream (vox_offset for a single file). Returns the extensions and the bytes consumed. A malformed list
    /// ends the parse quietly (as nibabel warns and carries on): the data offset, not the extensions, locates data.</summary>
    public static (IReadOnlyList<NiftiExtension> Extensions, long Consumed) ReadExtensions(
        Stream stream, NiftiHeader header, long limit)
    {
        var extensions = new List<NiftiExtension>();
        if (limit < NiftiLayout.ExtensionFlagSize) return (extensions, 0);
        Span<byte> flag = stackalloc byte[NiftiLayout.ExtensionFlagSize];
        var consumed = (long)stream.ReadAtLeast(flag, flag.Length, throwOnEndOfStream: false);
        if (consumed < flag.Length || flag[0] == 0) return (extensions, consumed);
        Span<byte> preamble = stackalloc byte[NiftiLayout.ExtensionPreambleSize];
        while (consumed + preamble.Length <= limit)
        {
            if (stream.ReadAtLeast(preamble, preamble.Length, throwOnEndOfStream: false) < preamble.Length) break;
            consumed += preamble.Length;
            var size = header.IsLittleEndian ? BinaryPrimitives.ReadInt32LittleEndian(preamble) : BinaryPrimitives.ReadInt32BigEndian(preamble);
            var code = header.IsLittleEndian ? BinaryPrimitives.ReadInt32LittleEndian(preamble[4..]) : BinaryPrimitives.ReadInt32BigEndian(preamble[4..]);
            var contentSize = (long)size - preamble.Length;
            if (size < preamble.Length || consumed + contentSize > limit) break;
            extensions.Add(new NiftiExtension(code, size));
            var skipped = Skip(stream, contentSize);
            consumed += skipped;
            if (skipped < contentSize) break;
        }
        return (extensions, consumed);
    }

    /// <summary>Reads and discards up to <paramref name="count"/> bytes; returns how many there were.</summary>
    public static long Skip(Stream stream, long count)
    {
        if (count <= 0) return 0;
        if (stream.CanSeek)
        {
            var available = Math.Max(0, Math.Min(count, stream.Length - stream.Position));
            stream.Seek(available, SeekOrigin.Current);
            return available;
        }
        Span<byte> scratch = stackalloc byte[8192];
        var skipped = 0L;
        while (skipped < count)
        {
            var n = stream.Read(scratch[..(int)Math.Min(scratch.Length, count - skipped)]);
            if (n == 0) break;
            skipped += n;
        }
        return skipped;
    }

    public static NiftiFormatException TruncatedData(string fileName, NiftiHeader header, long found) =>
        new(fileName, "data",
            $"voxel data truncated: expected {header.DataByteCount} bytes ({string.Join("×", header.DataShape)} " +
            $"{header.DataType.Name()}) from offset {header.DataOffset}, found {found}");
}
