namespace CtScan.Nifti;

/// <summary>
/// Byte offsets of the header fields in NIfTI-1 (348 bytes, nifti1.h) and NIfTI-2 (540 bytes, nifti2.h). NIfTI-2
/// widens dims to int64 and floats to float64, reorders fields and moves the magic to offset 4.
/// </summary>
internal sealed record NiftiLayout(
    int Version,
    int HeaderSize,
    int Magic, int MagicLength,
    int DimInfo,
    int Dim, int DimSize,
    int IntentCode, int IntentCodeSize,
    int DataType,
    int BitPix,
    int PixDim, int FloatSize,
    int VoxOffset,
    int SclSlope,
    int SclInter,
    int SliceCode, int SliceCodeSize,
    int XyztUnits, int XyztUnitsSize,
    int CalMax,
    int CalMin,
    int Descrip,
    int QformCode, int XformCodeSize,
    int SformCode,
    int QuaternB,
    int SrowX)
{
    public const int DescripLength = 80;
    public const int DimCount = 8;
    public const int MaxDims = 7;

    /// <summary>The 4-byte extension flag that follows the header in a single file or a .hdr.</summary>
    public const int ExtensionFlagSize = 4;

    /// <summary>Each extension starts with esize and ecode (int32 each).</summary>
    public const int ExtensionPreambleSize = 8;

    public static readonly NiftiLayout Nifti1 = new(
        Version: 1, HeaderSize: 348, Magic: 344, MagicLength: 4, DimInfo: 39, Dim: 40, DimSize: 2,
        IntentCode: 68, IntentCodeSize: 2, DataType: 70, BitPix: 72, PixDim: 76, FloatSize: 4, VoxOffset: 108,
        SclSlope: 112, SclInter: 116, SliceCode: 122, SliceCodeSize: 1, XyztUnits: 123, XyztUnitsSize: 1,
        CalMax: 124, CalMin: 128, Descrip: 148, QformCode: 252, XformCodeSize: 2, SformCode: 254, QuaternB: 256,
        SrowX: 280);

    public static readonly NiftiLayout Nifti2 = new(
        Version: 2, HeaderSize: 540, Magic: 4, MagicLength: 8, DimInfo: 524, Dim: 16, DimSize: 8,
        IntentCode: 504, IntentCodeSize: 4, DataType: 12, BitPix: 14, PixDim: 104, FloatSize: 8, VoxOffset: 168,
        SclSlope: 176, SclInter: 184, SliceCode: 496, SliceCodeSize: 4, XyztUnits: 500, XyztUnitsSize: 4,
        CalMax: 192, CalMin: 200, Descrip: 240, QformCode: 344, XformCodeSize: 4, SformCode: 348, QuaternB: 352,
        SrowX: 400);

    /// <summary>Magic of a single file (.nii): "n+1\0" or "n+2\0\r\n\x1A\n".</summary>
    public byte[] SingleMagic => Version == 1 ? "n+1\0"u8.ToArray() : "n+2\0\r\n\x1A\n"u8.ToArray();

    /// <summary>Magic of a header/image pair (.hdr + .img): "ni1\0" or "ni2\0\r\n\x1A\n".</summary>
    public byte[] PairMagic => Version == 1 ? "ni1\0"u8.ToArray() : "ni2\0\r\n\x1A\n"u8.ToArray();

    /// <summary>The smallest vox_offset of a single file: header plus the 4-byte extension flag (352 or 544).</summary>
    public int SingleVoxOffset => HeaderSize + ExtensionFlagSize;

    public int QuaternC => QuaternB + FloatSize;
    public int QuaternD => QuaternB + 2 * FloatSize;
    public int QoffsetX => QuaternB + 3 * FloatSize;
    public int QoffsetY => QuaternB + 4 * FloatSize;
    public int QoffsetZ => QuaternB + 5 * FloatSize;
    public int SrowY => SrowX + 4 * FloatSize;
    public int SrowZ => SrowX + 8 * FloatSize;

    public static NiftiLayout ForVersion(int version) => version switch
    {
        1 => Nifti1,
        2 => Nifti2,
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "NIfTI version must be 1 or 2"),
    };
}
