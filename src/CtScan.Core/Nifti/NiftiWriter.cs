using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace CtScan.Nifti;

/// <summary>
/// Writes NIfTI-1/NIfTI-2 files from voxel data in Fortran order (i fastest), for tests and phantoms. The datatype
/// follows the element type (byte → uint8, short → int16, float → float32, …). The path picks the layout:
/// <c>.nii</c>, <c>.nii.gz</c>, or a pair written as <c>.hdr</c> + <c>.img</c> (<c>.hdr.gz</c> + <c>.img.gz</c>).
/// </summary>
/// <example><code>
/// NiftiWriter.Write("ct.nii.gz", voxels, new NiftiWriteOptions { Shape = [512, 512, 64], VoxelSize = [0.7, 0.7, 5] });
/// </code></example>
public static class NiftiWriter
{
    private const int ExtensionAlignment = 16;

    /// <summary>Writes <paramref name="data"/> (length = product of Shape) to <paramref name="path"/>.</summary>
    public static void Write<T>(string path, ReadOnlySpan<T> data, NiftiWriteOptions options) where T : unmanaged
    {
        var gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        var bare = gzip ? path[..^3] : path;
        var isPair = bare.EndsWith(".hdr", StringComparison.OrdinalIgnoreCase)
            || bare.EndsWith(".img", StringComparison.OrdinalIgnoreCase);
        if (!isPair)
        {
            using var file = Create(path, gzip);
            WriteSingle(file, data, options);
            return;
        }
        var stem = bare[..^4];
        var suffix = gzip ? ".gz" : "";
        using (var header = Create(stem + ".hdr" + suffix, gzip))
            header.Write(BuildHeader(NiftiDataTypes.For<T>(), options, pair: true));
        using var image = Create(stem + ".img" + suffix, gzip);
        WriteVoxels(image, data, options);
    }

    /// <summary>Writes a single-file NIfTI (header, extensions, data; uncompressed) to a stream.</summary>
    public static void WriteSingle<T>(Stream stream, ReadOnlySpan<T> data, NiftiWriteOptions options) where T : unmanaged
    {
        stream.Write(BuildHeader(NiftiDataTypes.For<T>(), options, pair: false));
        WriteVoxels(stream, data, options);
    }

    /// <summary>The header, extension flag and extensions: everything before the data of a single file (or the
    /// whole .hdr of a pair).</summary>
    public static byte[] BuildHeader(NiftiDataType dataType, NiftiWriteOptions options, bool pair)
    {
        var layout = NiftiLayout.ForVersion(options.Version);
        if (options.Shape.Count is < 1 or > NiftiLayout.MaxDims)
            throw new ArgumentException($"Shape has {options.Shape.Count} dims; expected 1..{NiftiLayout.MaxDims}", nameof(options));
        var extensions = options.Extensions.Select(e => (e.Code, e.Content, Size: PaddedSize(e.Content.Length))).ToArray();
        var extensionBytes = extensions.Sum(e => e.Size);
        var headerLength = layout.SingleVoxOffset + extensionBytes;
        var bytes = new byte[headerLength];
        var w = new FieldWriter(bytes, options.LittleEndian);

        w.Int32(0, layout.HeaderSize);
        w.Integer(layout.Dim, layout.DimSize, options.Shape.Count);
        for (var i = 0; i < options.Shape.Count; i++) w.Integer(layout.Dim + layout.DimSize * (i + 1), layout.DimSize, options.Shape[i]);
        for (var i = options.Shape.Count + 1; i < NiftiLayout.DimCount; i++) w.Integer(layout.Dim + layout.DimSize * i, layout.DimSize, 1);
        w.Integer(layout.DataType, 2, (short)dataType);
        w.Integer(layout.BitPix, 2, 8 * dataType.BytesPerVoxel());
        w.Float(layout.PixDim, layout.FloatSize, options.Qfac);
        for (var i = 1; i < NiftiLayout.DimCount; i++)
            w.Float(layout.PixDim + layout.FloatSize * i, layout.FloatSize, i <= options.VoxelSize.Count ? options.VoxelSize[i - 1] : 1);
        var voxOffset = pair ? 0 : headerLength;
        if (layout.Version == 1) w.Float(layout.VoxOffset, 4, voxOffset);
        else w.Integer(layout.VoxOffset, 8, voxOffset);
        w.Float(layout.SclSlope, layout.FloatSize, options.SclSlope);
        w.Float(layout.SclInter, layout.FloatSize, options.SclInter);
        w.Float(layout.CalMin, layout.FloatSize, options.CalMin);
        w.Float(layout.CalMax, layout.FloatSize, options.CalMax);
        w.Integer(layout.IntentCode, layout.IntentCodeSize, options.IntentCode);
        w.Integer(layout.XyztUnits, layout.XyztUnitsSize, options.XyztUnits);
        w.Integer(layout.QformCode, layout.XformCodeSize, options.QformCode);
        w.Integer(layout.SformCode, layout.XformCodeSize, options.SformCode);
        w.Float(layout.QuaternB, layout.FloatSize, options.Quaternion.B);
        w.Float(layout.QuaternC, layout.FloatSize, options.Quaternion.C);
        w.Float(layout.QuaternD, layout.FloatSize, options.Quaternion.D);
        w.Float(layout.QoffsetX, layout.FloatSize, options.QOffset.X);
        w.Float(layout.QoffsetY, layout.FloatSize, options.QOffset.Y);
        w.Float(layout.QoffsetZ, layout.FloatSize, options.QOffset.Z);
        if (options.Sform is { } sform)
        {
            if (sform.Count != 12) throw new ArgumentException($"Sform has {sform.Count} values; expected 12", nameof(options));
            for (var i = 0; i < 12; i++) w.Float(layout.SrowX + layout.FloatSize * i, layout.FloatSize, sform[i]);
        }
        var descrip = Encoding.Latin1.GetBytes(options.Descrip);
        descrip.AsSpan(0, Math.Min(descrip.Length, NiftiLayout.DescripLength - 1)).CopyTo(bytes.AsSpan(layout.Descrip));
        (pair ? layout.PairMagic : layout.SingleMagic).CopyTo(bytes, layout.Magic);

        var position = layout.HeaderSize;
        bytes[position] = (byte)(extensions.Length > 0 ? 1 : 0);
        position += NiftiLayout.ExtensionFlagSize;
        foreach (var (code, content, size) in extensions)
        {
            w.Int32(position, size);
            w.Int32(position + 4, code);
            content.CopyTo(bytes, position + NiftiLayout.ExtensionPreambleSize);
            position += size;
        }
        return bytes;
    }

