namespace CtScan.Nifti;

/// <summary>The NIfTI <c>datatype</c> codes (nifti1.h, NIFTI_TYPE_*). Not every code is readable; see
/// <see cref="NiftiDataTypes.IsSupported"/>.</summary>
public enum NiftiDataType : short
{
    None = 0,
    Binary = 1,
    UInt8 = 2,
    Int16 = 4,
    Int32 = 8,
    Float32 = 16,
    Complex64 = 32,
    Float64 = 64,
    Rgb24 = 128,
    Int8 = 256,
    UInt16 = 512,
    UInt32 = 768,
    Int64 = 1024,
    UInt64 = 1280,
    Float128 = 1536,
    Complex128 = 1792,
    Complex256 = 2048,
    Rgba32 = 2304,
}

/// <summary>Facts about <see cref="NiftiDataType"/> codes: size, name, whether this reader supports them.</summary>
public static class NiftiDataTypes
{
    /// <summary>The scalar types this reader converts to float64, in the order error messages list them.</summary>
    public static IReadOnlyList<NiftiDataType> Supported { get; } = Array.AsReadOnly(
    [
        NiftiDataType.UInt8, NiftiDataType.Int8, NiftiDataType.Int16, NiftiDataType.UInt16, NiftiDataType.Int32,
        NiftiDataType.UInt32, NiftiDataType.Int64, NiftiDataType.UInt64, NiftiDataType.Float32, NiftiDataType.Float64,
    ]);

    public static bool IsSupported(this NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 or NiftiDataType.Int16 or NiftiDataType.UInt16
            or NiftiDataType.Int32 or NiftiDataType.UInt32 or NiftiDataType.Int64 or NiftiDataType.UInt64
            or NiftiDataType.Float32 or NiftiDataType.Float64 => true,
        _ => false,
    };

    /// <summary>Bytes per voxel, or 0 for codes without a fixed whole-byte size (binary, none, unknown codes).</summary>
    public static int BytesPerVoxel(this NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
        NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
        NiftiDataType.Rgb24 => 3,
        NiftiDataType.Int32 or NiftiDataType.UInt32 or NiftiDataType.Float32 or NiftiDataType.Rgba32 => 4,
        NiftiDataType.Int64 or NiftiDataType.UInt64 or NiftiDataType.Float64 or NiftiDataType.Complex64 => 8,
        NiftiDataType.Float128 or NiftiDataType.Complex128 => 16,
        NiftiDataType.Complex256 => 32,
        _ => 0,
    };

    /// <summary>The numpy-style name ("int16", "float32", "RGB24"), or "code N" for unknown codes.</summary>
    public static string Name(this NiftiDataType type) => type switch
    {
        NiftiDataType.None => "none",
        NiftiDataType.Binary => "binary",
        NiftiDataType.UInt8 => "uint8",
        NiftiDataType.Int8 => "int8",
        NiftiDataType.Int16 => "int16",
        NiftiDataType.UInt16 => "uint16",
        NiftiDataType.Int32 => "int32",
        NiftiDataType.UInt32 => "uint32",
        NiftiDataType.Int64 => "int64",
        NiftiDataType.UInt64 => "uint64",
        NiftiDataType.Float32 => "float32",
        NiftiDataType.Float64 => "float64",
        NiftiDataType.Float128 => "float128",
        NiftiDataType.Complex64 => "complex64",
        NiftiDataType.Complex128 => "complex128",
        NiftiDataType.Complex256 => "complex256",
        NiftiDataType.Rgb24 => "RGB24",
        NiftiDataType.Rgba32 => "RGBA32",
        _ => $"code {(short)type}",
    };

    /// <summary>The datatype that stores values of the CLR type <typeparamref name="T"/> as they are.</summary>
    public static NiftiDataType For<T>() where T : unmanaged =>
        typeof(T) == typeof(byte) ? NiftiDataType.UInt8
        : typeof(T) == typeof(sbyte) ? NiftiDataType.Int8
        : typeof(T) == typeof(short) ? NiftiDataType.Int16
        : typeof(T) == typeof(ushort) ? NiftiDataType.UInt16
        : typeof(T) == typeof(int) ? NiftiDataType.Int32
        : typeof(T) == typeof(uint) ? NiftiDataType.UInt32
        : typeof(T) == typeof(long) ? NiftiDataType.Int64
        : typeof(T) == typeof(ulong) ? NiftiDataType.UInt64
        : typeof(T) == typeof(float) ? NiftiDataType.Float32
        : typeof(T) == typeof(double) ? NiftiDataType.Float64
        : throw new ArgumentException(
            $"no NIfTI datatype stores {typeof(T).Name}; use one of byte, sbyte, short, ushort, int, uint, long, ulong, float, double");
}
