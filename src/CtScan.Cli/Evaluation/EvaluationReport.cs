using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CtScan.Cli.Commands;

namespace CtScan.Cli.Evaluation;

/// <summary>Renders an <see cref="EvaluationResult"/> as the text <c>ctscan evaluate</c> prints and as its <c>--json</c> file.</summary>
internal static class EvaluationReport
{
    public static string ToText(EvaluationResult result)
    {
        var m = result.Metrics;
        var c = m.Confusion;
        int normal = c.TrueNegatives + c.FalsePositives, abnormal = c.TruePositives + c.FalseNegatives;
        var text = new StringBuilder();
        text.AppendLine($"model {result.Model.Version} on {result.Data}: {m.Count} scans ({normal} normal, {abnormal} abnormal), threshold {Format(m.Threshold)}");
        text.AppendLine($"accuracy     {Format(m.Accuracy)}  ({c.TruePositives + c.TrueNegatives} of {m.Count} right)");
        text.AppendLine($"AUC          {Format(m.Auc)}");
        text.AppendLine($"sensitivity  {Format(m.Sensitivity)}  ({c.TruePositives} of {abnormal} abnormal found)");
        text.AppendLine($"specificity  {Format(m.Specificity)}  ({c.TrueNegatives} of {normal} normal cleared)");
        text.AppendLine($"loss (BCE)   {Format(m.Loss)}");
        text.AppendLine("confusion matrix (rows: truth, columns: prediction):");
        text.AppendLine("            normal  abnormal");
        text.AppendLine($"  normal    {c.TrueNegatives,6}  {c.FalsePositives,8}");
        text.AppendLine($"  abnormal  {c.FalseNegatives,6}  {c.TruePositives,8}");
        return text.ToString().TrimEnd();
    }

    public static JsonObject ToJson(EvaluationResult result)
    {
        var m = result.Metrics;
        var c = m.Confusion;
        return new JsonObject
        {
            ["model"] = new JsonObject { ["version"] = result.Model.Version, ["sha256"] = result.Model.Sha256 },
            ["data"] = result.Data,
            ["threshold"] = m.Threshold,
            ["count"] = m.Count,
            ["accuracy"] = CliJson.Number(m.Accuracy),
            ["auc"] = CliJson.Number(m.Auc),
            ["sensitivity"] = CliJson.Number(m.Sensitivity),
            ["specificity"] = CliJson.Number(m.Specificity),
            ["loss"] = CliJson.Number(m.Loss),
            ["confusion"] = new JsonObject
            {
                ["truePositives"] = c.TruePositives,
                ["falsePositives"] = c.FalsePositives,
                ["trueNegatives"] = c.TrueNegatives,
                ["falseNegatives"] = c.FalseNegatives,
            },
            ["roc"] = result.Roc is null ? null : new JsonArray([.. result.Roc.Select(p => (JsonNode)new JsonObject
            {
                ["falsePositiveRate"] = p.FalsePositiveRate,
                ["truePositiveRate"] = p.TruePositiveRate,
                ["threshold"] = CliJson.Number(p.Threshold),
            })]),
            ["scans"] = new JsonArray([.. result.Scans.Select(s => (JsonNode)new JsonObject
            {
                ["scan"] = s.Path,
                ["label"] = s.Label,
                ["probabilityAbnormal"] = s.ProbabilityAbnormal,
            })]),
        };
    }

    private static string Format(double value) => double.IsNaN(value) ? "undefined" : value.ToString("F4", CultureInfo.InvariantCulture);
}
