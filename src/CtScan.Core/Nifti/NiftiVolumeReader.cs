namespace CtScan.Nifti;

/// <summary>
/// Streams one 3-D volume of a NIfTI file slice by slice: one reused raw buffer, decoded into the caller's span.
/// </summary>
internal sealed class NiftiVolumeReader : IVolumeSlices
{
    private const int ChunkBytes = 1 << 20;

    private readonly Stream _data;
    private readonly NiftiHeader _header;
    private readonly VoxelDecoder _decoder;
    private readonly string _fileName;
    private readonly bool _endsFile;
    private readonly long _maxTrailingBytes;
    private readonly byte[] _buffer;
    private long _dataBytesRead;
    private int _nextSlice;

    /// <param name="data">The data stream, positioned at the start of this volume.</param>
    /// <param name="dataBytesBefore">Voxel data bytes before this volume (for truncation messages).</param>
    /// <param name="endsFile">True for the file's last volume: after its last slice, a gzip stream is verified.</param>
    /// <param name="maxTrailingBytes">The most decompressed bytes read after the voxels to reach the gzip trailer.</param>
    public NiftiVolumeReader(Stream data, NiftiHeader header, VolumeShape shape, VoxelDecoder decoder, string fileName,
        long dataBytesBefore, bool endsFile, long maxTrailingBytes)
    {
        _maxTrailingBytes = maxTrailingBytes;
        _data = data;
        _header = header;
        Shape = shape;
        _decoder = decoder;
        _fileName = fileName;
        _dataBytesRead = dataBytesBefore;
        _endsFile = endsFile;
        _buffer = new byte[(long)shape.SliceVoxelCount * decoder.BytesPerVoxel];
    }

    public VolumeShape Shape { get; }

    public void ReadNextSlice(Span<double> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_nextSlice >= Shape.Depth)
            throw new InvalidOperationException($"all {Shape.Depth} slices of {_fileName} were already read");
        if (destination.Length != Shape.SliceVoxelCount)
            throw new ArgumentException(
                $"destination holds {destination.Length} values; a slice of {Shape} has {Shape.SliceVoxelCount}",
                nameof(destination));
        // In chunks, so that a huge slice (a 40000×40000 plane) can be cancelled while it inflates.
        for (int at = 0; at < _buffer.Length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int want = Math.Min(ChunkBytes, _buffer.Length - at);
            var n = _data.ReadAtLeast(_buffer.AsSpan(at, want), want, throwOnEndOfStream: false);
            _dataBytesRead += n;
            at += n;
            if (n < want) throw NiftiStreams.TruncatedData(_fileName, _header, _dataBytesRead);
        }
        _decoder.Decode(_buffer, destination);
        if (++_nextSlice == Shape.Depth && _endsFile && _data is GzipVerifyingStream gzip)
            gzip.ReadToEndAndVerify(_maxTrailingBytes, cancellationToken);
    }
}
