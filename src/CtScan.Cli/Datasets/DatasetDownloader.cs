using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using CtScan.Cli.Progress;
using CtScan.Contracts;

namespace CtScan.Cli.Datasets;

/// <summary>What <see cref="DatasetDownloader.FetchAsync"/> did for one archive.</summary>
/// <param name="Folder">The folder holding the extracted scans.</param>
/// <param name="Files">How many files the extraction wrote (as recorded, when it was done before).</param>
/// <param name="Downloaded">True when the archive was (partly) downloaded by this call.</param>
/// <param name="Extracted">True when this call extracted it; false when an earlier extraction was found.</param>
/// <param name="Sha256">The archive's SHA-256 when it was computed (after a download, or recorded then).</param>
public sealed record DatasetArchiveResult(DatasetArchive Archive, string Folder, int Files, bool Downloaded, bool Extracted, string? Sha256);

/// <summary>
/// Downloads dataset archives resumably and extracts them into the training-data layout (<c>DIR/CT-0/…</c>).
/// Layout under the dataset folder: <c>.partial/NAME.part</c> while downloading, <c>NAME</c> once the download is complete
/// and verified (size, SHA-256 when known, every zip entry's CRC-32), and <c>FOLDER/.ctscan-extracted.json</c> once it is
/// extracted. Each step is skipped when its result exists (unless <see cref="DatasetDownloadOptions.Force"/>).
/// </summary>
public class DatasetDownloader : IDisposable
{
    /// <summary>The file that marks a finished extraction, inside the archive's folder.</summary>
    public const string ExtractedMarker = ".ctscan-extracted.json";

    /// <summary>The folder, under the dataset folder, holding unfinished downloads.</summary>
    public const string PartialFolder = ".partial";

    private const int BufferSize = 81920;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly DatasetDownloadOptions _options;

    /// <summary>A downloader with its own <see cref="HttpClient"/>, disposed with it.</summary>
    public DatasetDownloader(DatasetDownloadOptions options)
        : this(CreateHttpClient(options), options, ownsHttpClient: true)
    {
    }

    /// <summary>A downloader over a caller's <see cref="HttpClient"/> (not disposed here; its Timeout should be infinite).</summary>
    public DatasetDownloader(HttpClient httpClient, DatasetDownloadOptions options)
        : this(httpClient, options, ownsHttpClient: false)
    {
    }

    /// <summary>For mocking.</summary>
    protected DatasetDownloader()
    {
        _http = null!;
        _options = new DatasetDownloadOptions();
    }

