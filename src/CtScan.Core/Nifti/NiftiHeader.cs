using System.Buffers.Binary;
using System.Text;

namespace CtScan.Nifti;

/// <summary>Scale factors of <c>get_fdata</c>: value = raw × <see cref="Slope"/> + <see cref="Intercept"/>.</summary>
public readonly record struct ScaleFactors(double Slope, double Intercept);

/// <summary>
/// An immutable NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header, parsed from its bytes in either byte order. Values
/// are kept as stored (NIfTI-1 floats widened exactly to double); nothing is fixed up. <see cref="Diagnose"/> runs
/// the check battery; readers throw on its errors.
/// </summary>
public sealed class NiftiHeader
{
    private readonly long[] _dim;
    private readonly double[] _pixDim;
    private readonly double[] _srowX, _srowY, _srowZ;

    private NiftiHeader(NiftiLayout layout, bool littleEndian, ReadOnlySpan<byte> bytes)
    {
        Layout = layout;
        IsLittleEndian = littleEndian;
        var f = new FieldReader(bytes, littleEndian);
        _dim = new long[NiftiLayout.DimCount];
        for (var i = 0; i < _dim.Length; i++)
            _dim[i] = layout.DimSize == 2 ? f.Int16(layout.Dim + 2 * i) : f.Int64(layout.Dim + 8 * i);
        _pixDim = new double[NiftiLayout.DimCount];
        for (var i = 0; i < _pixDim.Length; i++)
            _pixDim[i] = f.Float(layout.PixDim + layout.FloatSize * i, layout.FloatSize);
        DataType = (NiftiDataType)f.Int16(layout.DataType);
        BitPix = f.Int16(layout.BitPix);
        VoxOffset = layout.Version == 1 ? f.Float(layout.VoxOffset, 4) : f.Int64(layout.VoxOffset);
        SclSlope = f.Float(layout.SclSlope, layout.FloatSize);
        SclInter = f.Float(layout.SclInter, layout.FloatSize);
        CalMax = f.Float(layout.CalMax, layout.FloatSize);
        CalMin = f.Float(layout.CalMin, layout.FloatSize);
        QformCode = f.Integer(layout.QformCode, layout.XformCodeSize);
        SformCode = f.Integer(layout.SformCode, layout.XformCodeSize);
        QuaternB = f.Float(layout.QuaternB, layout.FloatSize);
        QuaternC = f.Float(layout.QuaternC, layout.FloatSize);
        QuaternD = f.Float(layout.QuaternD, layout.FloatSize);
        QoffsetX = f.Float(layout.QoffsetX, layout.FloatSize);
        QoffsetY = f.Float(layout.QoffsetY, layout.FloatSize);
        QoffsetZ = f.Float(layout.QoffsetZ, layout.FloatSize);
        _srowX = ReadRow(f, layout.SrowX, layout.FloatSize);
        _srowY = ReadRow(f, layout.SrowY, layout.FloatSize);
        _srowZ = ReadRow(f, layout.SrowZ, layout.FloatSize);
        IntentCode = f.Integer(layout.IntentCode, layout.IntentCodeSize);
        SliceCode = f.Integer(layout.SliceCode, layout.SliceCodeSize);
        XyztUnits = f.Integer(layout.XyztUnits, layout.XyztUnitsSize);
        DimInfo = bytes[layout.DimInfo];
        Descrip = CString(bytes.Slice(layout.Descrip, NiftiLayout.DescripLength));
        MagicBytes = bytes.Slice(layout.Magic, layout.MagicLength).ToArray();
        Magic = CString(MagicBytes);
        IsPairFormat = MagicBytes.AsSpan().SequenceEqual(layout.PairMagic);
        HasValidMagic = IsPairFormat || MagicBytes.AsSpan().SequenceEqual(layout.SingleMagic);
    }

    /// <summary>1 or 2.</summary>
    public int NiftiVersion => Layout.Version;

    /// <summary>348 (NIfTI-1) or 540 (NIfTI-2).</summary>
    public int SizeOfHeader => Layout.HeaderSize;

    public bool IsLittleEndian { get; }

    /// <summary>All 8 <c>dim</c> entries; dim[0] is the number of dimensions.</summary>
    public IReadOnlyList<long> Dim => _dim;

    /// <summary>dim[1..dim[0]], or empty when dim[0] is out of 1..7.</summary>
    public IReadOnlyList<long> DataShape => Rank is >= 1 and <= NiftiLayout.MaxDims ? _dim[1..(Rank + 1)] : [];

    /// <summary>dim[0].</summary>
    public int Rank => (int)Math.Clamp(_dim[0], int.MinValue, int.MaxValue);

    public NiftiDataType DataType { get; }
    public int BitPix { get; }

