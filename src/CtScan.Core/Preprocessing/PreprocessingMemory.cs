namespace CtScan.Preprocessing;

/// <summary>
/// The bytes <see cref="ScanPreprocessor.Process"/> and the whole-volume steps before it (<see cref="CompactVolume"/>,
/// <see cref="ReorientedSlices"/>, <see cref="SpacingResampler.Resample"/>) allocate for a source shape, computed from the
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
    /// The peak of the whole path for a volume stored as <paramref name="stored"/> with voxels of the datatype that
    /// <paramref name="storage"/> describes (<see cref="CompactVolume.StorageOf"/>): streaming when neither
    /// reorientation nor spacing is needed; otherwise the volume held once (<see cref="CompactVolume"/>) with the slice
    /// its read decodes into, for spacing the zoom's float32 input and output and the slice its read uses, and then
    /// the streaming step on the result, which reads the volume (or the zoomed array) through a view. Every buffer is
    /// counted as live to the end, so the figure also bounds the bytes the path allocates.
    /// </summary>
    /// <param name="oriented">The shape after reorientation (<paramref name="stored"/> when not reoriented).</param>
    /// <param name="reorient">Whether the scan is permuted or flipped (<see cref="Reorientation"/>).</param>
    /// <param name="resampled">The shape after <see cref="SpacingResampler"/>, or null when spacing is kept.</param>
    public static long Peak(VolumeShape stored, VolumeShape oriented, VolumeShape target, bool reorient, VolumeShape? resampled,
        (int BytesPerVoxel, long TableBytes) storage)
    {
        if (!reorient && resampled is null) return Streaming(stored, target);
        long held = stored.VoxelCount * storage.BytesPerVoxel + storage.TableBytes + stored.SliceVoxelCount * (long)sizeof(double);
        if (resampled is not { } output) return held + Streaming(oriented, target);
        held += stored.VoxelCount * sizeof(float) + oriented.SliceVoxelCount * (long)sizeof(double) + output.VoxelCount * sizeof(float);
        return held + Streaming(output, target);
    }

    /// <summary><see cref="Peak(VolumeShape, VolumeShape, VolumeShape, bool, VolumeShape?, ValueTuple{int, long})"/>
    /// for voxels held as float64, the bound for any datatype.</summary>
    public static long Peak(VolumeShape stored, VolumeShape oriented, VolumeShape target, bool reorient, VolumeShape? resampled) =>
        Peak(stored, oriented, target, reorient, resampled, (sizeof(double), 0));
}
