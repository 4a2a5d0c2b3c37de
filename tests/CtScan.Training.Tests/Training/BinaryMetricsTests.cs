namespace CtScan.Training.Tests.Training;

public sealed class BinaryMetricsTests
{
    [Fact]
    public void RocAuc_NoTies_EqualsHandCountedPairs()
    {
        // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 0.35 beats 0.1 only, 0.8 beats both → 3 of 4 pairs.
        Assert.Equal(0.75, BinaryMetrics.RocAuc([0.1f, 0.4f, 0.35f, 0.8f], [0, 0, 1, 1]), 12);
    }

    [Fact]
    public void RocAuc_Ties_CountHalf()
    {
        // Positive 0.5 ties both negatives (½ + ½), positive 0.9 beats both (1 + 1): 3 of 4.
        Assert.Equal(0.75, BinaryMetrics.RocAuc([0.5f, 0.5f, 0.5f, 0.9f], [0, 1, 0, 1]), 12);
        // Everything tied: no information, exactly ½.
        Assert.Equal(0.5, BinaryMetrics.RocAuc([0.3f, 0.3f, 0.3f, 0.3f, 0.3f], [0, 1, 1, 0, 1]), 12);
    }

    [Fact]
    public void RocAuc_PerfectAndReversedRanking_AreOneAndZero()
    {
        Assert.Equal(1.0, BinaryMetrics.RocAuc([0.1f, 0.2f, 0.7f, 0.9f, 0.95f], [0, 0, 1, 1, 1]), 12);
        Assert.Equal(0.0, BinaryMetrics.RocAuc([0.9f, 0.8f, 0.1f], [0, 0, 1]), 12);
    }

    [Fact]
    public void RocAuc_OneClassOnly_IsNaN()
    {
        Assert.True(double.IsNaN(BinaryMetrics.RocAuc([0.2f, 0.9f], [1, 1])));
        Assert.True(double.IsNaN(BinaryMetrics.RocAuc([0.2f, 0.9f], [0, 0])));
    }

    [Fact]
    public void Compute_MixedPredictions_CountsConfusionAndRates()
    {
        // abnormal 0.9 (TP), abnormal 0.2 (FN), normal 0.6 (FP), normal 0.4 (TN), abnormal 0.5 (FN: Keras needs p > 0.5).
        var metrics = BinaryMetrics.Compute([0.9f, 0.2f, 0.6f, 0.4f, 0.5f], [1, 1, 0, 0, 1]);

        Assert.Equal(new ConfusionMatrix(TruePositives: 1, FalsePositives: 1, TrueNegatives: 1, FalseNegatives: 2), metrics.Confusion);
        Assert.Equal(2.0 / 5, metrics.Accuracy, 12);
        Assert.Equal(1.0 / 3, metrics.Sensitivity, 12);
        Assert.Equal(1.0 / 2, metrics.Specificity, 12);
        double expectedLoss = -(Math.Log(0.9f) + Math.Log(0.2f) + Math.Log(1 - 0.6f) + Math.Log(1 - 0.4f) + Math.Log(0.5f)) / 5;
        Assert.Equal(expectedLoss, metrics.Loss, 6);
    }

    [Fact]
    public void Compute_SureMistake_ClipsLossLikeKeras()
    {
        var metrics = BinaryMetrics.Compute([0f], [1]);

        Assert.Equal(-Math.Log(BinaryMetrics.ProbabilityEpsilon), metrics.Loss, 6);
        Assert.True(double.IsNaN(metrics.Specificity)); // no normal scans
        Assert.Equal(0.0, metrics.Sensitivity);
    }

    [Fact]
    public void Compute_BadInput_NamesTheValue()
    {
        Assert.Contains("label 1 is 2", Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([0.1f, 0.2f], [0, 2])).Message);
        Assert.Contains("probability 0 is 1.5", Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([1.5f], [0])).Message);
        Assert.Contains("differ in length", Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([0.1f], [0, 1])).Message);
    }
}
