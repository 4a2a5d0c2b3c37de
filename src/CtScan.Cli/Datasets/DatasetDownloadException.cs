namespace CtScan.Cli.Datasets;

/// <summary>
/// A dataset archive could not be downloaded, verified or extracted. The message names the archive (and URL where there is
/// one) and the cause: HTTP status, connection error, size or hash mismatch, corrupt or unsafe zip.
/// </summary>
public sealed class DatasetDownloadException : Exception
{
    public DatasetDownloadException(string archive, string message, bool isTransient = false, Exception? innerException = null)
        : base(message, innerException)
    {
        Archive = archive;
        IsTransient = isTransient;
    }

    /// <summary>The archive's file name, e.g. <c>CT-0.zip</c>.</summary>
    public string Archive { get; }

    /// <summary>True when retrying (resuming from the part file) may succeed: connection reset, timeout, HTTP 408/429/5xx.</summary>
    public bool IsTransient { get; }
}
