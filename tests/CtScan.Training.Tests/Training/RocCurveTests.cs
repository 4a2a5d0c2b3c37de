using System.Buffers.Binary;

namespace CtScan.Training.Tests.Training;

public sealed class RocCurveTests
{
    [Fact]
    public void Compute_NoTies_StepsThroughEachScoreByHand()
    {
        // Scores high to low: 0.8 (abnormal) → TPR ½; 0.4 (normal) → FPR ½; 0.35 (abnormal) → TPR 1; 0.1 (normal) → FPR 1.
        var points = RocCurve.Compute([0.1f, 0.4f, 0.35f, 0.8f], [0, 0, 1, 1]);

        Assert.Equal([(0, 0), (0, 0.5), (0.5, 0.5), (0.5, 1), (1, 1)], points.Select(p => (p.FalsePositiveRate, p.TruePositiveRate)));
        Assert.Equal([double.PositiveInfinity, 0.8f, 0.4f, 0.35f, 0.1f], points.Select(p => p.Threshold));
        // Area: TPR ½ from FPR 0 to ½ (¼), then TPR 1 from FPR ½ to 1 (½): ¾, the AUC of the same scores.
        Assert.Equal(0.75, RocCurve.Area(points), 12);
        Assert.Equal(BinaryMetrics.RocAuc([0.1f, 0.4f, 0.35f, 0.8f], [0, 0, 1, 1]), RocCurve.Area(points), 12);
    }

    [Fact]
    public void Compute_Ties_MoveBothRatesInOneStep()
    {
        // 0.9 (abnormal) → (0, ½); the three 0.5s (one abnormal, two normal) together → (1, 1): a diagonal, area (½ + 1) / 2 = ¾.
        var points = RocCurve.Compute([0.5f, 0.5f, 0.5f, 0.9f], [0, 1, 0, 1]);

        Assert.Equal([(0, 0), (0, 0.5), (1, 1)], points.Select(p => (p.FalsePositiveRate, p.TruePositiveRate)));
        Assert.Equal(0.75, RocCurve.Area(points), 12);
    }

    [Fact]
    public void Compute_OneClassOnly_IsRefused()
    {
        Assert.Contains("both classes", Assert.Throws<ArgumentException>(() => RocCurve.Compute([0.2f, 0.9f], [1, 1])).Message);
    }

    [Fact]
    public void Render_IsASquarePng()
    {
        byte[] png = RocPlot.Render(RocCurve.Compute([0.1f, 0.4f, 0.35f, 0.8f], [0, 0, 1, 1]), "ROC");

        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        Assert.Equal(RocPlot.Size, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(RocPlot.Size, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
