using ScottPlot;

namespace CtScan.Training;

/// <summary>A ROC curve as a PNG: the curve, the chance diagonal, and the AUC in the title.</summary>
public static class RocPlot
{
    public const int Size = 600;

    public static void Write(string path, IReadOnlyList<RocPoint> points, string title)
    {
        File.WriteAllBytes(path, Render(points, title));
    }

    /// <summary>The figure as PNG bytes, <see cref="Size"/> × <see cref="Size"/> pixels.</summary>
    public static byte[] Render(IReadOnlyList<RocPoint> points, string title)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count < 2) throw new ArgumentException($"a ROC curve needs at least 2 points; got {points.Count}");
        var plot = new Plot();
        var chance = plot.Add.ScatterLine(new double[] { 0, 1 }, new double[] { 0, 1 });
        chance.LegendText = "chance";
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        chance.MarkerSize = 0;
        var curve = plot.Add.ScatterLine(points.Select(p => p.FalsePositiveRate).ToArray(), points.Select(p => p.TruePositiveRate).ToArray());
        curve.LegendText = $"model (AUC {RocCurve.Area(points):F4})";
        curve.LineWidth = 2;
        curve.MarkerSize = 0;
        plot.Title(title);
        plot.XLabel("false positive rate (1 − specificity)");
        plot.YLabel("true positive rate (sensitivity)");
        // A little margin so a perfect curve along the axes stays visible.
        plot.Axes.SetLimits(-0.02, 1.02, -0.02, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(Size, Size, ImageFormat.Png);
    }
}
