namespace CtScan.Validation;

/// <summary>
/// Passes the slices of a volume through unchanged and measures, on the way, what the input gate's data checks need:
/// non-finite counts, the finite range, mean and spread, the share of air, and how much neighbouring voxels differ.
/// One pass, no copy: the survey rides along the read that preprocessing does anyway.
/// </summary>
public sealed class VoxelSurvey : IVolumeSlices
{
    /// <summary>Unscaled CT stores HU + 1024 (DICOM's usual rescale intercept is −1024).</summary>
    public const double UsualRescaleIntercept = -1024;

    private readonly IVolumeSlices _source;
    private readonly double _airMaximum;
    private long _count, _nan, _positiveInfinity, _negativeInfinity, _air, _unscaledAir, _unscaledTissue;
    private double _min = double.PositiveInfinity, _max = double.NegativeInfinity, _sum, _sumOfSquares;
    private double _neighbourDifferenceSum;
    private long _neighbourPairs;

    /// <param name="source">The volume to read.</param>
    /// <param name="airMaximumHu">Values at or below it count as air.</param>
    public VoxelSurvey(IVolumeSlices source, double airMaximumHu)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _airMaximum = airMaximumHu;
    }

    public VolumeShape Shape => _source.Shape;

    public void ReadNextSlice(Span<double> destination, CancellationToken cancellationToken = default)
    {
        _source.ReadNextSlice(destination, cancellationToken);
        Add(destination, Shape.Width);
    }

    private void Add(ReadOnlySpan<double> slice, int width)
    {
        // The same band shifted by +1024: where air and soft tissue of a CT stored without its intercept fall.
        double unscaledAirMaximum = _airMaximum - UsualRescaleIntercept;
        for (int n = 0; n < slice.Length; n++)
        {
            double v = slice[n];
            if (double.IsNaN(v)) { _nan++; continue; }
            if (double.IsPositiveInfinity(v)) { _positiveInfinity++; continue; }
            if (double.IsNegativeInfinity(v)) { _negativeInfinity++; continue; }
            _count++;
            _sum += v;
            _sumOfSquares += v * v;
            if (v < _min) _min = v;
            if (v > _max) _max = v;
            if (v <= _airMaximum) _air++;
            if (v >= 0 && v <= unscaledAirMaximum) _unscaledAir++;
            if (v is >= 900 and <= 1200) _unscaledTissue++;
            // Neighbours along i (contiguous in a slice); the row's first voxel has none before it.
            if (n % width != 0)
            {
                double previous = slice[n - 1];
                if (double.IsFinite(previous))
                {
                    _neighbourDifferenceSum += Math.Abs(v - previous);
                    _neighbourPairs++;
                }
            }
        }
    }

    /// <summary>What was measured over the slices read so far.</summary>
    public VoxelSurveyResult Result
    {
        get
        {
            long total = _count + _nan + _positiveInfinity + _negativeInfinity;
            double mean = _count > 0 ? _sum / _count : double.NaN;
            double variance = _count > 0 ? Math.Max(0, _sumOfSquares / _count - mean * mean) : double.NaN;
            return new VoxelSurveyResult(total, _nan, _positiveInfinity, _negativeInfinity,
                _count > 0 ? _min : double.NaN, _count > 0 ? _max : double.NaN, mean, Math.Sqrt(variance),
                Fraction(_air, total), Fraction(_unscaledAir, total), Fraction(_unscaledTissue, total),
                _neighbourPairs > 0 ? _neighbourDifferenceSum / _neighbourPairs : double.NaN);
        }
    }

    private static double Fraction(long part, long total) => total > 0 ? (double)part / total : 0;
}

/// <summary>Measurements of <see cref="VoxelSurvey"/>; range, mean and spread are over finite voxels.</summary>
public sealed record VoxelSurveyResult(
    long VoxelCount,
    long NaNCount,
    long PositiveInfinityCount,
    long NegativeInfinityCount,
    double Min,
    double Max,
    double Mean,
    double StandardDeviation,
    double AirFraction,
    double UnscaledAirFraction,
    double UnscaledTissueFraction,
    double MeanNeighbourDifference)
{
    public long NonFiniteCount => NaNCount + PositiveInfinityCount + NegativeInfinityCount;

    /// <summary>Mean |difference| of neighbours over the standard deviation: ≈ 1.13 for independent noise, far less for an image.</summary>
    public double NeighbourDifferenceRatio => StandardDeviation > 0 ? MeanNeighbourDifference / StandardDeviation : double.NaN;
}
