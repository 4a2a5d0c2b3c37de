using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CtScan.Viewer;

/// <summary>One row of the results table, read from a result document (<c>results/&lt;scan&gt;.json</c>).</summary>
/// <param name="Name">The result blob's name in <c>results</c> (what the page asks the full document by).</param>
/// <param name="Status"><c>scored</c>, <c>rejected</c>, <c>failed</c>, or <c>unreadable</c> when the blob is not a result document.</param>
/// <param name="Explanation">Blob names in <c>results</c> of the saliency map and montage, when the result links them.</param>
public sealed record ResultSummary(
    string Name,
    string Scan,
    string Status,
    string? Label,
    double? ProbabilityAbnormal,
    string? ModelVersion,
    DateTimeOffset? CreatedAt,
    string? ErrorCode,
    string? ErrorMessage,
    ExplanationLinks? Explanation)
{
    public const string UnreadableStatus = "unreadable";

    /// <summary>The summary of a result document; a blob that is not one becomes an <c>unreadable</c> row naming why.</summary>
    public static ResultSummary Parse(string name, BinaryData content)
    {
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(content.ToMemory().Span) as JsonObject;
        }
        catch (JsonException e)
        {
            return Unreadable(name, $"results/{name} is not JSON: {e.Message}");
        }
        if (root is null || Text(root, "scan") is not { } scan || Text(root, "status") is not { } status)
            return Unreadable(name, $"results/{name} is not a result document (no scan or status)");

        var created = Text(root, "createdAt") is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : (DateTimeOffset?)null;
        double? probability = root["probabilityAbnormal"] is JsonValue p && p.TryGetValue<double>(out var value) ? value : null;
        var error = root["error"] as JsonObject;
        var explanation = root["explanation"] as JsonObject;
        return new ResultSummary(name, scan, status, Text(root, "label"), probability, Text(root["model"] as JsonObject, "version"), created,
            Text(error, "code"), Text(error, "message"),
            explanation is null ? null : new ExplanationLinks(Text(explanation, "method"), Text(explanation, "map"), Text(explanation, "montage")));
    }

    private static ResultSummary Unreadable(string name, string message) =>
        new(name, name, UnreadableStatus, null, null, null, null, "unreadable-result", message, null);

    private static string? Text(JsonObject? o, string property) =>
        o?[property] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

/// <summary>The result's <c>explanation</c>: the method, and the blob names (in <c>results</c>) of the map and the montage.</summary>
public sealed record ExplanationLinks(string? Method, string? Map, string? Montage);
