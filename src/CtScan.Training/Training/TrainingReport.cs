using System.Text.Json;
using System.Text.Json.Nodes;

namespace CtScan.Training;

/// <summary>
/// Writes what a user keeps from a run: <c>history.json</c> (one object per epoch, Keras's key names) and
/// <c>metrics.json</c> (the best epoch's validation metrics and confusion matrix). Undefined values (NaN) are written
/// as null, since JSON has no NaN.
/// </summary>
public static class TrainingReport
{
    public const string HistoryFileName = "history.json";
    public const string MetricsFileName = "metrics.json";
    public const string SplitFileName = "split.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static JsonObject History(IReadOnlyList<EpochRecord> history) => new()
    {
        ["epochs"] = new JsonArray([.. history.Select(record => (JsonNode)new JsonObject
        {
            ["epoch"] = record.Epoch,
            ["loss"] = Number(record.Loss),
            ["acc"] = Number(record.Accuracy),
            ["val_loss"] = Number(record.ValidationLoss),
            ["val_acc"] = Number(record.ValidationAccuracy),
            ["val_auc"] = Number(record.ValidationAuc),
            ["val_sensitivity"] = Number(record.ValidationSensitivity),
            ["val_specificity"] = Number(record.ValidationSpecificity),
            ["learning_rate"] = Number(record.LearningRate),
            ["seconds"] = Number(record.Seconds),
            ["training_samples_per_second"] = Number(record.TrainingSamplesPerSecond),
        })]),
    };

    public static JsonObject Metrics(TrainingResult result, int trainingScans, int validationScans)
    {
        var metrics = new JsonObject
        {
            ["stopReason"] = result.StopReason.ToString(),
            ["epochsRun"] = result.History.Count,
            ["steps"] = result.Steps,
            ["trainingScans"] = trainingScans,
            ["validationScans"] = validationScans,
            ["bestEpoch"] = result.BestEpoch,
        };
        if (result.BestValidation is { } best)
        {
            metrics["validation"] = new JsonObject
            {
                ["loss"] = Number(best.Loss),
                ["acc"] = Number(best.Accuracy),
                ["auc"] = Number(best.Auc),
                ["sensitivity"] = Number(best.Sensitivity),
                ["specificity"] = Number(best.Specificity),
                ["threshold"] = best.Threshold,
                ["confusionMatrix"] = new JsonObject
                {
                    ["truePositives"] = best.Confusion.TruePositives,
                    ["falsePositives"] = best.Confusion.FalsePositives,
                    ["trueNegatives"] = best.Confusion.TrueNegatives,
                    ["falseNegatives"] = best.Confusion.FalseNegatives,
                },
            };
        }
        return metrics;
    }

    /// <summary>Which scans trained and which validated, so a run can be audited and its validation set reused.</summary>
    /// <param name="hashes">SHA-256 of each scan file by full path, when known: written as <c>sha256</c>, the input of the data fingerprint.</param>
    public static JsonObject Split(DataSplit split, IReadOnlyDictionary<string, string>? hashes = null) => new()
    {
        ["training"] = Scans(split.Training, hashes),
        ["validation"] = Scans(split.Validation, hashes),
    };

    private static JsonArray Scans(IReadOnlyList<LabeledScan> scans, IReadOnlyDictionary<string, string>? hashes) =>
        new([.. scans.Select(scan =>
        {
            var entry = new JsonObject { ["scan"] = scan.Path, ["label"] = scan.Label };
            if (hashes is not null && hashes.TryGetValue(Path.GetFullPath(scan.Path), out var sha256)) entry["sha256"] = sha256;
            return (JsonNode)entry;
        })]);

    public static void Write(string path, JsonNode node)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, node.ToJsonString(Indented));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The matrix as a small table: rows are the truth, columns the prediction.</summary>
    public static string ConfusionTable(ConfusionMatrix m) =>
        $"                 predicted normal  predicted abnormal\n" +
        $"actual normal    {m.TrueNegatives,16}  {m.FalsePositives,18}\n" +
        $"actual abnormal  {m.FalseNegatives,16}  {m.TruePositives,18}";

    private static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
