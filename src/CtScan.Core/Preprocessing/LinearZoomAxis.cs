namespace CtScan.Preprocessing;

/// <summary>
/// The linear-interpolation taps of scipy.ndimage.zoom(order=1) along one axis, from an input extent to an output
/// extent: output index o samples x = o·((n−1)/(m−1)), taps floor(x) and floor(x)+1 (mirrored at the far edge,
/// where its weight is 0), weights w0 = 1 − frac, w1 = 1 − w0.
/// </summary>
internal sealed class LinearZoomAxis
{
    private LinearZoomAxis(int[] lower, int[] upper, double[] lowerWeights, double[] upperWeights)
    {
        Lower = lower;
        Upper = upper;
        LowerWeights = lowerWeights;
        UpperWeights = upperWeights;
        foreach (int tap in lower) MaxTap = Math.Max(MaxTap, tap);
        foreach (int tap in upper) MaxTap = Math.Max(MaxTap, tap);
    }

    /// <summary>The largest input index read; every tap is at least 0.</summary>
    public int MaxTap { get; }

    public int[] Lower { get; }

    public int[] Upper { get; }

    public double[] LowerWeights { get; }

    public double[] UpperWeights { get; }

    public int OutputLength => Lower.Length;

    public static LinearZoomAxis Create(int inputLength, int outputLength)
    {
        // scipy: zoom = (n−1)/(m−1), or 1 when the output has a single sample.
        double step = outputLength > 1 ? (double)(inputLength - 1) / (outputLength - 1) : 1.0;
        var lower = new int[outputLength];
        var upper = new int[outputLength];
        var lowerWeights = new double[outputLength];
        var upperWeights = new double[outputLength];
        for (int o = 0; o < outputLength; o++)
        {
            double x = o * step;
            double floor = Math.Floor(x);
            double w0 = 1.0 - (x - floor);
            int tap = (int)floor;
            lower[o] = CubicBSpline.Mirror(tap, inputLength);
            upper[o] = CubicBSpline.Mirror(tap + 1, inputLength);
            lowerWeights[o] = w0;
            upperWeights[o] = 1.0 - w0;
        }
        return new LinearZoomAxis(lower, upper, lowerWeights, upperWeights);
    }

    /// <summary>
    /// The distinct input indices this axis reads, ascending; the fused pipeline computes only these.
    /// </summary>
    public int[] DistinctTaps()
    {
        var used = new SortedSet<int>(Lower);
        used.UnionWith(Upper);
        return [.. used];
    }

    /// <summary>The same weights with taps renumbered into positions of <paramref name="taps"/> (from <see cref="DistinctTaps"/>).</summary>
    public LinearZoomAxis Compact(int[] taps)
    {
        return new LinearZoomAxis(Renumber(Lower, taps), Renumber(Upper, taps), LowerWeights, UpperWeights);

        static int[] Renumber(int[] indices, int[] taps)
        {
            var positions = new int[indices.Length];
            for (int n = 0; n < indices.Length; n++) positions[n] = Array.BinarySearch(taps, indices[n]);
            return positions;
        }
    }
}
