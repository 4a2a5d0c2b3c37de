namespace CtScan.Nifti;

/// <summary>What <see cref="NiftiWriter"/> puts in the header besides the datatype (taken from the data's type).
/// Defaults make a plain unscaled NIfTI-1 little-endian file with 1 mm voxels and no orientation.</summary>
public sealed record NiftiWriteOptions
{
    /// <summary>dim[1..]: 1 to 7 extents, i fastest (Fortran order).</summary>
    public required IReadOnlyList<long> Shape { get; init; }

    /// <summary>1 (348-byte header) or 2 (540-byte header).</summary>
    public int Version { get; init; } = 1;

    public bool LittleEndian { get; init; } = true;

    /// <summary>pixdim[1..]: voxel size per axis (mm for the first three with the default units); missing axes get 1.</summary>
    public IReadOnlyList<double> VoxelSize { get; init; } = [];

    /// <summary>pixdim[0].</summary>
    public double Qfac { get; init; } = 1;

    /// <summary>scl_slope; 0 or NaN means unscaled.</summary>
    public double SclSlope { get; init; } = 1;

    public double SclInter { get; init; }

    public int QformCode { get; init; }

    /// <summary>quatern_b, quatern_c, quatern_d.</summary>
    public (double B, double C, double D) Quaternion { get; init; }

    /// <summary>qoffset_x, qoffset_y, qoffset_z.</summary>
    public (double X, double Y, double Z) QOffset { get; init; }

    public int SformCode { get; init; }

    /// <summary>srow_x, srow_y, srow_z (12 values, row after row), or null for zeros.</summary>
    public IReadOnlyList<double>? Sform { get; init; }

    public string Descrip { get; init; } = "";

    /// <summary>Default 10: mm and seconds.</summary>
    public int XyztUnits { get; init; } = 10;

    public double CalMin { get; init; }
    public double CalMax { get; init; }
    public int IntentCode { get; init; }

    /// <summary>Header extensions (code, content); each is padded to a multiple of 16 bytes as nifti1.h requires.</summary>
    public IReadOnlyList<(int Code, byte[] Content)> Extensions { get; init; } = [];
}
