namespace CtScan.Training;

/// <summary>Counts of a binary classifier's decisions at one threshold; label 1 (abnormal) is the positive class.</summary>
public readonly record struct ConfusionMatrix(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    public int Total => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;
}

/// <summary>
/// Validation metrics of a binary classifier from its probabilities and the true labels (0 normal, 1 abnormal):
/// Keras-style accuracy and binary cross-entropy, ROC AUC, and sensitivity/specificity at a threshold.
/// Undefined values (AUC or sensitivity without positives, specificity without negatives) are NaN, never a guess.
/// </summary>
public sealed class BinaryMetrics
{
    /// <summary>The decision threshold of Keras's binary accuracy and of the seed's predictions.</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>Keras's epsilon: probabilities are clipped to [ε, 1 − ε] before the logarithm, so one sure mistake stays finite.</summary>
    public const double ProbabilityEpsilon = 1e-7;

    private BinaryMetrics(int count, double loss, double accuracy, double auc, ConfusionMatrix confusion, double threshold)
    {
        Count = count;
        Loss = loss;
        Accuracy = accuracy;
        Auc = auc;
        Confusion = confusion;
        Threshold = threshold;
    }

    public int Count { get; }

    /// <summary>Mean binary cross-entropy.</summary>
    public double Loss { get; }

    /// <summary>Fraction classified correctly at <see cref="Threshold"/> (Keras: abnormal when p &gt; threshold).</summary>
    public double Accuracy { get; }

    /// <summary>Area under the ROC curve: the chance that a random abnormal scan scores above a random normal one, ties counting half.</summary>
    public double Auc { get; }

    public ConfusionMatrix Confusion { get; }

    public double Threshold { get; }

    /// <summary>True-positive rate (recall on abnormal scans); NaN without abnormal scans.</summary>
    public double Sensitivity => Ratio(Confusion.TruePositives, Confusion.TruePositives + Confusion.FalseNegatives);

    /// <summary>True-negative rate; NaN without normal scans.</summary>
    public double Specificity => Ratio(Confusion.TrueNegatives, Confusion.TrueNegatives + Confusion.FalsePositives);

    /// <exception cref="ArgumentException">Lengths differ, there are no samples, a label is not 0 or 1, or a probability is outside [0, 1].</exception>
    public static BinaryMetrics Compute(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, double threshold = DefaultThreshold)
    {
        if (probabilities.Length != labels.Length)
            throw new ArgumentException($"probabilities and labels differ in length: {probabilities.Length} vs {labels.Length}");
        if (probabilities.Length == 0)
            throw new ArgumentException("no samples: metrics need at least one probability and label");
        double lossSum = 0;
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (int n = 0; n < probabilities.Length; n++)
        {
            double p = probabilities[n];
            int label = labels[n];
            if (label is not (0 or 1))
                throw new ArgumentException($"label {n} is {label}; expected 0 (normal) or 1 (abnormal)");
            if (!(p >= 0 && p <= 1))
                throw new ArgumentException($"probability {n} is {p}; expected a value in [0, 1]");
            double clipped = Math.Clamp(p, ProbabilityEpsilon, 1 - ProbabilityEpsilon);
            lossSum -= label == 1 ? Math.Log(clipped) : Math.Log(1 - clipped);
            bool predictedAbnormal = p > threshold;
            if (label == 1) { if (predictedAbnormal) tp++; else fn++; }
            else { if (predictedAbnormal) fp++; else tn++; }
        }
        var confusion = new ConfusionMatrix(tp, fp, tn, fn);
        return new BinaryMetrics(probabilities.Length, lossSum / probabilities.Length, (double)(tp + tn) / probabilities.Length,
            RocAuc(probabilities, labels), confusion, threshold);
    }

    /// <summary>
    /// ROC AUC by the Mann–Whitney U statistic: rank all scores (tied scores share their mean rank), sum the positives'
    /// ranks. Exact for ties (each tied positive–negative pair counts ½); NaN when either class is absent.
    /// </summary>
    public static double RocAuc(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels)
    {
        if (scores.Length != labels.Length)
            throw new ArgumentException($"scores and labels differ in length: {scores.Length} vs {labels.Length}");
        int positives = 0;
        foreach (int label in labels) if (label == 1) positives++;
        int negatives = labels.Length - positives;
        if (positives == 0 || negatives == 0) return double.NaN;

        var order = new int[scores.Length];
        for (int n = 0; n < order.Length; n++) order[n] = n;
        var keys = scores.ToArray();
        Array.Sort(keys, order);
        double positiveRankSum = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && keys[end + 1] == keys[start]) end++;
            double meanRank = (start + end) / 2.0 + 1; // ranks are 1-based
            for (int n = start; n <= end; n++)
                if (labels[order[n]] == 1) positiveRankSum += meanRank;
            start = end + 1;
        }
        double u = positiveRankSum - positives * (positives + 1) / 2.0;
        return u / ((double)positives * negatives);
    }

    private static double Ratio(int numerator, int denominator) => denominator == 0 ? double.NaN : (double)numerator / denominator;
}
