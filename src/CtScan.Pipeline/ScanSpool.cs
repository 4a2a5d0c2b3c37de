using System.Security.Cryptography;

namespace CtScan.Pipeline;

/// <summary>
/// A scan copied from its (network) stream into a temporary file while its SHA-256 is computed, in one pass over the
/// network. Why spool rather than hash while parsing: the hash must be known before preprocessing to skip scans
/// already in the tensor cache; the NIfTI reader stops at the end of the voxel data, so a hashing wrapper would miss
/// trailing bytes; the size limit is enforced before any parsing; and network errors (retryable) all happen during
/// the copy, so everything after it reads a local file and any exception there is the file's fault (reject, no retry).
/// The file is deleted on dispose.
/// </summary>
internal sealed class ScanSpool : IAsyncDisposable
{
    private ScanSpool(string path, string sha256, long length)
    {
        Path = path;
        Sha256 = sha256;
        Length = length;
    }

    public string Path { get; }

    public string Sha256 { get; }

    public long Length { get; }

    /// <summary>Copies <paramref name="content"/> into a temporary file; null when it is longer than <paramref name="maxBytes"/>.</summary>
    public static async Task<ScanSpool?> CreateAsync(Stream content, string directory, long maxBytes, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        string path = System.IO.Path.Combine(directory, PipelineOptions.SpoolFilePattern.Replace("*", Guid.NewGuid().ToString("N"), StringComparison.Ordinal));
        bool keep = false;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            var buffer = new byte[1 << 16];
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += read;
                    if (length > maxBytes) return null;
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
            keep = true;
            return new ScanSpool(path, Convert.ToHexStringLower(hash.GetHashAndReset()), length);
        }
        finally
        {
            if (!keep) File.Delete(path);
        }
    }

    public FileStream OpenRead() => new(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

    public ValueTask DisposeAsync()
    {
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return ValueTask.CompletedTask;
    }
}
