namespace CtScan;

/// <summary>
/// An <see cref="IVolumeSlices"/> over values already in memory, in NIfTI file order (Fortran order: index
/// i + Width·(j + Height·k)). For tests, phantoms and callers that decoded a volume themselves.
/// </summary>
public sealed class ArrayVolumeSlices : IVolumeSlices
{
    private readonly ReadOnlyMemory<double> _values;
    private int _nextSlice;

    /// <param name="values">Values in file order; kept, not copied.</param>
    /// <param name="shape">The volume's shape; its voxel count must equal the number of values.</param>
    public ArrayVolumeSlices(ReadOnlyMemory<double> values, VolumeShape shape)
    {
        shape.Validated(nameof(shape));
        if (values.Length != shape.VoxelCount)
            throw new ArgumentException($"values hold {values.Length} voxels; shape {shape} needs {shape.VoxelCount}", nameof(values));
        _values = values;
        Shape = shape;
    }

    public VolumeShape Shape { get; }

    public void ReadNextSlice(Span<double> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int sliceLength = Shape.SliceVoxelCount;
        if (destination.Length != sliceLength)
            throw new ArgumentException($"destination holds {destination.Length} values; a slice of {Shape} has {sliceLength}", nameof(destination));
        if (_nextSlice >= Shape.Depth)
            throw new InvalidOperationException($"all {Shape.Depth} slices were already read");
        _values.Span.Slice(_nextSlice * sliceLength, sliceLength).CopyTo(destination);
        _nextSlice++;
    }
}
