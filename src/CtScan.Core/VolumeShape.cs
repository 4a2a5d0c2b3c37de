namespace CtScan;

/// <summary>
/// The shape of one 3-D volume in voxels, in NIfTI axis order (i, j, k): <see cref="Width"/> is axis 0,
/// <see cref="Height"/> axis 1 and <see cref="Depth"/> axis 2 (the seed's names: width = shape[0],
/// height = shape[1], depth = shape[-1]).
/// </summary>
/// <remarks>
/// Two memory layouts meet in this product. A NIfTI file stores voxels in Fortran order (i fastest); in-memory
/// tensors, the .npy cache and every transform use C order (k fastest), like the seed's numpy arrays:
/// index = (i * Height + j) * Depth + k.
/// </remarks>
public readonly record struct VolumeShape(int Width, int Height, int Depth)
{
    /// <summary>The seed's model input: 128 × 128 × 64.</summary>
    public static VolumeShape SeedTarget => new(128, 128, 64);

    public long VoxelCount => (long)Width * Height * Depth;

    /// <summary>Voxels in one axial slice (fixed k).</summary>
    public int SliceVoxelCount => Width * Height;

    /// <summary>C-order index of voxel (i, j, k).</summary>
    public int IndexOf(int i, int j, int k) => (i * Height + j) * Depth + k;

    public override string ToString() => $"{Width}×{Height}×{Depth}";

    /// <summary>Throws unless every extent is at least 1.</summary>
    public VolumeShape Validated(string name = "shape")
    {
        if (Width < 1 || Height < 1 || Depth < 1)
            throw new ArgumentOutOfRangeException(name, this, $"every extent of {name} must be at least 1; got {this}");
        return this;
    }
}
