using System.Globalization;
using System.Text;
using CtScan.Contracts;

namespace CtScan.Pipeline;

/// <summary>
/// Blob naming rules: which scan names are acceptable, where a scan's result goes, and how cached tensors are named.
/// A result can never land outside <c>results/</c>: unsafe scan names (".." or "." segments, a leading slash,
/// backslashes, control characters, empty segments, over-long names) get their result under
/// <c>_unsafe-names/&lt;hash&gt;-&lt;sanitised&gt;.json</c>.
/// </summary>
public static class ScanNames
{
    /// <summary>Folder (inside <c>results</c>) of results for scan names that cannot be used as blob paths.</summary>
    public const string UnsafeNamesFolder = "_unsafe-names";

    /// <summary>Folder (inside <c>results</c>) of results for queue messages that name no scan (unparseable).</summary>
    public const string InvalidMessagesFolder = "_invalid-messages";

    public const string ResultSuffix = ".json";

    private const int MaxBlobNameLength = 1024;

    private static readonly string[] NiftiSuffixes = [".nii", ".nii.gz"];

    /// <summary>Whether the name ends in .nii or .nii.gz (any case).</summary>
    public static bool HasNiftiSuffix(string scanName) =>
        NiftiSuffixes.Any(suffix => scanName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase));

    /// <summary>Null when <paramref name="scanName"/> is usable as a path under <c>results/</c>; else why not.</summary>
    public static string? UnsafeReason(string scanName)
    {
        if (string.IsNullOrEmpty(scanName)) return "the name is empty";
        if (scanName.Length + ResultSuffix.Length > MaxBlobNameLength)
            return $"the name is {scanName.Length} characters long; at most {MaxBlobNameLength - ResultSuffix.Length} are allowed";
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
    /// The blob name in <c>results</c> for a scan: <c>&lt;scan name&gt;.json</c> when the name is safe, else a name
    /// under <see cref="UnsafeNamesFolder"/> derived from a hash of the name (stable, so retries rewrite the same blob).
    /// </summary>
    public static string ResultBlobName(string scanName)
    {
        ArgumentNullException.ThrowIfNull(scanName);
        return UnsafeReason(scanName) is null ? scanName + ResultSuffix : UnsafeResultBlobName(scanName);
    }

    internal static string UnsafeResultBlobName(string scanName)
    {
        var sanitised = new StringBuilder();
        foreach (char c in scanName)
        {
            if (sanitised.Length >= 80) break;
            sanitised.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : c == '.' ? '.' : '_');
        }
        // Never a "." or ".." segment: the sanitised part follows the hash and a dash.
        string hash = Sha256Hex.Of(Encoding.UTF8.GetBytes(scanName))[..16];
        return $"{UnsafeNamesFolder}/{hash}-{sanitised}{ResultSuffix}";
    }

    /// <summary>The result blob for a queue message that names no scan.</summary>
    internal static string InvalidMessageResultBlobName(string message) =>
        $"{InvalidMessagesFolder}/{Sha256Hex.Of(Encoding.UTF8.GetBytes(message))[..32]}{ResultSuffix}";

    /// <summary>
    /// The cached tensor's blob name in <c>tensors</c>: <c>&lt;sha256&gt;.npy</c> for the seed's preprocessing
    /// (HU window [−1000, 400], 128×128×64), the DESIGN.md contract; for any other preprocessing
    /// <c>&lt;sha256&gt;-&lt;W&gt;x&lt;H&gt;x&lt;D&gt;-hu&lt;min&gt;_&lt;max&gt;.npy</c>, so tensors made for models with
    /// different preprocessing never collide and the seed-shaped cache keeps its contract name.
    /// </summary>
    public static string TensorBlobName(string sha256, PreprocessingSpec preprocessing)
    {
        if (!Sha256Hex.IsValid(sha256)) throw new ArgumentException($"expected 64 lowercase hex digits; got '{sha256}'", nameof(sha256));
        ArgumentNullException.ThrowIfNull(preprocessing);
        if (IsSeed(preprocessing)) return sha256 + ".npy";
        var t = preprocessing.TargetShape;
        string Hu(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        // Reorientation and spacing resampling change the tensor too: named only when set, so older names stay valid.
        string orientation = preprocessing.Orientation is { } o ? $"-{o}" : "";
        string spacing = preprocessing.TargetSpacingMm is { } s ? $"-mm{string.Join("_", s.Select(Hu))}" : "";
        return $"{sha256}-{t[0]}x{t[1]}x{t[2]}-hu{Hu(preprocessing.WindowMinimumHu)}_{Hu(preprocessing.WindowMaximumHu)}{orientation}{spacing}.npy";
    }

    /// <summary>The seed's preprocessing (the default when no model is current).</summary>
    public static PreprocessingSpec SeedPreprocessing { get; } = new(
        Preprocessing.HuWindow.SeedMinimumHu, Preprocessing.HuWindow.SeedMaximumHu,
        [VolumeShape.SeedTarget.Width, VolumeShape.SeedTarget.Height, VolumeShape.SeedTarget.Depth]);

    public static bool IsSeed(PreprocessingSpec p) => SamePreprocessing(p, SeedPreprocessing);

    public static bool SamePreprocessing(PreprocessingSpec a, PreprocessingSpec b) =>
        a.WindowMinimumHu == b.WindowMinimumHu && a.WindowMaximumHu == b.WindowMaximumHu && a.TargetShape.SequenceEqual(b.TargetShape)
        && a.Orientation == b.Orientation
        && (a.TargetSpacingMm ?? []).SequenceEqual(b.TargetSpacingMm ?? []) && (a.TargetSpacingMm is null) == (b.TargetSpacingMm is null);
}
