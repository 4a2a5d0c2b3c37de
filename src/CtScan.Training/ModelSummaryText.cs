using System.Globalization;
using System.Text;

namespace CtScan.Training;

/// <summary>
/// Renders a <see cref="ModelSummary"/> the way Keras's model.summary() prints it: a boxed table of
/// "name (Type)", output shape and parameter count, then total, trainable and non-trainable parameters with their
/// float32 size. Columns fit their contents (Keras wraps long names at a fixed width instead).
/// </summary>
public static class ModelSummaryText
{
    private static readonly string[] Headers = ["Layer (type)", "Output Shape", "Param #"];

    public static string Render(ModelSummary summary)
    {
        var rows = summary.Layers
            .Select(layer => new[] { $"{layer.Name} ({layer.Type})", layer.OutputShapeText, Count(layer.Parameters) })
            .ToList();
        int[] widths = [.. Enumerable.Range(0, 3).Select(c => rows.Append(Headers).Max(row => row[c].Length))];

        var text = new StringBuilder();
        text.AppendLine($"Model: \"{summary.ModelName}\"");
        text.AppendLine(Rule('┏', '━', '┳', '┓', widths));
        text.AppendLine(Row('┃', Headers, widths));
        text.AppendLine(Rule('┡', '━', '╇', '┩', widths));
        for (int r = 0; r < rows.Count; r++)
        {
            if (r > 0) text.AppendLine(Rule('├', '─', '┼', '┤', widths));
            text.AppendLine(Row('│', rows[r], widths));
        }
        text.AppendLine(Rule('└', '─', '┴', '┘', widths));
        text.AppendLine($" Total params: {Count(summary.TotalParameters)} ({Float32Size(summary.TotalParameters)})");
        text.AppendLine($" Trainable params: {Count(summary.TrainableParameters)} ({Float32Size(summary.TrainableParameters)})");
        text.Append($" Non-trainable params: {Count(summary.NonTrainableParameters)} ({Float32Size(summary.NonTrainableParameters)})");
        return text.ToString();
    }

    /// <summary>Keras's readable_memory_size for float32 weights: 1024-based units, two decimals.</summary>
    public static string Float32Size(long parameters)
    {
        double size = parameters * 4.0;
        string[] units = ["B", "KB", "MB", "GB"];
        int unit = 0;
        while (size >= 1024 && unit < units.Length - 1)
        {
            size /= 1024;
            unit++;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{size:F2} {units[unit]}");
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Rule(char left, char line, char joint, char right, int[] widths) =>
        left + string.Join(joint, widths.Select(w => new string(line, w + 2))) + right;

    private static string Row(char edge, string[] cells, int[] widths)
    {
        // Counts align right, as in Keras.
        var padded = cells.Select((cell, c) => c == 2 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
        return $"{edge} {string.Join($" {edge} ", padded)} {edge}";
    }
}
