using System.Globalization;
using CtScan.Nifti;

namespace CtScan.Validation;

/// <summary>
/// What one scan may cost <see cref="ScanIntake"/>: the memory its preprocessing allocates (estimated from the header
/// before anything is allocated) and the time decoding and preprocessing may take. Exceeding either rejects the scan
/// with <c>too-large</c>. The reader's own bounds (data after the voxels, the gap before vox_offset) are
/// <see cref="NiftiReadOptions"/>; docs/input-gate.md ("Work budget") lists all of them.
/// </summary>
public sealed record ScanWorkBudget
{
    public const long DefaultMaxMemoryBytes = 2L * 1024 * 1024 * 1024;

    public static readonly TimeSpan DefaultMaxDuration = TimeSpan.FromSeconds(120);

    public static ScanWorkBudget Default { get; } = new();

    /// <summary>The most bytes the buffers for one scan may take (reader slice buffer plus preprocessing). Default 2 GiB.</summary>
    public long MaxMemoryBytes { get; init; } = DefaultMaxMemoryBytes;

    /// <summary>The longest decoding and preprocessing of one scan may take. Default 120 s.</summary>
    public TimeSpan MaxDuration { get; init; } = DefaultMaxDuration;

    /// <summary>Throws, naming the bad value, unless the memory budget is positive and the time budget in (0, 1 day].</summary>
    public ScanWorkBudget Validated()
    {
        if (MaxMemoryBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxMemoryBytes), MaxMemoryBytes, $"the memory budget must be positive; got {MaxMemoryBytes} bytes");
        // A cancellation timer takes at most about 49 days; a day is already far beyond any scan.
        if (MaxDuration <= TimeSpan.Zero || MaxDuration > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(MaxDuration), MaxDuration, $"the time budget must be positive and at most a day; got {MaxDuration}");
        return this;
    }

    /// <summary>Bytes as whole MB (10^6), the unit of the budget's messages.</summary>
    public static string Megabytes(long bytes) => (bytes / 1e6).ToString("#,0", CultureInfo.InvariantCulture) + " MB";
}
