using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CtScan.Contracts;

namespace CtScan.Pipeline;

/// <summary>Reads and writes <c>results/…json</c>; names come from <see cref="ScanNames.ResultBlobName"/>.</summary>
public class ResultStore
{
    private readonly BlobContainerClient _results;

    protected ResultStore() => _results = null!;

    public ResultStore(PipelineClients clients) : this(clients.Results) { }

    public ResultStore(BlobContainerClient results) => _results = results ?? throw new ArgumentNullException(nameof(results));

    public BlobContainerClient Container => _results;

    /// <summary>Writes (or rewrites) the result for its scan; returns the blob name.</summary>
    public virtual Task<string> WriteAsync(ScanResult result, CancellationToken cancellationToken = default) =>
        WriteAsync(ScanNames.ResultBlobName(result.Scan), result, cancellationToken);

    public virtual async Task<string> WriteAsync(string blobName, ScanResult result, CancellationToken cancellationToken = default)
    {
        await Upload(blobName, result, conditions: null, cancellationToken).ConfigureAwait(false);
        return blobName;
    }

    /// <summary>
    /// Writes the result unless one exists that should be kept: <paramref name="keepExisting"/> decides (null: keep
    /// any). The replacement is conditional on the ETag read, so a result written meanwhile is never overwritten.
    /// </summary>
    /// <returns>True when written.</returns>
    public virtual async Task<bool> WriteUnlessKeptAsync(string blobName, ScanResult result, Func<ScanResult?, bool>? keepExisting,
        CancellationToken cancellationToken = default)
    {
        var existing = await TryReadAsync(blobName, cancellationToken).ConfigureAwait(false);
        BlobRequestConditions conditions;
        if (existing is null) conditions = new BlobRequestConditions { IfNoneMatch = ETag.All };
        else
        {
            if (keepExisting is null || keepExisting(existing.Value.Result)) return false;
            conditions = new BlobRequestConditions { IfMatch = existing.Value.ETag };
        }
        try
        {
            await Upload(blobName, result, conditions, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException error) when (error.Status is 409 or 412)
        {
            return false; // a result was written meanwhile; it is newer than anything we know
        }
    }

    /// <summary>
    /// Writes the result for <paramref name="version"/> of its scan unless that content has been replaced: reads the
    /// existing result's ETag, then asks <paramref name="isCurrent"/>, then writes on condition that the result blob
    /// is still the one read (If-Match, or If-None-Match * when there was none). A result for newer content written
    /// after the read makes the write fail and the loop asks again, now seeing the scan replaced; one written before
    /// the read means the scan was replaced before the question, so the answer is already "stale". Either way an
    /// older content's result never lands over a newer one's.
    /// </summary>
    /// <returns>The blob name, or null when the content is no longer current (nothing written).</returns>
    public virtual async Task<string?> WriteWhileCurrentAsync(ScanResult result, ScanVersion version, Func<CancellationToken, Task<bool>> isCurrent,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(isCurrent);
        string blobName = ScanNames.ResultBlobName(result.Scan);
        var blob = _results.GetBlobClient(blobName);
        var metadata = new Dictionary<string, string>();
        if (version.Sha256 is { } sha) metadata[ContentMetadata.Sha256] = sha;
        if (version.ETag is { } etag) metadata[ContentMetadata.ScanETag] = ContentMetadata.Text(etag);
        for (int attempt = 1; attempt <= MaxConditionalAttempts; attempt++)
        {
            ETag? existing;
            try { existing = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ETag; }
            catch (RequestFailedException error) when (error.Status == 404) { existing = null; }
            if (!await isCurrent(cancellationToken).ConfigureAwait(false)) return null;
            var conditions = existing is { } e ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All };
            try
            {
                await Upload(blobName, result, conditions, cancellationToken, metadata).ConfigureAwait(false);
                return blobName;
            }
            catch (RequestFailedException error) when (error.Status is 409 or 412)
            {
                // Another writer got there between our read and our write: look again.
            }
        }
        throw new RequestFailedException(412, $"{blobName}: the result changed under every one of {MaxConditionalAttempts} conditional writes; the host retries the message");
    }

    private const int MaxConditionalAttempts = 5;

    /// <summary>The result and its ETag; null when absent. An unreadable blob reads as a null result (to be replaced).</summary>
    public virtual async Task<(ScanResult? Result, ETag ETag)?> TryReadAsync(string blobName, CancellationToken cancellationToken = default)
    {
        try
        {
            var content = await _results.GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            ScanResult? result;
            try { result = ContractsJson.DeserializeResult(content.Value.Content.ToString()); }
            catch (InvalidDataException) { result = null; }
            return (result, content.Value.Details.ETag);
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return null;
        }
    }

    private Task Upload(string blobName, ScanResult result, BlobRequestConditions? conditions, CancellationToken cancellationToken,
        IDictionary<string, string>? metadata = null) =>
        _results.GetBlobClient(blobName).UploadAsync(BinaryData.FromString(ContractsJson.Serialize(result)), new BlobUploadOptions
        {
            Conditions = conditions,
            Metadata = metadata,
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
        }, cancellationToken);
}
