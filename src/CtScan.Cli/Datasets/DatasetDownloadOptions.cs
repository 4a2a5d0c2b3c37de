namespace CtScan.Cli.Datasets;

/// <summary>Where and how <see cref="DatasetDownloader"/> fetches archives.</summary>
public sealed class DatasetDownloadOptions
{
    /// <summary>The folder URL the archive names are appended to. Defaults to the tutorial's release.</summary>
    public Uri BaseUri { get; set; } = MosMedDataset.DefaultBaseUri;

    /// <summary>How many times a transient failure (connection reset, timeout, HTTP 408/429/5xx) is retried; 0 disables retries.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The wait before the first retry; it doubles with every further one.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait for response headers or for any single read of the body (not for the whole download).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// Expected SHA-256 per archive name (lowercase or uppercase hex). An archive not listed here is checked against its
    /// <see cref="DatasetArchive.Sha256"/> when that is known and <see cref="BaseUri"/> is the default release.
    /// </summary>
    public IDictionary<string, string> Sha256 { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Delete finished archives and extractions and start over.</summary>
    public bool Force { get; set; }
}
