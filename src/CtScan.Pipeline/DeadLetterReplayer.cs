using System.Text.Json;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>What one <see cref="DeadLetterReplayer.ReplayAsync"/> pass did, counted per event (blobs for the last two).</summary>
/// <param name="Replayed">Scans ingested again.</param>
/// <param name="AlreadyHandled">Scans with a result at least as new as the scan, or just re-ingested by the pending sweep.</param>
/// <param name="Gone">Scans deleted since the event (nothing to do).</param>
/// <param name="Ignored">Events that are not a scan's BlobCreated (another event type or container).</param>
/// <param name="Blobs">Dead-letter blobs handled and deleted.</param>
/// <param name="Malformed">Dead-letter blobs that could not be read as events, moved to <see cref="DeadLetterReplayer.MalformedPrefix"/>.</param>
public sealed record DeadLetterReplayReport(IReadOnlyList<string> Replayed, int AlreadyHandled, int Gone, int Ignored, int Blobs, int Malformed)
{
    public static DeadLetterReplayReport Empty { get; } = new([], 0, 0, 0, 0, 0);
}

/// <summary>
/// Replays the Event Grid events the subscription could not deliver. Event Grid writes each batch of undeliverable
/// events as a JSON array to the dead-letter container (<c>&lt;topic&gt;/&lt;subscription&gt;/yyyy/MM/dd/HH/&lt;guid&gt;.json</c>);
/// a BlobCreated event names its blob in <c>subject</c> (<c>/blobServices/default/containers/scans/blobs/&lt;name&gt;</c>)
/// and <c>data.url</c>. Each named scan without a current result is ingested again, then the dead-letter blob is
/// deleted. A blob that is not such JSON is moved under <see cref="MalformedPrefix"/> with a warning, so it is never
/// read twice; a storage failure leaves the blob for the next pass.
/// </summary>
public sealed partial class DeadLetterReplayer
{
    /// <summary>Where unreadable dead-letter blobs are moved (same container; the replay skips this prefix).</summary>
    public const string MalformedPrefix = "malformed/";

    public const string BlobCreatedEventType = "Microsoft.Storage.BlobCreated";

    private readonly PipelineClients _clients;
    private readonly BlobContainerClient _deadLetters;
    private readonly ScanIngestor _ingestor;
    private readonly ILogger _logger;

    public DeadLetterReplayer(PipelineClients clients, BlobContainerClient deadLetters, ScanIngestor ingestor, ILogger<DeadLetterReplayer>? logger = null)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _deadLetters = deadLetters ?? throw new ArgumentNullException(nameof(deadLetters));
        _ingestor = ingestor ?? throw new ArgumentNullException(nameof(ingestor));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <param name="justIngested">Scans the caller has just ingested again (the pending sweep): not ingested a second time.</param>
    public async Task<DeadLetterReplayReport> ReplayAsync(IReadOnlySet<string>? justIngested = null, CancellationToken cancellationToken = default)
    {
        if (!await _deadLetters.ExistsAsync(cancellationToken).ConfigureAwait(false)) return DeadLetterReplayReport.Empty;
        var replayed = new List<string>();
        var handled = new HashSet<string>(justIngested ?? new HashSet<string>(), StringComparer.Ordinal);
        int already = 0, gone = 0, ignored = 0, blobs = 0, malformed = 0;
        await foreach (var item in _deadLetters.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (item.Name.StartsWith(MalformedPrefix, StringComparison.Ordinal)) continue;
            var blob = _deadLetters.GetBlobClient(item.Name);
            BinaryData content;
            try
            {
                content = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
            }
            catch (RequestFailedException error) when (error.Status == 404)
            {
                continue; // another instance handled it
            }

            IReadOnlyList<DeadLetteredEvent> events;
            try
            {
                events = Parse(content);
            }
            catch (InvalidDataException problem)
            {
                await MoveAsideAsync(blob, content, problem.Message, cancellationToken).ConfigureAwait(false);
                malformed++;
                continue;
            }

            foreach (var e in events)
            {
                if (e.ScanName is not { } scan)
                {
                    ignored++;
                    _logger.LogInformation("Dead-lettered event {EventId} ({EventType}, {Subject}) is not a scan upload; dropped", e.Id, e.EventType, e.Subject);
                    continue;
                }
                if (handled.Contains(scan))
                {
                    already++;
                    continue;
                }
                switch (await ReplayScanAsync(scan, cancellationToken).ConfigureAwait(false))
                {
                    case Outcome.Replayed:
                        replayed.Add(scan);
                        handled.Add(scan);
                        _logger.LogWarning("Replayed dead-lettered event {EventId} ({Reason}): ingested {Scan} again", e.Id, e.DeadLetterReason, scan);
                        break;
                    case Outcome.Current:
                        already++;
                        handled.Add(scan);
                        break;
                    case Outcome.Gone:
                        gone++;
                        break;
                }
            }
            await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            blobs++;
        }
        return new DeadLetterReplayReport(replayed, already, gone, ignored, blobs, malformed);
    }

