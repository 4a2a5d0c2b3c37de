using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CtScan.Nifti;

/// <summary>
/// Converts raw voxel bytes of one datatype and byte order to scaled float64, the one place where
/// <c>get_fdata</c>'s arithmetic happens: value = (double)raw × slope + intercept, only when the file is scaled.
/// </summary>
internal readonly struct VoxelDecoder
{
    private readonly NiftiDataType _type;
    private readonly bool _swap;
    private readonly ScaleFactors? _scale;

    public VoxelDecoder(NiftiDataType type, bool fileIsLittleEndian, ScaleFactors? scale)
    {
        _type = type;
        BytesPerVoxel = type.BytesPerVoxel();
        _swap = fileIsLittleEndian != BitConverter.IsLittleEndian;
        _scale = scale;
    }

    public int BytesPerVoxel { get; }

    /// <summary>Decodes <paramref name="raw"/> (whole voxels; byte-swapped in place if needed) into
    /// <paramref name="destination"/>, which must hold raw.Length / BytesPerVoxel values.</summary>
    public void Decode(Span<byte> raw, Span<double> destination)
    {
        var count = raw.Length / BytesPerVoxel;
        destination = destination[..count];
        switch (_type)
        {
            case NiftiDataType.UInt8: Widen<byte>(raw, destination); break;
            case NiftiDataType.Int8: Widen<sbyte>(raw, destination); break;
            case NiftiDataType.Int16: Widen<short>(Swapped<short>(raw), destination); break;
            case NiftiDataType.UInt16: Widen<ushort>(Swapped<ushort>(raw), destination); break;
            case NiftiDataType.Int32: Widen<int>(Swapped<int>(raw), destination); break;
            case NiftiDataType.UInt32: Widen<uint>(Swapped<uint>(raw), destination); break;
            case NiftiDataType.Int64: Widen<long>(Swapped<long>(raw), destination); break;
            case NiftiDataType.UInt64: Widen<ulong>(Swapped<ulong>(raw), destination); break;
            case NiftiDataType.Float32:
                Swapped<int>(raw);
                Widen<float>(raw, destination);
                break;
            case NiftiDataType.Float64:
                Swapped<long>(raw);
                MemoryMarshal.Cast<byte, double>(raw).CopyTo(destination);
                break;
            default:
                throw new InvalidOperationException($"datatype {_type.Name()} passed the checks but has no decoder");
        }
        if (_scale is { } s) Scale(destination, s.Slope, s.Intercept);
    }

    private Span<byte> Swapped<T>(Span<byte> raw) where T : unmanaged, IBinaryInteger<T>
    {
        if (!_swap) return raw;
        var values = MemoryMarshal.Cast<byte, T>(raw);
        if (typeof(T) == typeof(short)) BinaryPrimitives.ReverseEndianness(Cast<short>(values), Cast<short>(values));
        else if (typeof(T) == typeof(ushort)) BinaryPrimitives.ReverseEndianness(Cast<ushort>(values), Cast<ushort>(values));
        else if (typeof(T) == typeof(int)) BinaryPrimitives.ReverseEndianness(Cast<int>(values), Cast<int>(values));
        else if (typeof(T) == typeof(uint)) BinaryPrimitives.ReverseEndianness(Cast<uint>(values), Cast<uint>(values));
        else if (typeof(T) == typeof(long)) BinaryPrimitives.ReverseEndianness(Cast<long>(values), Cast<long>(values));
        else if (typeof(T) == typeof(ulong)) BinaryPrimitives.ReverseEndianness(Cast<ulong>(values), Cast<ulong>(values));
        return raw;

        static Span<TOut> Cast<TOut>(Span<T> span) where TOut : unmanaged => MemoryMarshal.Cast<T, TOut>(span);
    }

    /// <summary>raw values → double; one tight loop per type after JIT specialisation.</summary>
    private static void Widen<T>(ReadOnlySpan<byte> raw, Span<double> destination) where T : unmanaged, INumberBase<T>
    {
        var values = MemoryMarshal.Cast<byte, T>(raw);
        ref var d = ref MemoryMarshal.GetReference(destination);
        for (var i = 0; i < values.Length; i++)
            Unsafe.Add(ref d, i) = double.CreateTruncating(values[i]);
    }

    /// <summary>value = value × slope + intercept as two roundings (multiply, then add), like numpy; no FMA.</summary>
    private static void Scale(Span<double> values, double slope, double intercept)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vs = new Vector<double>(slope);
            var vi = new Vector<double>(intercept);
            var vectors = MemoryMarshal.Cast<double, Vector<double>>(values);
            for (var v = 0; v < vectors.Length; v++)
                vectors[v] = vectors[v] * vs + vi;
            i = vectors.Length * Vector<double>.Count;
        }
        for (; i < values.Length; i++)
            values[i] = values[i] * slope + intercept;
    }
}
