namespace CtScan.Tensors;

/// <summary>A C-order float32 array with its shape, as stored in a .npy file.</summary>
public sealed class Float32Tensor
{
    private readonly int[] _shape;

    /// <param name="data">The values in C order (last axis fastest); kept, not copied.</param>
    /// <param name="shape">Extents, each at least 0, whose product equals <c>data.Length</c>.</param>
    public Float32Tensor(float[] data, ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        long count = 1;
        foreach (int extent in shape)
        {
            if (extent < 0)
                throw new ArgumentOutOfRangeException(nameof(shape), $"extents must be at least 0; got {NpyHeader.FormatShape(ToLongs(shape))}");
            count *= extent;
        }
        if (count != data.Length)
            throw new ArgumentException($"shape {NpyHeader.FormatShape(ToLongs(shape))} holds {count} values but data has {data.Length}", nameof(data));
        Data = data;
        _shape = shape.ToArray();
    }

    /// <summary>A 3-D tensor of <paramref name="shape"/> (C order, index <c>(i*Height+j)*Depth+k</c>).</summary>
    public Float32Tensor(float[] data, VolumeShape shape) : this(data, [shape.Width, shape.Height, shape.Depth]) { }

    public float[] Data { get; }

    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The shape as a <see cref="VolumeShape"/>; throws unless the tensor is 3-D.</summary>
    public VolumeShape ToVolumeShape() => _shape.Length == 3
        ? new VolumeShape(_shape[0], _shape[1], _shape[2])
        : throw new InvalidOperationException($"a volume needs 3 axes; this tensor has shape {NpyHeader.FormatShape(ToLongs(_shape))}");

    internal static long[] ToLongs(ReadOnlySpan<int> shape)
    {
        var longs = new long[shape.Length];
        for (int d = 0; d < shape.Length; d++) longs[d] = shape[d];
        return longs;
    }
}
