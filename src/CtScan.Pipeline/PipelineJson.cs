using System.Text.Json;
using System.Text.Json.Serialization;

namespace CtScan.Pipeline;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ModelPointer))]
[JsonSerializable(typeof(BlobTriggerPoisonMessage))]
internal sealed partial class PipelineJsonContext : JsonSerializerContext;

/// <summary>
/// The message the WebJobs SDK and the Functions host put on <c>webjobs-blobtrigger-poison</c> when a blob trigger
/// failed maxDequeueCount times (PascalCase properties). <see cref="PoisonHandler"/> sends it back to the same queue,
/// with a visibility delay, to retry the ingest later: then <see cref="Retry"/> and <see cref="FirstAttemptAt"/> are
/// set (the hosts ignore properties they do not know).
/// </summary>
public sealed record BlobTriggerPoisonMessage
{
    [JsonPropertyName("Type")] public string? Type { get; init; }
    [JsonPropertyName("FunctionId")] public string? FunctionId { get; init; }
    [JsonPropertyName("BlobType")] public string? BlobType { get; init; }
    [JsonPropertyName("ContainerName")] public string? ContainerName { get; init; }
    [JsonPropertyName("BlobName")] public string? BlobName { get; init; }
    [JsonPropertyName("ETag")] public string? ETag { get; init; }

    /// <summary>Which delayed re-ingest this message asks for (1 for the first); null in the hosts' own messages.</summary>
    [JsonPropertyName("CtScanRetry")] public int? Retry { get; init; }

    /// <summary>When the first retry was scheduled: the retry window is measured from here.</summary>
    [JsonPropertyName("CtScanFirstAttemptAt")] public DateTimeOffset? FirstAttemptAt { get; init; }
}
