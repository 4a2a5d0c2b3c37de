using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CtScan.Contracts;

namespace CtScan.Training;

/// <summary>
/// What a model manifest records about the run that trained it, read from the run's files beside its checkpoint
/// (<c>OUT/checkpoint</c> → <c>OUT/metrics.json</c>, <c>OUT/split.json</c>): <c>trainingMetrics</c> (camelCase keys,
/// finite numbers only) and <c>dataFingerprint</c>.
/// </summary>
public static class TrainingRunMetadata
{
    public const string ValAuc = "valAuc";
    public const string ValAccuracy = "valAccuracy";
    public const string ValLoss = "valLoss";
    public const string ValSensitivity = "valSensitivity";
    public const string ValSpecificity = "valSpecificity";
    public const string BestEpoch = "bestEpoch";

    /// <summary>split.json's key for the training scans' orientation (axis codes, or null when mixed or unknown).</summary>
    public const string OrientationKey = "orientation";

    /// <summary>The training orientation split.json beside the checkpoint records; null when absent or mixed.</summary>
    public static string? OrientationForCheckpoint(string checkpointDirectory)
    {
        string run = Path.GetDirectoryName(Path.GetFullPath(checkpointDirectory).TrimEnd(Path.DirectorySeparatorChar)) ?? ".";
        string split = Path.Combine(run, TrainingReport.SplitFileName);
        if (!File.Exists(split)) return null;
        return (JsonNode.Parse(File.ReadAllText(split)) as JsonObject)?[OrientationKey] is JsonValue value && value.TryGetValue(out string? codes) ? codes : null;
    }

    /// <summary>The manifest's metrics and fingerprint for the checkpoint in <paramref name="checkpointDirectory"/>; null parts when the run's files are absent.</summary>
    public static (IReadOnlyDictionary<string, double>? Metrics, string? Fingerprint) ForCheckpoint(string checkpointDirectory)
    {
        string run = Path.GetDirectoryName(Path.GetFullPath(checkpointDirectory).TrimEnd(Path.DirectorySeparatorChar)) ?? ".";
        string metrics = Path.Combine(run, TrainingReport.MetricsFileName);
        string split = Path.Combine(run, TrainingReport.SplitFileName);
        return (File.Exists(metrics) ? ReadMetrics(metrics) : null, File.Exists(split) ? DataFingerprint(split) : null);
    }

    /// <summary>
    /// metrics.json's best-epoch validation metrics as manifest keys: valAuc, valAccuracy, valLoss, valSensitivity,
    /// valSpecificity, bestEpoch. Missing, null or non-finite values are left out; null when none is left.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a JSON object.</exception>
    public static IReadOnlyDictionary<string, double>? ReadMetrics(string metricsPath)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(metricsPath)) as JsonObject
                   ?? throw new InvalidDataException($"{metricsPath} is not a JSON object");
        }
        catch (System.Text.Json.JsonException error)
        {
            throw new InvalidDataException($"{metricsPath} is not valid JSON: {error.Message}");
        }
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        void Add(string key, JsonNode? node)
        {
            if (node is JsonValue value && value.TryGetValue(out double number) && double.IsFinite(number)) metrics[key] = number;
        }
        var validation = root["validation"] as JsonObject;
        Add(ValAuc, validation?["auc"]);
        Add(ValAccuracy, validation?["acc"]);
        Add(ValLoss, validation?["loss"]);
        Add(ValSensitivity, validation?["sensitivity"]);
        Add(ValSpecificity, validation?["specificity"]);
        Add(BestEpoch, root["bestEpoch"]);
        return metrics.Count > 0 ? metrics : null;
    }

    /// <summary>
    /// SHA-256 over the run's scans: one line <c>&lt;scan sha256&gt;,&lt;label&gt;\n</c> per scan of split.json (training
    /// and validation), sorted ordinally, UTF-8. Names and folders do not matter, content and labels do. Null when an
    /// entry has no <c>sha256</c> (a split.json from before hashes were recorded).
    /// </summary>
    public static string? DataFingerprint(string splitPath)
    {
        var root = JsonNode.Parse(File.ReadAllText(splitPath)) as JsonObject
                   ?? throw new InvalidDataException($"{splitPath} is not a JSON object");
        var lines = new List<string>();
        foreach (string side in new[] { "training", "validation" })
        {
            foreach (var entry in (root[side] as JsonArray) ?? [])
            {
                string? sha256 = (string?)entry?["sha256"];
                int? label = (int?)entry?["label"];
                if (sha256 is null || label is null) return null;
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{sha256},{label}\n"));
            }
        }
        return lines.Count == 0 ? null : DataFingerprint(lines);
    }

    /// <summary>The fingerprint of (scan sha256, label) pairs; see <see cref="DataFingerprint(string)"/>.</summary>
    public static string DataFingerprint(IEnumerable<(string Sha256, int Label)> scans) =>
        DataFingerprint(scans.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Sha256},{s.Label}\n")).ToList());

    private static string DataFingerprint(List<string> lines)
    {
        lines.Sort(StringComparer.Ordinal);
        return Sha256Hex.Of(Encoding.UTF8.GetBytes(string.Concat(lines)));
    }
}