    private enum Outcome { Replayed, Current, Gone }

    private async Task<Outcome> ReplayScanAsync(string scan, CancellationToken cancellationToken)
    {
        var scanBlob = _clients.Scans.GetBlobClient(scan);
        BlobDownloadStreamingResult download;
        try
        {
            download = (await scanBlob.DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return Outcome.Gone;
        }
        await using (download.Content)
        {
            // A result written after the scan's last upload is current: the event was delivered some other way (a retry,
            // the pending sweep). An older result belongs to a previous upload under the same name.
            if (await ResultModifiedAsync(scan, cancellationToken).ConfigureAwait(false) is { } resultTime && resultTime >= download.Details.LastModified)
                return Outcome.Current;
            await _ingestor.IngestAsync(scan, download.Content, cancellationToken).ConfigureAwait(false);
        }
        return Outcome.Replayed;
    }

    private async Task<DateTimeOffset?> ResultModifiedAsync(string scan, CancellationToken cancellationToken)
    {
        try
        {
            var properties = await _clients.Results.GetBlobClient(ScanNames.ResultBlobName(scan)).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return properties.Value.LastModified;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return null;
        }
    }

    private async Task MoveAsideAsync(BlobClient blob, BinaryData content, string problem, CancellationToken cancellationToken)
    {
        string target = MalformedPrefix + blob.Name;
        _logger.LogWarning("Dead-letter blob {Blob} is not a JSON array of Event Grid events ({Problem}); moved to {Target}", blob.Name, problem, target);
        await _deadLetters.GetBlobClient(target).UploadAsync(content, new BlobUploadOptions
        {
            Metadata = new Dictionary<string, string> { ["problem"] = MetadataSafe(problem) },
        }, cancellationToken).ConfigureAwait(false);
        await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Blob metadata values are ASCII headers: keep printable ASCII, cap the length.</summary>
    private static string MetadataSafe(string text)
    {
        var chars = text.Select(c => c is >= ' ' and <= '~' ? c : '?').Take(1024).ToArray();
        return new string(chars);
    }

    /// <summary>One dead-lettered event: its id and type, and the scan it names (null: not a BlobCreated event in the scans container).</summary>
    public sealed record DeadLetteredEvent(string? Id, string? EventType, string? Subject, string? ScanName, string? DeadLetterReason);

    /// <summary>
    /// Reads a dead-letter blob: a JSON array of events (a single event object is accepted too), in the Event Grid or
    /// the CloudEvents schema.
    /// </summary>
    /// <exception cref="InvalidDataException">Not JSON, not events, or a BlobCreated event that names no blob.</exception>
    public IReadOnlyList<DeadLetteredEvent> Parse(BinaryData content)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content.ToMemory());
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"not JSON: {error.Message}", error);
        }
        using (document)
        {
            var root = document.RootElement;
            var elements = root.ValueKind switch
            {
                JsonValueKind.Array => root.EnumerateArray().ToList(),
                JsonValueKind.Object => [root],
                _ => throw new InvalidDataException($"expected a JSON array of events; got a JSON {root.ValueKind}"),
            };
            var events = new List<DeadLetteredEvent>(elements.Count);
            for (int n = 0; n < elements.Count; n++)
            {
                var element = elements[n];
                if (element.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"event {n} is a JSON {element.ValueKind}, not an object");
                string? id = String(element, "id");
                string? type = String(element, "eventType") ?? String(element, "type");
                string? subject = String(element, "subject");
                string? url = element.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object ? String(data, "url") : null;
                string? scan = null;
                if (type is null or BlobCreatedEventType)
                {
                    var (container, name) = BlobOf(subject, url) ?? throw new InvalidDataException($"event {n} ({id}) names no blob: subject '{subject}', data.url '{url}'");
                    scan = container == _clients.Options.ScansContainer ? name : null;
                }
                events.Add(new DeadLetteredEvent(id, type, subject, scan, String(element, "deadLetterReason")));
            }
            return events;
        }
    }

    /// <summary>The blob an event names: from its subject (the name as it is, not URL-encoded), else from data.url.</summary>
    private static (string Container, string Name)? BlobOf(string? subject, string? url)
    {
        if (subject is not null && SubjectPattern().Match(subject) is { Success: true } match)
            return (match.Groups["container"].Value, match.Groups["name"].Value);
        if (url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            var parts = new BlobUriBuilder(uri);
            if (parts.BlobContainerName is { Length: > 0 } container && parts.BlobName is { Length: > 0 } name) return (container, name);
        }
        return null;
    }

    [GeneratedRegex("^/blobServices/default/containers/(?<container>[^/]+)/blobs/(?<name>.+)$")]
    private static partial Regex SubjectPattern();

    private static string? String(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
