using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CtScan.Contracts;
using CtScan.Preprocessing;

namespace CtScan.Tensors;

/// <summary>
/// The one name of a preprocessed tensor, shared by the pipeline's <c>tensors</c> container and the training cache:
/// <c>&lt;sha256 of the scan&gt;-v&lt;preprocessing version&gt;-&lt;preprocessing key&gt;.npy</c>. The key hashes
/// the version and every property of <see cref="PreprocessingOptions"/> (serialised, so a property added later changes
/// the key as soon as it holds a value), so a tensor is found again only when the same bytes went through the same
/// preprocessing.
/// </summary>
public static class TensorNames
{
    public const string Extension = ".npy";

    /// <summary>16 hex digits identifying the preprocessing (version, seed rotation and every option).</summary>
    public static string PreprocessingKey(PreprocessingOptions options, int version = PreprocessingVersion.Current)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Sha256Hex.Of(Encoding.UTF8.GetBytes(CanonicalText(options, version)))[..16];
    }

    /// <summary>What <see cref="PreprocessingKey"/> hashes: readable, for logs and blob metadata.</summary>
    public static string CanonicalText(PreprocessingOptions options, int version = PreprocessingVersion.Current)
    {
        ArgumentNullException.ThrowIfNull(options);
        string json = JsonSerializer.Serialize(options, PreprocessingKeyJsonContext.Default.PreprocessingOptions);
        return string.Create(CultureInfo.InvariantCulture,
            $"ctscan-preprocessing;version={version};rotate={ScanPreprocessor.SeedRotationDegrees:R};options={json}");
    }

    /// <summary>The tensor name for the scan whose content hashes to <paramref name="scanSha256"/>.</summary>
    public static string For(string scanSha256, PreprocessingOptions options, int version = PreprocessingVersion.Current)
    {
        if (!Sha256Hex.IsValid(scanSha256))
            throw new ArgumentException($"expected the scan's SHA-256 as 64 lowercase hex digits; got '{scanSha256}'", nameof(scanSha256));
        if (version < 1) throw new ArgumentOutOfRangeException(nameof(version), version, "the preprocessing version starts at 1");
        return $"{scanSha256}-v{version.ToString(CultureInfo.InvariantCulture)}-{PreprocessingKey(options, version)}{Extension}";
    }

    /// <summary>The tensor name for a model manifest's preprocessing record.</summary>
    public static string For(string scanSha256, PreprocessingSpec preprocessing) =>
        For(scanSha256, PreprocessingSpecs.ToOptions(preprocessing));
}

/// <summary>Compact, ordered JSON of the options: the canonical form the key hashes (property order is declaration order).</summary>
// IncludeFields: the target spacing is a value tuple, whose Item1..Item3 are fields; without it every spacing would serialise as {}.
[JsonSourceGenerationOptions(WriteIndented = false, IncludeFields = true)]
[JsonSerializable(typeof(PreprocessingOptions))]
internal sealed partial class PreprocessingKeyJsonContext : JsonSerializerContext;
