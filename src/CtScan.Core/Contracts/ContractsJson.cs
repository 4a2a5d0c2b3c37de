using System.Text.Json;
using System.Text.Json.Serialization;

namespace CtScan.Contracts;

/// <summary>Source-generated JSON for the contracts: camelCase, nulls omitted, enums as their contract strings.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false, ReadCommentHandling = JsonCommentHandling.Disallow, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ScanResult))]
[JsonSerializable(typeof(ModelManifest))]
[JsonSerializable(typeof(ScoreRequest))]
[JsonSerializable(typeof(ExplainRequest))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;

/// <summary>Reads and writes the contract types; reading fails with <see cref="InvalidDataException"/> naming the problem.</summary>
public static class ContractsJson
{
    public static string Serialize(ScanResult result) => JsonSerializer.Serialize(result, ContractsJsonContext.Default.ScanResult);

    public static string Serialize(ModelManifest manifest) => JsonSerializer.Serialize(manifest, ContractsJsonContext.Default.ModelManifest);

    public static string Serialize(ScoreRequest request) => JsonSerializer.Serialize(request, ContractsJsonContext.Default.ScoreRequest);

    public static string Serialize(ExplainRequest request) => JsonSerializer.Serialize(request, ContractsJsonContext.Default.ExplainRequest);

    public static ExplainRequest DeserializeExplainRequest(string json) => Deserialize(json, ContractsJsonContext.Default.ExplainRequest, "explain request");

    public static ScanResult DeserializeResult(string json) => Deserialize(json, ContractsJsonContext.Default.ScanResult, "scan result");

    public static ScoreRequest DeserializeScoreRequest(string json) => Deserialize(json, ContractsJsonContext.Default.ScoreRequest, "score request");

    /// <summary>Parses and validates a manifest; every problem is named in the exception.</summary>
    public static ModelManifest DeserializeManifest(string json) =>
        Deserialize(json, ContractsJsonContext.Default.ModelManifest, "model manifest").Validated();

    private static T Deserialize<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new InvalidDataException($"the {what} is JSON null");
        }
        catch (JsonException error)
        {
            // The message names the path (e.g. $.input.layout) and, for enums, the bad value.
            throw new InvalidDataException($"invalid {what}: {error.Message}", error);
        }
    }
}
