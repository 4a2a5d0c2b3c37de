using System.Globalization;
using System.Text;
using CtScan.Contracts;
using CtScan.Preprocessing;

namespace CtScan.Pipeline;

/// <summary>
/// Blob naming rules: which scan names are acceptable and where a scan's result goes (tensor names: CtScan.Tensors.TensorNames).
/// A result can never land outside <c>results/</c>: unsafe scan names (".." or "." segments, a leading slash,
/// backslashes, control characters, empty segments, names over storage's 1,024 characters) are rejected with their
/// result under <c>_unsafe-names/&lt;hash&gt;-&lt;sanitised&gt;.json</c>. A name that is fine but too long to take the
/// <c>.json</c> suffix (1,020 to 1,024 characters) is scored, with its result under
/// <c>_long-names/&lt;hash&gt;-&lt;sanitised&gt;.json</c>.
/// </summary>
public static class ScanNames
{
    /// <summary>Folder (inside <c>results</c>) of results for scan names that cannot be used as blob paths.</summary>
    public const string UnsafeNamesFolder = "_unsafe-names";

    /// <summary>Folder (inside <c>results</c>) of results for queue messages that name no scan (unparseable).</summary>
    public const string InvalidMessagesFolder = "_invalid-messages";

    /// <summary>Folder (inside <c>results</c>) of results for acceptable scan names too long to take <see cref="ResultSuffix"/>.</summary>
    public const string LongNamesFolder = "_long-names";

    public const string ResultSuffix = ".json";

    /// <summary>Azure Storage's limit on a blob name, in characters.</summary>
    public const int MaxBlobNameLength = 1024;

    private static readonly string[] NiftiSuffixes = [".nii", ".nii.gz"];

    /// <summary>Whether the name ends in .nii or .nii.gz (any case).</summary>
    public static bool HasNiftiSuffix(string scanName) =>
        NiftiSuffixes.Any(suffix => scanName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase));

    /// <summary>Null when <paramref name="scanName"/> is usable as a path under <c>results/</c>; else why not.</summary>
    public static string? UnsafeReason(string scanName)
    {
        if (string.IsNullOrEmpty(scanName)) return "the name is empty";
        if (scanName.Length > MaxBlobNameLength)
            return $"the name is {scanName.Length} characters long; blob names have at most {MaxBlobNameLength}";
        for (int i = 0; i < scanName.Length; i++)
        {
            char c = scanName[i];
            if (char.IsControl(c)) return $"the name contains the control character U+{(int)c:X4}";
            if (c == '\\') return "the name contains a backslash";
            if (char.IsHighSurrogate(c) && i + 1 < scanName.Length && char.IsLowSurrogate(scanName[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) return "the name contains an unpaired surrogate";
        }
        if (scanName.StartsWith('/')) return "the name starts with a slash";
        foreach (var segment in scanName.Split('/'))
        {
            if (segment is "." or "..") return $"the name has a '{segment}' path segment";
            if (segment.Length == 0) return "the name has an empty path segment ('//' or a trailing slash)";
        }
        return null;
    }

    /// <summary>
    /// The blob name in <c>results</c> for a scan: <c>&lt;scan name&gt;.json</c> when the name is safe and short
    /// enough, else a name under <see cref="UnsafeNamesFolder"/> or <see cref="LongNamesFolder"/> derived from a hash
    /// of the name (stable, so retries rewrite the same blob).
    /// </summary>
    public static string ResultBlobName(string scanName)
    {
        ArgumentNullException.ThrowIfNull(scanName);
        if (UnsafeReason(scanName) is not null) return HashedResultBlobName(UnsafeNamesFolder, scanName);
        return scanName.Length + ResultSuffix.Length <= MaxBlobNameLength ? scanName + ResultSuffix : HashedResultBlobName(LongNamesFolder, scanName);
    }

    private static string HashedResultBlobName(string folder, string scanName)
    {
        var sanitised = new StringBuilder();
        foreach (char c in scanName)
        {
            if (sanitised.Length >= 80) break;
            sanitised.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : c == '.' ? '.' : '_');
        }
        // Never a "." or ".." segment: the sanitised part follows the hash and a dash.
        string hash = Sha256Hex.Of(Encoding.UTF8.GetBytes(scanName))[..16];
        return $"{folder}/{hash}-{sanitised}{ResultSuffix}";
    }

    /// <summary>The result blob for a queue message that names no scan.</summary>
    internal static string InvalidMessageResultBlobName(string message) =>
        $"{InvalidMessagesFolder}/{Sha256Hex.Of(Encoding.UTF8.GetBytes(message))[..32]}{ResultSuffix}";

    /// <summary>The seed's preprocessing (the default when no model is current).</summary>
    public static PreprocessingSpec SeedPreprocessing { get; } = PreprocessingSpecs.ToSpec(new PreprocessingOptions());

    /// <summary>True when <paramref name="p"/> is the seed's preprocessing (compared as options, so every field counts).</summary>
    public static bool IsSeed(PreprocessingSpec p) => PreprocessingSpecs.ToOptions(p) == new PreprocessingOptions();
}
