using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace CtScan.Tensors;

/// <summary>
/// Reads and writes .npy files holding little-endian float32 in C order (numpy's <c>np.save</c>/<c>np.load</c> for
/// <c>dtype('&lt;f4')</c>): the tensor cache format. Writes version 1.0 headers byte-identical to numpy 1.24's;
/// reads versions 1.0 and 2.0.
/// </summary>
public static class NpyFile
{
    /// <summary>Default ceiling on the number of values a read may allocate (1 Gi floats = 4 GiB).</summary>
    public const long DefaultMaxElements = 1L << 30;

    private const int ChunkBytes = 1 << 20;

    /// <summary>Writes <paramref name="tensor"/> as a .npy v1.0 file to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, Float32Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Write(stream, tensor.Data, [.. tensor.Shape]);
    }

    /// <summary>Writes <paramref name="data"/> (C order) with <paramref name="shape"/> as a .npy v1.0 file.</summary>
    public static void Write(Stream stream, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(BuildHeader(data.Length, shape));
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (int start = 0; start < data.Length;)
            {
                int count = Math.Min(ChunkBytes / sizeof(float), data.Length - start);
                EncodeLittleEndian(data.Slice(start, count), chunk);
                stream.Write(chunk, 0, count * sizeof(float));
                start += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Writes <paramref name="tensor"/> as a .npy v1.0 file, in chunks, without a whole-file buffer.</summary>
    public static async Task WriteAsync(Stream stream, Float32Tensor tensor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensor);
        float[] data = tensor.Data;
        await stream.WriteAsync(BuildHeader(data.Length, [.. tensor.Shape]), cancellationToken).ConfigureAwait(false);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (int start = 0; start < data.Length;)
            {
                int count = Math.Min(ChunkBytes / sizeof(float), data.Length - start);
                EncodeLittleEndian(data.AsSpan(start, count), chunk);
                await stream.WriteAsync(chunk.AsMemory(0, count * sizeof(float)), cancellationToken).ConfigureAwait(false);
                start += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Reads the .npy file at <paramref name="path"/>; errors name the file.</summary>
    /// <exception cref="NpyFormatException">The file is not a little-endian float32 C-order .npy of a sane size.</exception>
    public static async Task<Float32Tensor> ReadAsync(string path, long maxElements = DefaultMaxElements, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, useAsync: true);
        try
        {
            return await ReadAsync(file, maxElements, cancellationToken).ConfigureAwait(false);
        }
        catch (NpyFormatException error)
        {
            throw new NpyFormatException($"{path}: {error.Message}", error);
        }
    }

    /// <summary>Reads a whole .npy file; the stream must end where the data ends.</summary>
    /// <exception cref="NpyFormatException">The stream is not a little-endian float32 C-order .npy of a sane size.</exception>
    public static Float32Tensor Read(Stream stream, long maxElements = DefaultMaxElements)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var prefix = new byte[NpyHeader.PrefixLengthV2];
        ReadExactlyOrThrow(stream, prefix.AsSpan(0, NpyHeader.PrefixLengthV1), "the magic and version");
        int prefixLength = ParsePrefixLength(prefix);
        if (prefixLength > NpyHeader.PrefixLengthV1)
            ReadExactlyOrThrow(stream, prefix.AsSpan(NpyHeader.PrefixLengthV1, 2), "the header length");
        var header = new byte[ParseHeaderLength(prefix)];
        ReadExactlyOrThrow(stream, header, "the header");
        int[] shape = ParseHeader(header, maxElements, out long count);
        CheckRemainingLength(stream, count);
        var data = new float[count];
        Span<byte> bytes = MemoryMarshal.AsBytes(data.AsSpan());
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read < bytes.Length)
            throw Truncated(bytes.Length, read);
        if (stream.ReadByte() >= 0)
            throw TrailingBytes(bytes.Length);
        if (!BitConverter.IsLittleEndian)
            DecodeLittleEndianInPlace(data);
        return new Float32Tensor(data, shape);
    }

    /// <summary>Reads a whole .npy file asynchronously, in chunks, without a whole-file byte buffer.</summary>
    /// <exception cref="NpyFormatException">The stream is not a little-endian float32 C-order .npy of a sane size.</exception>
    public static async Task<Float32Tensor> ReadAsync(Stream stream, long maxElements = DefaultMaxElements, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var prefix = new byte[NpyHeader.PrefixLengthV2];
        await ReadExactlyOrThrowAsync(stream, prefix.AsMemory(0, NpyHeader.PrefixLengthV1), "the magic and version", cancellationToken).ConfigureAwait(false);
        int prefixLength = ParsePrefixLength(prefix);
        if (prefixLength > NpyHeader.PrefixLengthV1)
            await ReadExactlyOrThrowAsync(stream, prefix.AsMemory(NpyHeader.PrefixLengthV1, 2), "the header length", cancellationToken).ConfigureAwait(false);
        var header = new byte[ParseHeaderLength(prefix)];
        await ReadExactlyOrThrowAsync(stream, header, "the header", cancellationToken).ConfigureAwait(false);
        int[] shape = ParseHeader(header, maxElements, out long count);
        CheckRemainingLength(stream, count);
        var data = new float[count];
        long totalBytes = count * sizeof(float);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            long done = 0;
            while (done < totalBytes)
            {
                int want = (int)Math.Min(ChunkBytes, totalBytes - done);
                int got = await stream.ReadAtLeastAsync(chunk.AsMemory(0, want), want, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (got < want)
                    throw Truncated(totalBytes, done + got);
                DecodeLittleEndian(chunk.AsSpan(0, want), data.AsSpan((int)(done / sizeof(float)), want / sizeof(float)));
                done += want;
            }
            if (await stream.ReadAsync(chunk.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) > 0)
                throw TrailingBytes(totalBytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return new Float32Tensor(data, shape);
    }

    private static byte[] BuildHeader(int dataLength, ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int extent in shape) count *= extent;
        if (count != dataLength)
            throw new ArgumentException($"shape {NpyHeader.FormatShape(Float32Tensor.ToLongs(shape))} holds {count} values but data has {dataLength}", nameof(shape));
        return NpyHeader.Build(Float32Tensor.ToLongs(shape));
    }

    /// <summary>Checks magic and version; returns the prefix length (10 for v1.0, 12 for v2.0).</summary>
    private static int ParsePrefixLength(ReadOnlySpan<byte> prefix)
    {
        if (!prefix[..6].SequenceEqual(NpyHeader.Magic))
            throw new NpyFormatException($"not a .npy file: the first 6 bytes are {Convert.ToHexString(prefix[..6])}; expected 934E554D5059 (\\x93NUMPY)");
        byte major = prefix[6], minor = prefix[7];
        return (major, minor) switch
        {
            (1, 0) => NpyHeader.PrefixLengthV1,
            (2, 0) => NpyHeader.PrefixLengthV2,
            _ => throw new NpyFormatException($".npy version {major}.{minor} is not supported; expected 1.0 or 2.0"),
        };
    }

    private static int ParseHeaderLength(ReadOnlySpan<byte> prefix)
    {
        long length = prefix[6] == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (length < 1 || length > NpyHeader.MaxHeaderLength)
            throw new NpyFormatException($".npy header length {length} is outside 1..{NpyHeader.MaxHeaderLength}");
        return (int)length;
    }

    private static int[] ParseHeader(byte[] header, long maxElements, out long count)
    {
        if (header[^1] != (byte)'\n')
            throw new NpyFormatException(".npy header does not end with a newline");
        var dict = NpyHeaderParser.Parse(Encoding.Latin1.GetString(header));
        if (dict.Descr != NpyHeader.Float32Descr)
            throw new NpyFormatException($".npy dtype '{dict.Descr}' is not supported; expected '{NpyHeader.Float32Descr}' (little-endian float32)");
        if (dict.FortranOrder)
            throw new NpyFormatException(".npy data is in Fortran order (fortran_order: True); expected C order");
        count = 1;
        var shape = new int[dict.Shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            long extent = dict.Shape[d];
            if (extent < 0 || extent > int.MaxValue)
                throw new NpyFormatException($".npy shape {NpyHeader.FormatShape(dict.Shape)} has extent {extent} on axis {d}; expected 0..{int.MaxValue}");
            shape[d] = (int)extent;
            // Multiply with overflow checking against the limit rather than risking long overflow.
            if (extent != 0 && count > maxElements / extent && count != 0)
                throw TooLarge(dict.Shape, maxElements);
            count *= extent;
        }
        if (count > maxElements || count > Array.MaxLength)
            throw TooLarge(dict.Shape, maxElements);
        return shape;
    }

    private static NpyFormatException TooLarge(long[] shape, long maxElements) =>
        new($".npy shape {NpyHeader.FormatShape(shape)} holds more than the {Math.Min(maxElements, Array.MaxLength)} values allowed");

    /// <summary>When the stream knows its length, refuses truncated or over-long files before allocating.</summary>
    private static void CheckRemainingLength(Stream stream, long count)
    {
        if (!stream.CanSeek) return;
        long remaining = stream.Length - stream.Position;
        long expected = count * sizeof(float);
        if (remaining < expected) throw Truncated(expected, remaining);
        if (remaining > expected) throw TrailingBytes(expected);
    }

    private static NpyFormatException Truncated(long expectedBytes, long actualBytes) =>
        new($".npy data is truncated: the header announces {expectedBytes} bytes but only {actualBytes} follow");

    private static NpyFormatException TrailingBytes(long expectedBytes) =>
        new($".npy file has trailing bytes after the {expectedBytes} data bytes the header announces");

    private static void ReadExactlyOrThrow(Stream stream, Span<byte> buffer, string what)
    {
        int got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length)
            throw new NpyFormatException($".npy file ends inside {what}: needed {buffer.Length} bytes, got {got}");
    }

    private static async ValueTask ReadExactlyOrThrowAsync(Stream stream, Memory<byte> buffer, string what, CancellationToken cancellationToken)
    {
        int got = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got < buffer.Length)
            throw new NpyFormatException($".npy file ends inside {what}: needed {buffer.Length} bytes, got {got}");
    }

    private static void EncodeLittleEndian(ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (int n = 0; n < values.Length; n++)
            BinaryPrimitives.WriteSingleLittleEndian(destination[(n * sizeof(float))..], values[n]);
    }

    private static void DecodeLittleEndian(ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            source.CopyTo(MemoryMarshal.AsBytes(destination));
            return;
        }
        for (int n = 0; n < destination.Length; n++)
            destination[n] = BinaryPrimitives.ReadSingleLittleEndian(source[(n * sizeof(float))..]);
    }

    private static void DecodeLittleEndianInPlace(Span<float> values)
    {
        Span<int> bits = MemoryMarshal.Cast<float, int>(values);
        for (int n = 0; n < bits.Length; n++)
            bits[n] = BinaryPrimitives.ReverseEndianness(bits[n]);
    }
}
