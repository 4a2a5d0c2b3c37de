using System.Numerics;
using CtScan.Nifti;

namespace CtScan.Preprocessing;

/// <summary>
/// A whole volume held once, in file order, in the smallest form that gives back every decoded float64 value
/// bit for bit: the stored integer type for 8- and 16-bit data (through a table of get_fdata's values when the file is
/// scaled), float32 for unscaled float32 data, float64 otherwise. Whole-volume steps (reorientation, spacing) read it
/// through views instead of float64 copies.
/// </summary>
public abstract class CompactVolume
{
    private protected CompactVolume(VolumeShape shape) => Shape = shape;

    public VolumeShape Shape { get; }

    // A table value, plus the inverse dictionary a lossy scaling builds (an entry and a bucket, rounded up).
    private const long TableBytesPerEntry = sizeof(double) + 40;

    /// <summary>Bytes per voxel and of the value table that <see cref="Create"/> uses for data of <paramref name="type"/>.</summary>
    public static (int BytesPerVoxel, long TableBytes) StorageOf(NiftiDataType type, bool scaled) => type switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 => (1, scaled ? 256 * TableBytesPerEntry : 0),
        NiftiDataType.Int16 or NiftiDataType.UInt16 => (2, scaled ? 65536 * TableBytesPerEntry : 0),
        NiftiDataType.Float32 when !scaled => (sizeof(float), 0),
        _ => (sizeof(double), 0),
    };

    /// <summary>An empty volume of <paramref name="shape"/> for data stored as <paramref name="type"/> and scaled by <paramref name="scaling"/>.</summary>
    public static CompactVolume Create(NiftiDataType type, ScaleFactors? scaling, VolumeShape shape)
    {
        shape.Validated(nameof(shape));
        return (type, scaling) switch
        {
            (NiftiDataType.UInt8, null) => new RawVolume<byte>(shape),
            (NiftiDataType.Int8, null) => new RawVolume<sbyte>(shape),
            (NiftiDataType.Int16, null) => new RawVolume<short>(shape),
            (NiftiDataType.UInt16, null) => new RawVolume<ushort>(shape),
            (NiftiDataType.Float32, null) => new RawVolume<float>(shape),
            (NiftiDataType.UInt8, { } s) => new ScaledVolume<byte>(shape, s),
            (NiftiDataType.Int8, { } s) => new ScaledVolume<sbyte>(shape, s),
            (NiftiDataType.Int16, { } s) => new ScaledVolume<short>(shape, s),
            (NiftiDataType.UInt16, { } s) => new ScaledVolume<ushort>(shape, s),
            _ => new RawVolume<double>(shape),
        };
    }

    /// <summary>Reads every remaining slice of <paramref name="source"/> (decoded as <paramref name="type"/> scaled by
    /// <paramref name="scaling"/>) into a new volume.</summary>
    public static CompactVolume Read(IVolumeSlices source, NiftiDataType type, ScaleFactors? scaling, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var volume = Create(type, scaling, source.Shape);
        int slice = source.Shape.SliceVoxelCount;
        var values = new double[slice];
        for (int k = 0; k < source.Shape.Depth; k++)
        {
            source.ReadNextSlice(values, cancellationToken);
            volume.Store((long)k * slice, values);
        }
        return volume;
    }

    /// <summary>Stores decoded values from voxel <paramref name="offset"/> (file order) on.</summary>
    /// <exception cref="ArgumentException">A value is not one that data of this type and scaling decodes to.</exception>
    public abstract void Store(long offset, ReadOnlySpan<double> values);

    /// <summary>Fills <paramref name="destination"/> with the values at <paramref name="start"/>, start + step, …</summary>
    public abstract void Gather(long start, long step, Span<double> destination);

    /// <summary>Unscaled data: the stored type itself; (double)(T)v == v for every value it decodes to.</summary>
    private sealed class RawVolume<T>(VolumeShape shape) : CompactVolume(shape) where T : unmanaged, INumberBase<T>
    {
        private readonly T[] _values = new T[shape.VoxelCount];

        public override void Store(long offset, ReadOnlySpan<double> values)
        {
            var target = _values.AsSpan(checked((int)offset), values.Length);
            for (int n = 0; n < values.Length; n++)
                target[n] = T.CreateTruncating(values[n]);
        }

        public override void Gather(long start, long step, Span<double> destination)
        {
            var values = _values;
            long index = start;
            for (int n = 0; n < destination.Length; n++, index += step)
                destination[n] = double.CreateTruncating(values[index]);
        }
    }

    /// <summary>
    /// Scaled 8- or 16-bit data: the raw value is kept and its get_fdata value looked up in a table computed with the
    /// decoder's arithmetic (raw × slope + intercept, two roundings). The raw value is recovered by inverting the
    /// scaling and confirmed by comparing the table's bits; a lossy scaling (several raws, one value) falls back to a
    /// search of the table.
    /// </summary>
    private sealed class ScaledVolume<T> : CompactVolume where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        private readonly T[] _values;
        private readonly double[] _table;
        private readonly int _minimum;
        private readonly ScaleFactors _scale;
        private readonly double _inverseSlope;
        private Dictionary<long, int>? _inverse;

        public ScaledVolume(VolumeShape shape, ScaleFactors scale) : base(shape)
        {
            _values = new T[shape.VoxelCount];
            _scale = scale;
            _inverseSlope = 1 / scale.Slope;
            _minimum = int.CreateTruncating(T.MinValue);
            _table = new double[int.CreateTruncating(T.MaxValue) - _minimum + 1];
            for (int n = 0; n < _table.Length; n++)
            {
                double product = (double)(n + _minimum) * scale.Slope;
                _table[n] = product + scale.Intercept;
            }
        }

        public override void Store(long offset, ReadOnlySpan<double> values)
        {
            var target = _values.AsSpan(checked((int)offset), values.Length);
            var table = _table;
            double intercept = _scale.Intercept, inverseSlope = _inverseSlope, last = table.Length - 1;
            for (int n = 0; n < values.Length; n++)
            {
                double v = values[n];
                // A guess is enough (the table confirms it), so a multiplication stands in for the division.
                double guess = Math.Round((v - intercept) * inverseSlope) - _minimum;
                int index = guess >= 0 ? (int)Math.Min(guess, last) : 0; // NaN lands on 0 and is searched
                if (BitConverter.DoubleToInt64Bits(table[index]) != BitConverter.DoubleToInt64Bits(v)) index = Search(v);
                target[n] = T.CreateTruncating(index + _minimum);
            }
        }

        private int Search(double value)
        {
            if (_inverse is null)
            {
                _inverse = new Dictionary<long, int>(_table.Length);
                for (int n = 0; n < _table.Length; n++) _inverse.TryAdd(BitConverter.DoubleToInt64Bits(_table[n]), n);
            }
            return _inverse.TryGetValue(BitConverter.DoubleToInt64Bits(value), out int index)
                ? index
                : throw new ArgumentException($"{value} is not a value {typeof(T).Name} data scaled by {_scale.Slope} and {_scale.Intercept} decodes to", nameof(value));
        }

        public override void Gather(long start, long step, Span<double> destination)
        {
            var values = _values;
            var table = _table;
            long index = start;
            for (int n = 0; n < destination.Length; n++, index += step)
                destination[n] = table[int.CreateTruncating(values[index]) - _minimum];
        }
    }
}
