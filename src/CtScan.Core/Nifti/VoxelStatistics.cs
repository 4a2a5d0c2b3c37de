using System.Numerics;
using System.Runtime.InteropServices;

namespace CtScan.Nifti;

/// <summary>
/// Statistics of all scaled voxels of a file (every volume), accumulated in float64 in file order. NaN voxels are
/// counted and left out of <see cref="Min"/>, <see cref="Max"/>, <see cref="Sum"/> and <see cref="Mean"/> (like
/// numpy's nanmin/nansum); infinite voxels are counted and included (so Sum may be ±inf).
/// </summary>
public sealed record VoxelStatistics(
    long VoxelCount,
    double Min,
    double Max,
    double Sum,
    long NaNCount,
    long PositiveInfinityCount,
    long NegativeInfinityCount)
{
    /// <summary>Sum / (VoxelCount − NaNCount); NaN when every voxel is NaN.</summary>
    public double Mean => VoxelCount - NaNCount > 0 ? Sum / (VoxelCount - NaNCount) : double.NaN;

    public long InfinityCount => PositiveInfinityCount + NegativeInfinityCount;
}

/// <summary>Accumulates <see cref="VoxelStatistics"/> one span at a time.</summary>
internal struct VoxelStatisticsAccumulator()
{
    private long _count;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;
    private double _sum;
    private long _nan, _posInf, _negInf;

    public void Add(ReadOnlySpan<double> values)
    {
        // Sum in file order (scalar, the spec); min, max and the NaN/inf counts lane-wise, which is order-free.
        var sum = _sum;
        foreach (var v in values)
        {
            if (!double.IsNaN(v)) sum += v;
        }
        _sum = sum;

        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<double>.Count)
        {
            var posInf = new Vector<double>(double.PositiveInfinity);
            var negInf = new Vector<double>(double.NegativeInfinity);
            Vector<double> min = posInf, max = negInf;
            Vector<long> nan = default, pos = default, neg = default; // masks are −1 per hit: subtract to count
            var vectors = MemoryMarshal.Cast<double, Vector<double>>(values);
            foreach (var v in vectors)
            {
                var isNaN = ~Vector.Equals(v, v);
                nan -= isNaN;
                pos -= Vector.Equals(v, posInf);
                neg -= Vector.Equals(v, negInf);
                min = Vector.Min(min, Vector.ConditionalSelect(isNaN, posInf, v));
                max = Vector.Max(max, Vector.ConditionalSelect(isNaN, negInf, v));
            }
            for (var lane = 0; lane < Vector<double>.Count; lane++)
            {
                _min = Math.Min(_min, min[lane]);
                _max = Math.Max(_max, max[lane]);
            }
            _nan += Vector.Sum(nan);
            _posInf += Vector.Sum(pos);
            _negInf += Vector.Sum(neg);
            i = vectors.Length * Vector<double>.Count;
        }
        for (; i < values.Length; i++)
        {
            var v = values[i];
            if (double.IsNaN(v)) { _nan++; continue; }
            if (v == double.PositiveInfinity) _posInf++;
            else if (v == double.NegativeInfinity) _negInf++;
            if (v < _min) _min = v;
            if (v > _max) _max = v;
        }
        _count += values.Length;
    }

    public readonly VoxelStatistics ToStatistics()
    {
        var any = _count - _nan > 0;
        return new VoxelStatistics(_count, any ? _min : double.NaN, any ? _max : double.NaN, _sum, _nan, _posInf, _negInf);
    }
}
