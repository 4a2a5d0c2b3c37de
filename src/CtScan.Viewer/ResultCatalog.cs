using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace CtScan.Viewer;

/// <summary>
/// The result documents in <c>results</c> as table rows. The page polls every few seconds, so each document is read
/// once per version: the listing's ETag says which ones changed since the last poll.
/// </summary>
public sealed class ResultCatalog(BlobContainerClient results)
{
    private readonly BlobContainerClient _results = results ?? throw new ArgumentNullException(nameof(results));
    private readonly ConcurrentDictionary<string, (ETag ETag, ResultSummary Summary)> _cache = new(StringComparer.Ordinal);

    /// <summary>Every result document, newest first, optionally only those with a status or label.</summary>
    public async Task<IReadOnlyList<ResultSummary>> ListAsync(string? status = null, string? label = null, CancellationToken cancellationToken = default)
    {
        var rows = new List<ResultSummary>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (!await _results.ExistsAsync(cancellationToken).ConfigureAwait(false)) return rows;
        await foreach (var blob in _results.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix: null, cancellationToken).ConfigureAwait(false))
        {
            // The container also holds explanation maps and montages beside the documents.
            if (!blob.Name.EndsWith(".json", StringComparison.Ordinal)) continue;
            seen.Add(blob.Name);
            var etag = blob.Properties.ETag ?? default;
            if (!_cache.TryGetValue(blob.Name, out var cached) || cached.ETag != etag)
            {
                var summary = await ReadAsync(blob.Name, cancellationToken).ConfigureAwait(false);
                if (summary is null) continue; // deleted between the listing and the read
                cached = (etag, summary);
                _cache[blob.Name] = cached;
            }
            if (Matches(cached.Summary, status, label)) rows.Add(cached.Summary);
        }
        foreach (var gone in _cache.Keys.Where(k => !seen.Contains(k)).ToList()) _cache.TryRemove(gone, out _);
        rows.Sort((a, b) => Nullable.Compare(b.CreatedAt, a.CreatedAt) is var byTime and not 0 ? byTime : string.CompareOrdinal(a.Name, b.Name));
        return rows;
    }

    private static bool Matches(ResultSummary row, string? status, string? label) =>
        (string.IsNullOrEmpty(status) || string.Equals(row.Status, status, StringComparison.OrdinalIgnoreCase))
        && (string.IsNullOrEmpty(label) || string.Equals(row.Label, label, StringComparison.OrdinalIgnoreCase));

    private async Task<ResultSummary?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var content = await _results.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return ResultSummary.Parse(name, content.Value.Content);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }
}
