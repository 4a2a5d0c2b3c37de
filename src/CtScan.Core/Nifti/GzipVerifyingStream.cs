using System.Buffers.Binary;
using System.IO.Compression;

namespace CtScan.Nifti;

/// <summary>
/// Streams a gzip file's content (one or more members) and turns every sign of damage into a
/// <see cref="NiftiFormatException"/> naming the file.
/// </summary>
/// <remarks>
/// Measured on .NET 10: <see cref="GZipStream"/> (zlib) checks each complete member's CRC-32 and ISIZE and throws
/// <see cref="InvalidDataException"/> (with a misleading "unsupported compression method" message) on a mismatch or
/// corrupt deflate data; but a stream that simply ends (truncated body or trailer) reads as a clean end of stream.
/// So at the end this class checks that the compressed stream ended with a whole trailer: its last 4 bytes (ISIZE)
/// must equal the decompressed length of the last member modulo 2^32. zlib's inflate never returns output from two
/// members in one call, so a member starts at one of the recorded read boundaries. A truncated stream's last bytes
/// are deflate data or part of a trailer and match only by chance (about 2^-32 per boundary); trailing garbage after
/// the last member fails the same way.
/// </remarks>
internal sealed class GzipVerifyingStream : ForwardOnlyStream
{
    private readonly TailKeepingStream _compressed;
    private readonly GZipStream _gzip;
    private readonly string _fileName;
    private readonly List<long> _readBoundaries = [0];
    private long _length;
    private bool _verified;

    public GzipVerifyingStream(Stream compressed, string fileName, bool leaveOpen)
    {
        _compressed = new TailKeepingStream(compressed, leaveOpen);
        _gzip = new GZipStream(_compressed, CompressionMode.Decompress, leaveOpen: false);
        _fileName = fileName;
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        int n;
        try
        {
            n = _gzip.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new NiftiFormatException(_fileName, "gzip",
                "gzip data is corrupt (bad deflate data, or the CRC-32 or length in a member trailer does not match " +
                "the content)", e);
        }
        if (n == 0)
        {
            VerifyEnd();
            return 0;
        }
        _length += n;
        _readBoundaries.Add(_length);
        return n;
    }

    /// <summary>Reads to the end of the decompressed content and checks the final trailer.</summary>
    public void ReadToEndAndVerify()
    {
        Span<byte> scratch = stackalloc byte[4096];
        while (Read(scratch) > 0) { }
    }

    private void VerifyEnd()
    {
        if (_verified) return;
        // Whatever GZipStream left unread (e.g. garbage after the last member) must be consumed to see the real tail.
        Span<byte> scratch = stackalloc byte[512];
        while (_compressed.Read(scratch) > 0) { }
        var tail = _compressed.Tail;
        if (tail.Length < TailKeepingStream.TailLength || !EndsWithTrailerOfLastMember(tail))
            throw new NiftiFormatException(_fileName, "gzip",
                $"gzip stream is truncated or has trailing bytes: it ends without a complete member trailer " +
                $"after {_compressed.BytesRead} compressed bytes ({_length} bytes decompressed)");
        _verified = true;
    }

    private bool EndsWithTrailerOfLastMember(ReadOnlySpan<byte> tail)
    {
        var isize = BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]);
        foreach (var start in _readBoundaries)
        {
            if ((uint)(_length - start) == isize) return true;
        }
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _gzip.Dispose();
        base.Dispose(disposing);
    }
}
