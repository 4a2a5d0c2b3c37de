namespace CtScan.Nifti;

/// <summary>Base for the reader's forward-only wrapper streams: only <see cref="Stream.Read(Span{byte})"/> varies.</summary>
internal abstract class ForwardOnlyStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public abstract override int Read(Span<byte> buffer);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Replays a few already-read bytes (the sniffed gzip magic) before the rest of a stream.</summary>
internal sealed class PrefixedStream(byte[] prefix, Stream inner, bool leaveOpen) : ForwardOnlyStream
{
    private int _prefixPosition;

    public override int Read(Span<byte> buffer)
    {
        if (_prefixPosition < prefix.Length)
        {
            var n = Math.Min(buffer.Length, prefix.Length - _prefixPosition);
            prefix.AsSpan(_prefixPosition, n).CopyTo(buffer);
            _prefixPosition += n;
            return n;
        }
        return inner.Read(buffer);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen) inner.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Passes a stream through, remembering its last 8 bytes (a gzip trailer, if the stream is whole).</summary>
internal sealed class TailKeepingStream(Stream inner, bool leaveOpen) : ForwardOnlyStream
{
    public const int TailLength = 8;
    private readonly byte[] _tail = new byte[TailLength];

    public long BytesRead { get; private set; }

    /// <summary>The last <see cref="TailLength"/> bytes read (fewer if the stream was shorter).</summary>
    public ReadOnlySpan<byte> Tail => _tail.AsSpan(TailLength - (int)Math.Min(BytesRead, TailLength));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        if (n >= TailLength)
        {
            buffer.Slice(n - TailLength, TailLength).CopyTo(_tail);
        }
        else if (n > 0)
        {
            _tail.AsSpan(n).CopyTo(_tail); // shift left by n
            buffer[..n].CopyTo(_tail.AsSpan(TailLength - n));
        }
        BytesRead += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen) inner.Dispose();
        base.Dispose(disposing);
    }
}
