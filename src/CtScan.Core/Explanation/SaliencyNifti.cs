using System.IO.Compression;
using CtScan.Nifti;

namespace CtScan.Explanation;

/// <summary>
/// Writes a saliency map as a float32 NIfTI-1 on a scan's own grid: the scan's first three dims, voxel sizes, qform
/// and sform copied from its header, so a viewer overlays the map on the uploaded file voxel for voxel.
/// </summary>
public static class SaliencyNifti
{
    /// <summary>Writes <paramref name="map"/> (file order, i fastest, the scan's first volume) gzip-compressed to <paramref name="destination"/>.</summary>
    public static void WriteGzip(Stream destination, ReadOnlySpan<float> map, NiftiHeader scan, string description)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var gzip = new GZipStream(destination, CompressionLevel.Optimal, leaveOpen: true);
        NiftiWriter.WriteSingle(gzip, map, OptionsFor(scan, map.Length, description));
    }

    /// <summary>The header of the map: the scan's geometry, float32, unscaled, display range [0, 1].</summary>
    public static NiftiWriteOptions OptionsFor(NiftiHeader scan, long voxels, string description)
    {
        ArgumentNullException.ThrowIfNull(scan);
        var shape = scan.DataShape;
        if (shape.Count < 3 && voxels != shape.Aggregate(1L, (a, b) => a * b) || shape.Count >= 3 && voxels != shape[0] * shape[1] * shape[2])
            throw new ArgumentException($"the map holds {voxels} voxels; the scan's grid is [{string.Join(", ", shape)}]", nameof(voxels));
        long[] dims = [.. shape.Take(3)];
        return new NiftiWriteOptions
        {
            Shape = dims,
            VoxelSize = [.. scan.PixDim.Skip(1).Take(dims.Length)],
            Qfac = scan.PixDim[0] == -1 ? -1 : 1,
            SclSlope = 1,
            SclInter = 0,
            QformCode = scan.QformCode,
            Quaternion = (scan.QuaternB, scan.QuaternC, scan.QuaternD),
            QOffset = (scan.QoffsetX, scan.QoffsetY, scan.QoffsetZ),
            SformCode = scan.SformCode,
            Sform = [.. scan.SrowX, .. scan.SrowY, .. scan.SrowZ],
            XyztUnits = scan.XyztUnits & 0x07, // the spatial unit; the map has no time axis
            CalMin = 0,
            CalMax = 1,
            Descrip = description.Length > 79 ? description[..79] : description,
        };
    }
}