    /// <summary>All 8 <c>pixdim</c> entries; pixdim[0] is qfac, pixdim[1..3] the voxel size.</summary>
    public IReadOnlyList<double> PixDim => _pixDim;

    /// <summary>Offset of the voxel data in the data file, as stored (a float in NIfTI-1).</summary>
    public double VoxOffset { get; }

    public double SclSlope { get; }
    public double SclInter { get; }
    public double CalMin { get; }
    public double CalMax { get; }
    public int QformCode { get; }
    public int SformCode { get; }
    public double QuaternB { get; }
    public double QuaternC { get; }
    public double QuaternD { get; }
    public double QoffsetX { get; }
    public double QoffsetY { get; }
    public double QoffsetZ { get; }
    public IReadOnlyList<double> SrowX => _srowX;
    public IReadOnlyList<double> SrowY => _srowY;
    public IReadOnlyList<double> SrowZ => _srowZ;
    public string Descrip { get; }
    public int IntentCode { get; }
    public int XyztUnits { get; }
    public int DimInfo { get; }
    public int SliceCode { get; }

    /// <summary>The magic up to its first NUL: "n+1", "ni1", "n+2" or "ni2" in a valid file.</summary>
    public string Magic { get; }

    /// <summary>True for a .hdr/.img pair (magic ni1/ni2), false for a single file (n+1/n+2).</summary>
    public bool IsPairFormat { get; }

    internal bool HasValidMagic { get; }
    internal byte[] MagicBytes { get; }
    internal NiftiLayout Layout { get; }

    /// <summary>Product of dim[1..dim[0]] (saturated at <see cref="long.MaxValue"/>; 0 if a dim is not positive).</summary>
    public long VoxelCount
    {
        get
        {
            var shape = DataShape;
            if (shape.Count == 0) return 0;
            Int128 count = 1;
            foreach (var d in shape)
            {
                if (d <= 0) return 0;
                count *= d;
                if (count > long.MaxValue) return long.MaxValue;
            }
            return (long)count;
        }
    }

    /// <summary>Bytes of voxel data the header declares (saturated at <see cref="long.MaxValue"/>).</summary>
    public long DataByteCount
    {
        get
        {
            var bytes = (Int128)VoxelCount * DataType.BytesPerVoxel();
            return bytes > long.MaxValue ? long.MaxValue : (long)bytes;
        }
    }

    /// <summary>vox_offset as a byte position (valid once the checks passed).</summary>
    public long DataOffset => (long)VoxOffset;

    /// <summary>Voxel size (pixdim[1..3]) in millimetres, converted from the spatial unit of xyzt_units
    /// (unknown units are taken as mm).</summary>
    public (double X, double Y, double Z) SpacingMm
    {
        get
        {
            var toMm = (XyztUnits & SpatialUnitMask) switch
            {
                UnitsMeter => 1000.0,
                UnitsMicron => 0.001,
                _ => 1.0,
            };
            return (_pixDim[1] * toMm, _pixDim[2] * toMm, _pixDim[3] * toMm);
        }
    }

    private const int SpatialUnitMask = 0x07;
    private const int UnitsMeter = 1;
    private const int UnitsMicron = 3;

    /// <summary>
    /// The scaling <c>get_fdata</c> applies, or null when unscaled: a slope of 0, NaN or ±infinity means unscaled
    /// (nibabel). A valid slope with a non-finite intercept is an error of the file.
    /// </summary>
    /// <exception cref="NiftiFormatException">scl_slope is valid but scl_inter is NaN or infinite.</exception>
    public ScaleFactors? GetSlopeInter(string fileName = "header")
    {
        if (SclSlope == 0 || !double.IsFinite(SclSlope)) return null;
        if (!double.IsFinite(SclInter))
            throw new NiftiFormatException(fileName, "scl_inter",
                $"scl_slope is {SclSlope} but scl_inter is {SclInter}; a scaled file needs a finite intercept");
        return new ScaleFactors(SclSlope, SclInter);
    }

    /// <summary>Runs the header check battery and returns every problem found, errors included.</summary>
    public IReadOnlyList<HeaderProblem> Diagnose(NiftiReadOptions? options = null) =>
        NiftiHeaderChecks.Run(this, options ?? NiftiReadOptions.Default);

    /// <summary>The qform affine (voxel → world), as nibabel's <c>get_qform</c>; qfac from pixdim[0], where any value
    /// other than −1 counts as 1, and negative voxel sizes are taken as their absolute value.</summary>
    public double[,] GetQformAffine() => NiftiAffines.FromQuaternion(this);

