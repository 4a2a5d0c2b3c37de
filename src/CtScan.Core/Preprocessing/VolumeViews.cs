namespace CtScan.Preprocessing;

/// <summary>
/// The slices of a <see cref="CompactVolume"/> laid out as <see cref="Reorientation"/> would lay them out, read
/// through the permuted and flipped index instead of a reoriented copy. Values are the volume's, bit for bit.
/// </summary>
public sealed class ReorientedSlices : IVolumeSlices
{
    private readonly CompactVolume _volume;
    private readonly long[] _start;
    private readonly long[] _step;
    private int _nextSlice;

    /// <param name="map">Per output axis, the stored axis it comes from and whether it is reversed
    /// (<see cref="AxisOrientation.MappingFrom"/>); the identity map reads the volume as stored.</param>
    public ReorientedSlices(CompactVolume volume, (int SourceAxis, bool Flip)[] map)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(map);
        _volume = volume;
        (Shape, _start, _step) = Reorientation.Layout(volume.Shape, map);
    }

    public VolumeShape Shape { get; }

    public void ReadNextSlice(Span<double> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int width = Shape.Width;
        if (destination.Length != Shape.SliceVoxelCount)
            throw new ArgumentException($"destination holds {destination.Length} values; a slice of {Shape} has {Shape.SliceVoxelCount}", nameof(destination));
        if (_nextSlice >= Shape.Depth)
            throw new InvalidOperationException($"all {Shape.Depth} slices were already read");
        long baseK = _start[0] + _start[1] + _start[2] + _nextSlice * _step[2];
        for (int j = 0; j < Shape.Height; j++)
            _volume.Gather(baseK + j * _step[1], _step[0], destination.Slice(j * width, width));
        _nextSlice++;
    }
}

/// <summary>The slices (file order) of a float32 volume held in C order (k fastest), as <see cref="LinearZoom"/> writes it.</summary>
internal sealed class COrderFloatSlices(float[] values, VolumeShape shape) : IVolumeSlices
{
    private int _nextSlice;

    public VolumeShape Shape { get; } = shape;

    public void ReadNextSlice(Span<double> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (destination.Length != Shape.SliceVoxelCount)
            throw new ArgumentException($"destination holds {destination.Length} values; a slice of {Shape} has {Shape.SliceVoxelCount}", nameof(destination));
        if (_nextSlice >= Shape.Depth)
            throw new InvalidOperationException($"all {Shape.Depth} slices were already read");
        int w = Shape.Width, h = Shape.Height, d = Shape.Depth, k = _nextSlice;
        for (int j = 0, f = 0; j < h; j++)
            for (int i = 0; i < w; i++, f++)
                destination[f] = values[((long)i * h + j) * d + k];
        _nextSlice++;
    }
}
