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
        double min = _min, max = _max, sum = _sum;
        foreach (var v in values)
        {
            if (double.IsNaN(v)) { _nan++; continue; }
            if (double.IsInfinity(v)) { if (v > 0) _posInf++; else _negInf++; }
            sum += v;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        (_min, _max, _sum) = (min, max, sum);
        _count += values.Length;
    }

    public readonly VoxelStatistics ToStatistics()
    {
        var any = _count - _nan > 0;
        return new VoxelStatistics(_count, any ? _min : double.NaN, any ? _max : double.NaN, _sum, _nan, _posInf, _negInf);
    }
}
