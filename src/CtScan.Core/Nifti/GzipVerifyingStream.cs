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
    private readonly Stream _inflated; // _gzip, or an InflateAheadStream over it
    private readonly string _fileName;
    /// <summary>Read boundaries kept at most: 16 MB. Only ISIZE's residue matters, so 32 bits of each are kept.</summary>
    private const int MaxBoundaries = 4 << 20;

    private readonly List<uint> _readBoundaries = [0];
    private bool _boundariesCapped;
    private long _length;
    private long _rawTailLimit = long.MaxValue;
    private bool _verified;

    /// <param name="inflateAhead">Inflate on a second thread, a few chunks ahead of the reader.</param>
    public GzipVerifyingStream(Stream compressed, string fileName, bool leaveOpen, bool inflateAhead = false)
    {
        _compressed = new TailKeepingStream(compressed, leaveOpen);
        _gzip = new GZipStream(_compressed, CompressionMode.Decompress, leaveOpen: false);
        _inflated = inflateAhead ? new InflateAheadStream(_gzip) : _gzip;
        _fileName = fileName;
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        int n;
        try
        {
            n = _inflated.Read(buffer);
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
        // A stream of many tiny members (or many tiny reads) must not grow this without bound.
        if (_readBoundaries.Count < MaxBoundaries) _readBoundaries.Add((uint)_length);
        else _boundariesCapped = true;
        return n;
    }

    /// <summary>
    /// Reads to the end of the decompressed content and checks the final trailer, reading at most
    /// <paramref name="maxBytes"/> more decompressed bytes (and as many raw bytes after the last member): a gzip
    /// stream can inflate a thousandfold, so what follows the voxels is bounded rather than inflated to its end.
    /// </summary>
    /// <exception cref="NiftiLimitException">More than <paramref name="maxBytes"/> bytes follow.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public void ReadToEndAndVerify(long maxBytes = long.MaxValue, CancellationToken cancellationToken = default)
    {
        _rawTailLimit = maxBytes;
        // Large reads: one boundary is recorded per read, and the bound keeps their number small.
        var scratch = new byte[64 * 1024];
        long start = _length;
        while (Read(scratch) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_length - start > maxBytes)
                throw new NiftiLimitException(_fileName, "data", nameof(NiftiReadOptions.MaxTrailingDataBytes),
                    $"more than {Mib(maxBytes)} of decompressed data follow the voxel data (limit " +
                    $"NiftiReadOptions.MaxTrailingDataBytes); refused without inflating the rest " +
                    $"({_compressed.BytesRead} compressed bytes read so far)");
        }
    }

    private void VerifyEnd()
    {
        if (_verified) return;
        // Whatever GZipStream left unread (e.g. garbage after the last member) must be consumed to see the real tail;
        // past the limit it cannot end in a valid trailer anyway, so reading stops there.
        Span<byte> scratch = stackalloc byte[4096];
        long garbage = 0;
        int n;
        while ((n = _compressed.Read(scratch)) > 0)
        {
            garbage += n;
            if (garbage > _rawTailLimit)
                throw new NiftiLimitException(_fileName, "gzip", nameof(NiftiReadOptions.MaxTrailingDataBytes),
                    $"more than {Mib(_rawTailLimit)} that are not gzip data follow the last gzip member (limit " +
                    "NiftiReadOptions.MaxTrailingDataBytes)");
        }
        var tail = _compressed.Tail;
        if (tail.Length >= TailKeepingStream.TailLength && _boundariesCapped && !EndsWithTrailerOfLastMember(tail))
            throw new NiftiLimitException(_fileName, "gzip", "gzip reads",
                $"the gzip stream came in more than {MaxBoundaries} reads (many tiny members?), too many to check its last trailer");
        if (tail.Length < TailKeepingStream.TailLength || !EndsWithTrailerOfLastMember(tail))
            throw new NiftiFormatException(_fileName, "gzip",
                $"gzip stream is truncated or has trailing bytes: it ends without a complete member trailer " +
                $"after {_compressed.BytesRead} compressed bytes ({_length} bytes decompressed)");
        _verified = true;
    }

    private static string Mib(long bytes) =>
        (bytes / (1024.0 * 1024)).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) + $" MiB ({bytes} bytes)";

    private bool EndsWithTrailerOfLastMember(ReadOnlySpan<byte> tail)
    {
        var isize = BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]);
        foreach (var start in _readBoundaries)
        {
            if ((uint)_length - start == isize) return true;
        }
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_inflated != _gzip) _inflated.Dispose(); // stops the inflating thread before the inflater goes
            _gzip.Dispose();
        }
        base.Dispose(disposing);
    }
}
