using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CtScan.Cli.Commands;

/// <summary>JSON helpers for command output: NaN and infinities as strings (JSON has no literal for them).</summary>
internal static class CliJson
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static JsonNode? Number(double value) =>
        double.IsFinite(value) ? JsonValue.Create(value) : JsonValue.Create(value.ToString(CultureInfo.InvariantCulture));

    public static JsonArray Array(IEnumerable<long> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    public static JsonArray Array(IEnumerable<double> values) => new([.. values.Select(Number)]);

    public static JsonArray Matrix(double[,] m)
    {
        var rows = new JsonArray();
        for (int r = 0; r < m.GetLength(0); r++)
            rows.Add((JsonNode)Array(Enumerable.Range(0, m.GetLength(1)).Select(c => m[r, c]))); // the JsonNode overload: Add<T> is not trim-safe
        return rows;
    }

    /// <summary>A readable "key: value" rendering of a flat-ish JSON object.</summary>
    public static string ToText(JsonObject report)
    {
        var text = new StringBuilder();
        int width = report.Max(p => p.Key.Length) + 1;
        foreach (var (key, value) in report)
        {
            if (value is JsonObject nested)
            {
                text.AppendLine($"{key}:");
                foreach (var (k, v) in nested) text.AppendLine($"  {k,-22} {Flat(v)}");
            }
            else if (value is JsonArray { Count: > 0 } list && list[0] is JsonArray)
            {
                text.AppendLine($"{(key + ":").PadRight(width)} {Flat(list[0])}");
                foreach (var row in list.Skip(1)) text.AppendLine($"{"".PadRight(width)} {Flat(row)}");
            }
            else
            {
                text.AppendLine($"{(key + ":").PadRight(width)} {Flat(value)}");
            }
        }
        return text.ToString().TrimEnd();
    }

    private static string Flat(JsonNode? node) => node switch
    {
        null => "none",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray a => "[" + string.Join(", ", a.Select(Flat)) + "]",
        _ => node.ToJsonString(),
    };
}
