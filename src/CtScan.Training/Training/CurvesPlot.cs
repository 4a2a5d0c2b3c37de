using ScottPlot;
using SkiaSharp;

namespace CtScan.Training;

/// <summary>
/// The seed's closing figure: two panels side by side, "Model acc" (acc and val_acc) and "Model loss" (loss and
/// val_loss) over epochs, with a train / val legend; written as a PNG.
/// </summary>
public static class CurvesPlot
{
    public const int PanelWidth = 800;
    public const int PanelHeight = 400;

    public static void Write(string path, IReadOnlyList<EpochRecord> history)
    {
        File.WriteAllBytes(path, Render(history));
    }

    /// <summary>The figure as PNG bytes, <see cref="PanelWidth"/> × 2 by <see cref="PanelHeight"/> pixels.</summary>
    public static byte[] Render(IReadOnlyList<EpochRecord> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0) throw new ArgumentException("no epochs to plot");
        byte[] accuracy = Panel("acc", history, r => r.Accuracy, r => r.ValidationAccuracy);
        byte[] loss = Panel("loss", history, r => r.Loss, r => r.ValidationLoss);

        using var surface = SKSurface.Create(new SKImageInfo(2 * PanelWidth, PanelHeight));
        surface.Canvas.Clear(SKColors.White);
        using (var left = SKBitmap.Decode(accuracy)) surface.Canvas.DrawBitmap(left, 0, 0);
        using (var right = SKBitmap.Decode(loss)) surface.Canvas.DrawBitmap(right, PanelWidth, 0);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private static byte[] Panel(string metric, IReadOnlyList<EpochRecord> history, Func<EpochRecord, double> train, Func<EpochRecord, double> validation)
    {
        var plot = new Plot();
        AddLine(plot, history, train, "train", LinePattern.Solid);
        AddLine(plot, history, validation, "val", LinePattern.Dashed);
        plot.Title($"Model {metric}");
        plot.XLabel("epochs");
        plot.YLabel(metric);
        plot.ShowLegend();
        return plot.GetImageBytes(PanelWidth, PanelHeight, ImageFormat.Png);
    }

    private static void AddLine(Plot plot, IReadOnlyList<EpochRecord> history, Func<EpochRecord, double> value, string label, LinePattern pattern)
    {
        // Undefined points (NaN) are left out rather than drawn as gaps the axis scaling would trip on.
        var points = history.Where(r => double.IsFinite(value(r))).ToArray();
        if (points.Length == 0) return;
        var line = plot.Add.ScatterLine(points.Select(r => (double)r.Epoch).ToArray(), points.Select(value).ToArray());
        line.LegendText = label;
        line.LinePattern = pattern;
        line.LineWidth = 2;
        line.MarkerSize = points.Length == 1 ? 6 : 0;
    }
}
