namespace CtScan.Pipeline;

/// <summary>
/// How logs and telemetry name a scan. Blob names may identify patients and logs travel further than results
/// (Application Insights, Log Analytics, support tickets), so unless <see cref="PipelineOptions.LogScanNames"/> allows
/// names a scan is named by its content hash, which its result carries as <c>input.sha256</c>.
/// </summary>
public static class ScanLogName
{
    /// <summary>What a log line without a name or hash says.</summary>
    public const string Withheld = "(scan name withheld)";

    /// <summary>The scan's name when names are allowed; else <c>sha256:&lt;hex&gt;</c>, or <see cref="Withheld"/> before it is hashed.</summary>
    public static string Of(PipelineOptions options, string scanName, string? sha256)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.LogScanNames) return scanName;
        return sha256 is { Length: > 0 } ? $"sha256:{sha256}" : Withheld;
    }

    /// <summary><paramref name="text"/> with the scan's name replaced by <see cref="Of"/> (messages that quote the name).</summary>
    public static string Redact(PipelineOptions options, string text, string scanName, string? sha256)
    {
        ArgumentNullException.ThrowIfNull(text);
        return options.LogScanNames || string.IsNullOrEmpty(scanName) ? text : text.Replace(scanName, Of(options, scanName, sha256), StringComparison.Ordinal);
    }
}
