namespace CtScan;

/// <summary>
/// One 3-D volume of real-world values (for CT: Hounsfield units), delivered one axial slice at a time, in the
/// order a NIfTI file stores them. This is the seam between readers (a NIfTI file, a phantom, an array) and
/// preprocessing, which streams slices so that it never holds a float64 copy of the whole volume.
/// </summary>
public interface IVolumeSlices
{
    /// <summary>The volume's shape (i, j, k).</summary>
    VolumeShape Shape { get; }

    /// <summary>
    /// Fills <paramref name="destination"/> (exactly <c>Shape.SliceVoxelCount</c> values, index <c>i + Width * j</c>)
    /// with the next slice's values, scaled as nibabel's <c>get_fdata</c> does. Slices come in order k = 0, 1, …,
    /// Depth − 1; each call returns the next one.
    /// </summary>
    /// <exception cref="InvalidOperationException">All <c>Depth</c> slices were already read.</exception>
    void ReadNextSlice(Span<double> destination, CancellationToken cancellationToken = default);
}
