namespace CtScan.Training;

/// <summary>One point of a ROC curve: the rates when every score ≥ <see cref="Threshold"/> is called abnormal.</summary>
public readonly record struct RocPoint(double FalsePositiveRate, double TruePositiveRate, double Threshold);

/// <summary>
/// The ROC curve of a binary classifier (label 1 = abnormal is the positive class): one point per distinct score,
/// from (0, 0) (nothing called abnormal, threshold +∞) to (1, 1). Tied scores move both rates in one step, so the
/// trapezoid area under these points equals <see cref="BinaryMetrics.RocAuc"/> (ties counting half).
/// </summary>
public static class RocCurve
{
    /// <exception cref="ArgumentException">Lengths differ, a label is not 0 or 1, or either class is absent (no curve exists).</exception>
    public static IReadOnlyList<RocPoint> Compute(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels)
    {
        if (scores.Length != labels.Length)
            throw new ArgumentException($"scores and labels differ in length: {scores.Length} vs {labels.Length}");
        int positives = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            if (labels[n] is not (0 or 1)) throw new ArgumentException($"label {n} is {labels[n]}; expected 0 (normal) or 1 (abnormal)");
            positives += labels[n];
        }
        int negatives = labels.Length - positives;
        if (positives == 0 || negatives == 0)
            throw new ArgumentException($"a ROC curve needs both classes; got {positives} abnormal and {negatives} normal");

        var order = new int[scores.Length];
        for (int n = 0; n < order.Length; n++) order[n] = n;
        var keys = scores.ToArray();
        Array.Sort(keys, order);
        var points = new List<RocPoint> { new(0, 0, double.PositiveInfinity) };
        int truePositives = 0, falsePositives = 0;
        // Walk from the highest score down; each distinct score is one threshold.
        for (int end = keys.Length - 1; end >= 0;)
        {
            int start = end;
            while (start - 1 >= 0 && keys[start - 1] == keys[end]) start--;
            for (int n = start; n <= end; n++)
            {
                if (labels[order[n]] == 1) truePositives++;
                else falsePositives++;
            }
            points.Add(new RocPoint((double)falsePositives / negatives, (double)truePositives / positives, keys[end]));
            end = start - 1;
        }
        return points;
    }

    /// <summary>Area under the points by the trapezoid rule.</summary>
    public static double Area(IReadOnlyList<RocPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        double area = 0;
        for (int n = 1; n < points.Count; n++)
            area += (points[n].FalsePositiveRate - points[n - 1].FalsePositiveRate) * (points[n].TruePositiveRate + points[n - 1].TruePositiveRate) / 2;
        return area;
    }
}