    private static int PaddedSize(int contentLength)
    {
        var size = contentLength + NiftiLayout.ExtensionPreambleSize;
        return (size + ExtensionAlignment - 1) / ExtensionAlignment * ExtensionAlignment;
    }

    private static void WriteVoxels<T>(Stream stream, ReadOnlySpan<T> data, NiftiWriteOptions options) where T : unmanaged
    {
        var expected = options.Shape.Aggregate(1L, (a, b) => a * b);
        if (data.Length != expected)
            throw new ArgumentException($"data has {data.Length} values; shape {string.Join("×", options.Shape)} needs {expected}", nameof(data));
        var bytes = MemoryMarshal.AsBytes(data);
        var size = NiftiDataTypes.For<T>().BytesPerVoxel();
        if (options.LittleEndian == BitConverter.IsLittleEndian || size == 1)
        {
            stream.Write(bytes);
            return;
        }
        var chunk = new byte[1 << 16];
        for (var start = 0; start < bytes.Length; start += chunk.Length)
        {
            var part = chunk.AsSpan(0, Math.Min(chunk.Length, bytes.Length - start));
            bytes.Slice(start, part.Length).CopyTo(part);
            for (var i = 0; i < part.Length; i += size) part.Slice(i, size).Reverse();
            stream.Write(part);
        }
    }

    private static Stream Create(string path, bool gzip)
    {
        Stream file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        return gzip ? new GZipStream(file, CompressionLevel.Fastest, leaveOpen: false) : file;
    }

    private readonly ref struct FieldWriter(Span<byte> bytes, bool littleEndian)
    {
        private readonly Span<byte> _bytes = bytes;

        public void Int32(int offset, int value)
        {
            if (littleEndian) BinaryPrimitives.WriteInt32LittleEndian(_bytes[offset..], value);
            else BinaryPrimitives.WriteInt32BigEndian(_bytes[offset..], value);
        }

        public void Integer(int offset, int size, long value)
        {
            switch (size)
            {
                case 1: _bytes[offset] = checked((byte)value); break;
                case 2:
                    if (littleEndian) BinaryPrimitives.WriteInt16LittleEndian(_bytes[offset..], checked((short)value));
                    else BinaryPrimitives.WriteInt16BigEndian(_bytes[offset..], checked((short)value));
                    break;
                case 4: Int32(offset, checked((int)value)); break;
                default:
                    if (littleEndian) BinaryPrimitives.WriteInt64LittleEndian(_bytes[offset..], value);
                    else BinaryPrimitives.WriteInt64BigEndian(_bytes[offset..], value);
                    break;
            }
        }

        public void Float(int offset, int size, double value)
        {
            if (size == 4)
            {
                if (littleEndian) BinaryPrimitives.WriteSingleLittleEndian(_bytes[offset..], (float)value);
                else BinaryPrimitives.WriteSingleBigEndian(_bytes[offset..], (float)value);
            }
            else if (littleEndian) BinaryPrimitives.WriteDoubleLittleEndian(_bytes[offset..], value);
            else BinaryPrimitives.WriteDoubleBigEndian(_bytes[offset..], value);
        }
    }
}