    private DatasetDownloader(HttpClient httpClient, DatasetDownloadOptions options, bool ownsHttpClient)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.BaseUri.IsAbsoluteUri) throw new ArgumentException($"the base URL must be absolute; got '{options.BaseUri}'");
        if (options.MaxRetries < 0) throw new ArgumentException($"retries must be 0 or more; got {options.MaxRetries}");
        if (options.Timeout <= TimeSpan.Zero) throw new ArgumentException($"the timeout must be positive; got {options.Timeout}");
        foreach (var (name, hash) in options.Sha256)
        {
            if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
            {
                throw new ArgumentException($"the SHA-256 for {name} must be 64 hex digits; got '{hash}'");
            }
        }
        _http = httpClient;
        _options = options;
        _ownsHttp = ownsHttpClient;
    }

    /// <summary>The archive's URL: the base URL (as a folder) plus the archive's name.</summary>
    public Uri GetUri(DatasetArchive archive)
    {
        var baseUri = _options.BaseUri;
        if (!baseUri.AbsolutePath.EndsWith('/')) baseUri = new Uri(baseUri + "/");
        return new Uri(baseUri, Uri.EscapeDataString(archive.Name));
    }

    /// <summary>The SHA-256 the archive must have: a pinned one from the options, else the published one (default release only).</summary>
    public string? GetExpectedSha256(DatasetArchive archive)
    {
        if (_options.Sha256.TryGetValue(archive.Name, out var pinned)) return pinned.ToLowerInvariant();
        return _options.BaseUri == MosMedDataset.DefaultBaseUri ? archive.Sha256 : null;
    }

    /// <summary>Fetches each archive in turn (download, verify, extract); see <see cref="FetchAsync"/>.</summary>
    public virtual async Task<IReadOnlyList<DatasetArchiveResult>> FetchAllAsync(IEnumerable<DatasetArchive> archives, string root,
        ProgressDisplay progress, TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        var results = new List<DatasetArchiveResult>();
        foreach (var archive in archives)
        {
            results.Add(await FetchAsync(archive, root, progress, log, cancellationToken));
        }
        return results;
    }

    /// <summary>
    /// Makes <c>root/archive.Folder/</c> hold the archive's files: downloads it (resuming a part file) unless the finished
    /// archive is there, verifies it, and extracts it unless an earlier extraction finished.
    /// </summary>
    /// <exception cref="DatasetDownloadException">The download, a check or the extraction failed; the message says which and why.</exception>
    public virtual async Task<DatasetArchiveResult> FetchAsync(DatasetArchive archive, string root, ProgressDisplay progress,
        TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(progress);
        root = Path.GetFullPath(root);
        string folder = Path.Combine(root, archive.Folder);
        string marker = Path.Combine(folder, ExtractedMarker);
        string archivePath = Path.Combine(root, archive.Name);
        string partPath = Path.Combine(root, PartialFolder, archive.Name + ".part");

        if (_options.Force)
        {
            File.Delete(marker);
            File.Delete(archivePath);
            File.Delete(partPath);
        }
        else if (ReadMarker(marker) is { } done)
        {
            return new DatasetArchiveResult(archive, folder, done.Files, Downloaded: false, Extracted: false, done.Sha256);
        }

        string? sha256 = null;
        bool downloaded = false;
        if (!File.Exists(archivePath))
        {
            sha256 = await DownloadVerifiedAsync(archive, partPath, progress, log, cancellationToken);
            File.Move(partPath, archivePath, overwrite: true);
            downloaded = true;
        }
        else if (GetExpectedSha256(archive) is { } expected)
        {
            // A finished archive from an earlier run is trusted, but a hash pinned since must still hold.
            sha256 = await Sha256Hex.OfFileAsync(archivePath, cancellationToken);
            if (sha256 != expected)
            {
                File.Delete(archivePath);
                throw new DatasetDownloadException(archive.Name,
                    $"{archive.Name}: SHA-256 mismatch: expected {expected}, actual {sha256}; deleted {archivePath}, run again to download it anew");
            }
        }

        int files = await ZipChecks.ExtractAsync(archivePath, archive, root, cancellationToken);
        var record = new JsonObject
        {
            ["archive"] = archive.Name,
            ["url"] = GetUri(archive).ToString(),
            ["sha256"] = sha256,
            ["files"] = files,
            ["extractedAt"] = DateTimeOffset.UtcNow.ToString("O"),
        };
        await File.WriteAllTextAsync(marker, record.ToJsonString(), cancellationToken);
        return new DatasetArchiveResult(archive, folder, files, downloaded, Extracted: true, sha256);
    }

    private static (int Files, string? Sha256)? ReadMarker(string marker)
    {
        if (!File.Exists(marker)) return null;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(marker))!.AsObject();
            return ((int)json["files"]!, (string?)json["sha256"]);
        }
        catch (Exception error) when (error is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            return null; // A damaged marker: extract again.
        }
    }

    /// <summary>Downloads to the part file with retries, then checks size, SHA-256 and zip integrity; returns the SHA-256.</summary>
    private async Task<string> DownloadVerifiedAsync(DatasetArchive archive, string partPath, ProgressDisplay progress, TextWriter? log, CancellationToken cancellationToken)
    {
        Uri url = GetUri(archive);
        Directory.CreateDirectory(Path.GetDirectoryName(partPath)!);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await DownloadOnceAsync(archive, url, partPath, progress, log, cancellationToken);
                break;
            }
            catch (DatasetDownloadException failure) when (failure.IsTransient && attempt < _options.MaxRetries)
            {
                var delay = _options.RetryDelay * Math.Pow(2, attempt);
                log?.WriteLine($"{failure.Message}; retrying in {delay.TotalSeconds:0.##} s (attempt {attempt + 2} of {_options.MaxRetries + 1})");
                await Task.Delay(delay, cancellationToken);
            }
            catch (DatasetDownloadException failure) when (failure.IsTransient)
            {
                throw new DatasetDownloadException(archive.Name, $"{failure.Message} (gave up after {attempt + 1} attempt{(attempt == 0 ? "" : "s")}; run again to resume)",
                    isTransient: false, failure);
            }
        }

        string actual = await Sha256Hex.OfFileAsync(partPath, cancellationToken);
        if (GetExpectedSha256(archive) is { } expected && actual != expected)
        {
            File.Delete(partPath);
            throw new DatasetDownloadException(archive.Name,
                $"{archive.Name}: SHA-256 mismatch for {url}: expected {expected}, actual {actual}; the partial download was deleted");
        }
        try
        {
            await ZipChecks.VerifyAsync(partPath, archive.Name, cancellationToken);
        }
        catch (DatasetDownloadException)
        {
            File.Delete(partPath);
            throw;
        }
        return actual;
    }

    /// <summary>One GET: resumes with a Range request when a part file exists; restarts when the server will not resume.</summary>
    private async Task DownloadOnceAsync(DatasetArchive archive, Uri url, string partPath, ProgressDisplay progress, TextWriter? log, CancellationToken cancellationToken)
    {
        long existing = File.Exists(partPath) ? new FileInfo(partPath).Length : 0;
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (existing > 0) request.Headers.Range = new RangeHeaderValue(existing, null);

        HttpResponseMessage response;
        try
        {
            attempt.CancelAfter(_options.Timeout);
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
        }
        catch (HttpRequestException error)
        {
            throw new DatasetDownloadException(archive.Name, $"{archive.Name}: GET {url} failed: {Describe(error)}",
                isTransient: error.HttpRequestError != HttpRequestError.NameResolutionError, error);
        }
        catch (OperationCanceledException error) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DatasetDownloadException(archive.Name, $"{archive.Name}: GET {url} failed: no response within {_options.Timeout.TotalSeconds:0.##} s",
                isTransient: true, error);
        }

        using (response)
        {
            long? total;
            bool append;
            switch (response.StatusCode)
            {
                case HttpStatusCode.RequestedRangeNotSatisfiable when existing > 0:
                    if (response.Content.Headers.ContentRange?.Length == existing) return; // The part was already complete.
                    log?.WriteLine($"{archive.Name}: the server cannot resume at byte {existing} (HTTP 416); restarting");
                    await RestartAsync();
                    return;
                case HttpStatusCode.PartialContent when existing > 0:
                    var range = response.Content.Headers.ContentRange;
                    if (range?.From != existing || range.Length is null)
                    {
                        log?.WriteLine($"{archive.Name}: the server answered a resume at byte {existing} with range '{range}'; restarting");
                        await RestartAsync();
                        return;
                    }
                    total = range.Length;
                    append = true;
                    break;
                case HttpStatusCode.OK:
                    if (existing > 0) log?.WriteLine($"{archive.Name}: the server does not resume (HTTP 200 to a Range request); restarting");
                    total = response.Content.Headers.ContentLength;
                    append = false;
                    existing = 0;
                    break;
                default:
                    int code = (int)response.StatusCode;
                    throw new DatasetDownloadException(archive.Name, $"{archive.Name}: GET {url} failed: HTTP {code} ({response.ReasonPhrase})",
                        isTransient: code is 408 or 429 or >= 500);
            }

            await using var file = new FileStream(partPath, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
            using var bar = progress.Start(archive.Name, total, ProgressUnit.Bytes, existing);
            long length = existing;
            var buffer = new byte[BufferSize];
            Stream? body = null;
            try
            {
                while (true)
                {
                    int read;
                    // Only network reads are caught here: a failed write to the part file (disk full) is not transient.
                    try
                    {
                        attempt.CancelAfter(_options.Timeout); // An idle timeout: reset before every read.
                        body ??= await response.Content.ReadAsStreamAsync(attempt.Token);
                        read = await body.ReadAsync(buffer, attempt.Token);
                    }
                    catch (Exception error) when (error is IOException or HttpRequestException)
                    {
                        await file.FlushAsync(cancellationToken);
                        throw new DatasetDownloadException(archive.Name,
                            $"{archive.Name}: connection to {url} lost at byte {length}{(total is { } t ? $" of {t}" : "")}: {error.Message}", isTransient: true, error);
                    }
                    catch (OperationCanceledException error) when (!cancellationToken.IsCancellationRequested)
                    {
                        await file.FlushAsync(cancellationToken);
                        throw new DatasetDownloadException(archive.Name,
                            $"{archive.Name}: {url} sent nothing for {_options.Timeout.TotalSeconds:0.##} s (at byte {length})", isTransient: true, error);
                    }
                    if (read == 0) break;
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    length += read;
                    bar.Report(length);
                }
            }
            finally
            {
                if (body is not null) await body.DisposeAsync();
            }

            if (total is { } expected && length != expected)
            {
                await file.DisposeAsync();
                File.Delete(partPath);
                throw new DatasetDownloadException(archive.Name,
                    $"{archive.Name}: size mismatch for {url}: got {length} bytes, expected {expected}; restarting", isTransient: true);
            }
            bar.Complete();
        }

        async Task RestartAsync()
        {
            File.Delete(partPath);
            await DownloadOnceAsync(archive, url, partPath, progress, log, cancellationToken);
        }
    }

    private static string Describe(HttpRequestException error)
    {
        for (Exception? inner = error; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.ConnectionReset => "connection reset",
                    SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "host not found",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
                    _ => socket.Message,
                };
            }
        }
        return error.HttpRequestError == HttpRequestError.NameResolutionError ? "host not found" : error.Message;
    }

    private static HttpClient CreateHttpClient(DatasetDownloadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.None, // The archive's bytes, exactly as served.
            ConnectTimeout = options.Timeout,
        };
        // Timeouts are per read (see DatasetDownloadOptions.Timeout), never for the whole download of a 1 GB archive.
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ctscan", "1.0"));
        return client;
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing && _ownsHttp) _http.Dispose();
    }
}
