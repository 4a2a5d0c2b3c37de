namespace CtScan.Preprocessing;

/// <summary>
/// The bytes <see cref="ScanPreprocessor.Process"/> and the whole-volume steps before it (<see cref="VolumeGrid"/>,
/// <see cref="Reorientation"/>, <see cref="SpacingResampler"/>) allocate for a source shape, computed from the
/// shapes alone so that a scan can be refused before anything is allocated. Kept next to the code it mirrors: a new
/// buffer there needs a line here.
/// </summary>
public static class PreprocessingMemory
{
    /// <summary>What <see cref="ScanPreprocessor.Process"/> allocates for a <paramref name="source"/> volume: the
    /// decoded slice, the rotated planes the zoom reads, the spline's coefficients and taps (counted even when the
    /// plan turns out to be a plain index map), the slice-to-plane map and the output tensor.</summary>
    public static long Streaming(VolumeShape source, VolumeShape target)
    {
        long slice = source.SliceVoxelCount;
        long rows = LinearZoomAxis.Create(source.Width, target.Width).DistinctTaps().Length;
        long columns = LinearZoomAxis.Create(source.Height, target.Height).DistinctTaps().Length;
        long planes = LinearZoomAxis.Create(source.Depth, target.Depth).DistinctTaps().Length;
        long points = rows * columns;
        const long splineBytesPerPoint = 4 * (sizeof(int) * 2 + sizeof(double) * 2); // RotationSampleMap: 4 taps per axis
        return slice * sizeof(double)                        // the decoded slice
               + points * planes * sizeof(float)             // rotated planes
               + slice * sizeof(double) + source.Width * sizeof(double) // spline coefficients and a scratch row
               + points * (splineBytesPerPoint + sizeof(int)) // spline map, or the index map tried first
               + source.Depth * (long)sizeof(int)            // slice → plane
               + target.VoxelCount * sizeof(float);          // the output tensor
    }

    /// <summary>
    /// The peak of the whole path for a volume stored as <paramref name="stored"/>: streaming when neither
    /// reorientation nor spacing is needed; otherwise the float64 volume in memory, its reoriented copy
    /// (<paramref name="oriented"/>), the resampler's float32 copies, and then the streaming step on the result.
    /// Arrays that are dead by a later stage are not added to it (a collection frees them before it fails).
    /// </summary>
    /// <param name="oriented">The shape after reorientation (<paramref name="stored"/> when not reoriented).</param>
    /// <param name="reorient">Whether the scan is permuted or flipped (<see cref="Reorientation"/>).</param>
    /// <param name="resampled">The shape after <see cref="SpacingResampler"/>, or null when spacing is kept.</param>
    public static long Peak(VolumeShape stored, VolumeShape oriented, VolumeShape target, bool reorient, VolumeShape? resampled)
    {
        if (!reorient && resampled is null) return Streaming(stored, target);
        long voxels = stored.VoxelCount;
        long grid = voxels * sizeof(double);
        long peak = reorient ? 2 * grid : grid;
        if (resampled is { } output)
        {
            long m = output.VoxelCount;
            peak = Math.Max(peak, grid + voxels * sizeof(float) + m * sizeof(float) + m * sizeof(double));
            grid = m * sizeof(double);
        }
        // The grid stays referenced while the streaming step reads it.
        return Math.Max(peak, grid + Streaming(resampled ?? oriented, target));
    }
}
