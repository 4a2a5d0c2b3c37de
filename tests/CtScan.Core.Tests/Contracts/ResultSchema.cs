using System.Text.Json;
using Json.Schema;

namespace CtScan.Tests.Contracts;

/// <summary>schemas/scan-result.schema.json (copied beside the tests), with format checks on (date-time).</summary>
internal static class ResultSchema
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schemas", "scan-result.schema.json"))));

    /// <summary>The schema's error messages for <paramref name="json"/>; empty when it is valid.</summary>
    public static IReadOnlyList<string> Errors(string json)
    {
        using var document = JsonDocument.Parse(json);
        var results = Schema.Value.Evaluate(document.RootElement,
            new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        if (results.IsValid) return [];
        var errors = (results.Details ?? []).Where(d => d.Errors is not null)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")).ToList();
        return errors.Count > 0 ? errors : ["invalid (no details)"];
    }
}
