namespace CtScan.Nifti;

/// <summary>Limits and switches for reading a NIfTI file.</summary>
public sealed record NiftiReadOptions
{
    public const long DefaultMaxVoxelDataBytes = 2L * 1024 * 1024 * 1024;

    public static NiftiReadOptions Default { get; } = new();

    /// <summary>
    /// The largest voxel data block (dim product × bytes per voxel) accepted, checked from the header before any
    /// buffer is allocated, so a hostile header cannot make the reader allocate or read without bound. Default 2 GiB.
    /// </summary>
    public long MaxVoxelDataBytes { get; init; } = DefaultMaxVoxelDataBytes;
}
