using System.Buffers.Binary;
using System.IO.Compression;
using CtScan.Nifti;
using CtScan.Phantoms;

namespace CtScan.Validation;

/// <summary>
/// NIfTI files built to cost more than a scan may (<see cref="ScanWorkBudget"/>, the reader's bounds): a small valid
/// phantom followed by gzipped zeros, a header declaring a huge volume over gzipped zeros, a phantom behind a large
/// vox_offset gap. The zeros are compressed as they are written, never held in memory, so a 32 GiB bomb costs 33 MB of
/// disk. For <c>ctscan bench hostile</c> and the tests.
/// </summary>
public static class BudgetConstructions
{
    private const int ZeroBlock = 1 << 20;

    /// <summary>nifti1.h: vox_offset is the float32 at byte 108 of a NIfTI-1 header.</summary>
    private const int Nifti1VoxOffsetField = 108;

    /// <summary>Where a NIfTI-1 single file's data starts when it has no extensions (header + extension flag).</summary>
    private const int Nifti1DataStart = 352;

    /// <summary>A <paramref name="phantomShape"/> phantom (passes the gate) and then <paramref name="trailingBytes"/>
    /// zero bytes, all in one gzip member: valid gzip, valid NIfTI, with junk after the voxels.</summary>
    public static void WriteTrailingZeros(string path, VolumeShape phantomShape, long trailingBytes, CancellationToken cancellationToken = default)
    {
        byte[] phantom = PhantomBytes(phantomShape, cancellationToken);
        using var gzip = CreateGzip(path);
        gzip.Write(phantom);
        WriteZeros(gzip, trailingBytes, cancellationToken);
    }

    /// <summary>A header declaring <paramref name="shape"/> voxels of <paramref name="dataType"/> (1 mm, stored in
    /// <paramref name="orientation"/>: LPS as phantoms are, or RAS), over gzipped zeros.</summary>
    public static void WriteZeroVolume(string path, VolumeShape shape, NiftiDataType dataType, string orientation = "LPS", CancellationToken cancellationToken = default)
    {
        var header = NiftiWriter.BuildHeader(dataType, new NiftiWriteOptions
        {
            Shape = [shape.Width, shape.Height, shape.Depth],
            // NIfTI-1 dims are int16: a 40000-voxel axis needs NIfTI-2.
            Version = Math.Max(shape.Width, Math.Max(shape.Height, shape.Depth)) > short.MaxValue ? 2 : 1,
            VoxelSize = [1, 1, 1],
            QformCode = 1,
            // LPS is a rotation of 180° about z from RAS: quaternion (b, c, d) = (0, 0, 1).
            Quaternion = orientation switch
            {
                "LPS" => (0, 0, 1),
                "RAS" => (0, 0, 0),
                _ => throw new ArgumentException($"orientation must be LPS or RAS; got {orientation}", nameof(orientation)),
            },
        }, pair: false);
        using var gzip = CreateGzip(path);
        gzip.Write(header);
        WriteZeros(gzip, shape.VoxelCount * dataType.BytesPerVoxel(), cancellationToken);
    }

    /// <summary>A <paramref name="phantomShape"/> phantom whose vox_offset is <paramref name="voxOffset"/> (a float32:
    /// use a power of two above 2^24), the gap before it filled with zeros; gzipped.</summary>
    public static void WriteOffsetGap(string path, VolumeShape phantomShape, long voxOffset, CancellationToken cancellationToken = default)
    {
        if (voxOffset <= Nifti1DataStart || (long)(float)voxOffset != voxOffset)
            throw new ArgumentOutOfRangeException(nameof(voxOffset), voxOffset, $"vox_offset must exceed {Nifti1DataStart} and be exact in float32");
        byte[] phantom = PhantomBytes(phantomShape, cancellationToken);
        BinaryPrimitives.WriteSingleLittleEndian(phantom.AsSpan(Nifti1VoxOffsetField), voxOffset);
        using var gzip = CreateGzip(path);
        gzip.Write(phantom.AsSpan(0, Nifti1DataStart));
        WriteZeros(gzip, voxOffset - Nifti1DataStart, cancellationToken);
        gzip.Write(phantom.AsSpan(Nifti1DataStart));
    }

    private static byte[] PhantomBytes(VolumeShape shape, CancellationToken cancellationToken)
    {
        string temporary = Path.Combine(Path.GetTempPath(), $"ctscan-phantom-{Guid.NewGuid():N}.nii");
        try
        {
            ChestPhantomFile.Write(temporary, new ChestPhantomOptions { Shape = shape, Seed = 1 }, cancellationToken);
            return File.ReadAllBytes(temporary);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    // Optimal: zeros then deflate about 1000:1, as an attacker would make them (Fastest gives about 100:1).
    private static GZipStream CreateGzip(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), CompressionLevel.Optimal);

    private static void WriteZeros(Stream stream, long count, CancellationToken cancellationToken)
    {
        var zeros = new byte[ZeroBlock];
        for (long left = count; left > 0; left -= ZeroBlock)
        {
            cancellationToken.ThrowIfCancellationRequested();
            stream.Write(zeros, 0, (int)Math.Min(ZeroBlock, left));
        }
    }
}
