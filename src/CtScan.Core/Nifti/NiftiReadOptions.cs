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

    public const long DefaultMaxTrailingDataBytes = 4L * 1024 * 1024;

    public const long DefaultMaxDataOffsetGapBytes = 4L * 1024 * 1024;

    /// <summary>
    /// The most (decompressed) bytes read after the last voxel of a gzipped file to reach and check its trailer; more
    /// is refused (<see cref="NiftiLimitException"/>), since a few MiB of gzipped zeros inflate to many GiB.
    /// Default 4 MiB.
    /// </summary>
    public long MaxTrailingDataBytes { get; init; } = DefaultMaxTrailingDataBytes;

    /// <summary>
    /// The most bytes between the end of the header and vox_offset (extensions included; the whole extension list of a
    /// .hdr), refused beyond (<see cref="NiftiLimitException"/>): skipping them in a gzipped file inflates them.
    /// Default 4 MiB.
    /// </summary>
    public long MaxDataOffsetGapBytes { get; init; } = DefaultMaxDataOffsetGapBytes;

    /// <summary>
    /// Inflate a gzipped file on a second thread, up to 1 MiB (4 chunks of 256 KiB) ahead of the reader, so inflating
    /// can overlap decoding and preprocessing. The limits above apply as before (to what the reader consumes; the
    /// thread inflates at most those 1 MiB more). Default off: on the shared 2-core machine it measured no gain (the
    /// second core is rarely free, and every hand-over then waits for the scheduler); `ctscan bench --all-cores`
    /// compares both ways (docs/benchmarks.md#inflate-in-ctscan-bench).
    /// </summary>
    public bool InflateAhead { get; init; }
}