    /// <summary>The sform affine: rows srow_x, srow_y, srow_z and (0, 0, 0, 1).</summary>
    public double[,] GetSformAffine() => new double[4, 4]
    {
        { _srowX[0], _srowX[1], _srowX[2], _srowX[3] },
        { _srowY[0], _srowY[1], _srowY[2], _srowY[3] },
        { _srowZ[0], _srowZ[1], _srowZ[2], _srowZ[3] },
        { 0, 0, 0, 1 },
    };

    /// <summary>nibabel's <c>get_best_affine</c>: the sform if sform_code &gt; 0, else the qform if qform_code &gt; 0,
    /// else the pixdim-based affine centred on the volume (x flipped).</summary>
    public double[,] GetBestAffine() =>
        SformCode > 0 ? GetSformAffine() : QformCode > 0 ? GetQformAffine() : NiftiAffines.FromPixDim(this);

    /// <summary>Reads sizeof_hdr from the first 4 bytes: the NIfTI version and byte order, or null if it is neither
    /// 348 nor 540 in either byte order.</summary>
    public static (int Version, bool LittleEndian)? DetectFormat(ReadOnlySpan<byte> first4Bytes)
    {
        var little = BinaryPrimitives.ReadInt32LittleEndian(first4Bytes);
        var big = BinaryPrimitives.ReadInt32BigEndian(first4Bytes);
        foreach (var layout in new[] { NiftiLayout.Nifti1, NiftiLayout.Nifti2 })
        {
            if (little == layout.HeaderSize) return (layout.Version, true);
            if (big == layout.HeaderSize) return (layout.Version, false);
        }
        return null;
    }

    /// <summary>Parses a header from its bytes (at least 348 or 540). Does not run the checks.</summary>
    /// <exception cref="NiftiFormatException">sizeof_hdr is wrong or the bytes are too few.</exception>
    public static NiftiHeader Parse(ReadOnlySpan<byte> bytes, string fileName = "header")
    {
        if (bytes.Length < sizeof(int))
            throw Truncated(fileName, NiftiLayout.Nifti1.HeaderSize, bytes.Length);
        var format = DetectFormat(bytes)
            ?? throw new NiftiFormatException(fileName, "sizeof_hdr",
                $"sizeof_hdr is {BinaryPrimitives.ReadInt32LittleEndian(bytes)} (little-endian) / " +
                $"{BinaryPrimitives.ReadInt32BigEndian(bytes)} (big-endian); expected 348 (NIfTI-1) or 540 (NIfTI-2): " +
                "not a NIfTI file");
        var layout = NiftiLayout.ForVersion(format.Version);
        if (bytes.Length < layout.HeaderSize)
            throw Truncated(fileName, layout.HeaderSize, bytes.Length);
        return new NiftiHeader(layout, format.LittleEndian, bytes[..layout.HeaderSize]);
    }

    internal static NiftiFormatException Truncated(string fileName, int expected, int found) =>
        new(fileName, "header", $"header truncated: expected {expected} bytes, found {found}");

    private static double[] ReadRow(FieldReader f, int offset, int size) =>
        [f.Float(offset, size), f.Float(offset + size, size), f.Float(offset + 2 * size, size), f.Float(offset + 3 * size, size)];

    private static string CString(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf((byte)0);
        return Encoding.Latin1.GetString(end < 0 ? bytes : bytes[..end]);
    }

    /// <summary>Reads fields of one byte order from the header bytes.</summary>
    private readonly ref struct FieldReader(ReadOnlySpan<byte> bytes, bool littleEndian)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;

        public short Int16(int offset) => littleEndian
            ? BinaryPrimitives.ReadInt16LittleEndian(_bytes[offset..])
            : BinaryPrimitives.ReadInt16BigEndian(_bytes[offset..]);

        public int Int32(int offset) => littleEndian
            ? BinaryPrimitives.ReadInt32LittleEndian(_bytes[offset..])
            : BinaryPrimitives.ReadInt32BigEndian(_bytes[offset..]);

        public long Int64(int offset) => littleEndian
            ? BinaryPrimitives.ReadInt64LittleEndian(_bytes[offset..])
            : BinaryPrimitives.ReadInt64BigEndian(_bytes[offset..]);

        public int Integer(int offset, int size) => size switch
        {
            1 => _bytes[offset],
            2 => Int16(offset),
            _ => Int32(offset),
        };

        public double Float(int offset, int size) => size == 4
            ? (littleEndian ? BinaryPrimitives.ReadSingleLittleEndian(_bytes[offset..]) : BinaryPrimitives.ReadSingleBigEndian(_bytes[offset..]))
            : (littleEndian ? BinaryPrimitives.ReadDoubleLittleEndian(_bytes[offset..]) : BinaryPrimitives.ReadDoubleBigEndian(_bytes[offset..]));
    }
}
