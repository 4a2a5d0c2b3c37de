using Azure;
using Azure.Storage.Blobs.Models;

namespace CtScan.Pipeline;

/// <summary>Metadata the pipeline writes on scan and result blobs to tie them to one content.</summary>
public static class ContentMetadata
{
    /// <summary>On a scan: the SHA-256 of the content the ingest step read. On a result: the SHA-256 it describes.</summary>
    public const string Sha256 = "ctscan_sha256";

    /// <summary>On a result: the ETag of the scan version it was made from (quotes removed).</summary>
    public const string ScanETag = "ctscan_scan_etag";

    /// <summary>An ETag as stored in metadata and compared: without its quotes.</summary>
    public static string Text(ETag etag) => etag.ToString().Trim('"');
}

/// <summary>The scan content a piece of work is about: its hash (null when not read yet) and the blob version it was read at (null when unknown).</summary>
public sealed record ScanVersion(string? Sha256, ETag? ETag)
{
    /// <summary>A caller handed over bytes without saying which blob version they are (tests, tools): never judged stale by ETag.</summary>
    public bool Unversioned => ETag is null;

    /// <summary>The content a score request is about (its ETag travels without quotes).</summary>
    public static ScanVersion Of(CtScan.Contracts.ScoreRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new(request.Sha256, request.ScanETag is { Length: > 0 } etag ? new ETag($"\"{etag}\"") : null);
    }
}

/// <summary>How a piece of work relates to the scan blob as it is now.</summary>
public enum Freshness
{
    /// <summary>The blob still holds the content the work is about.</summary>
    Current,

    /// <summary>The blob was replaced since: the work must not produce a result (the new content has its own).</summary>
    Stale,

    /// <summary>The blob was deleted.</summary>
    Gone,
}

/// <summary>
/// Decides whether work made from one version of a scan still describes the blob's current content. The blob's ETag
/// at read time identifies the version; after the ingest step has hashed it, <see cref="ContentMetadata.Sha256"/> on
/// the blob names its content (a metadata write changes the ETag, an upload clears the metadata, so the pair is exact).
/// </summary>
public sealed class ScanFreshness(PipelineClients clients)
{
    private readonly PipelineClients _clients = clients ?? throw new ArgumentNullException(nameof(clients));

    /// <summary>Compares <paramref name="version"/> with the scan blob's properties now.</summary>
    public async Task<(Freshness Freshness, string? CurrentSha256)> CheckAsync(string scanName, ScanVersion version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scanName);
        ArgumentNullException.ThrowIfNull(version);
        BlobProperties properties;
        try
        {
            properties = (await _clients.Scans.GetBlobClient(scanName).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return (Freshness.Gone, null);
        }
        string? current = properties.Metadata.TryGetValue(ContentMetadata.Sha256, out var tagged) ? tagged : null;
        if (version.ETag is { } etag && properties.ETag == etag) return (Freshness.Current, current);
        if (version.Sha256 is { } sha && current is not null) return (sha == current ? Freshness.Current : Freshness.Stale, current);
        // A version read at another ETag whose content nobody has hashed yet: the blob was re-uploaded since (its own
        // trigger will ingest it). Unversioned work with nothing to compare is taken as current.
        return (version.Unversioned ? Freshness.Current : Freshness.Stale, current);
    }
}
