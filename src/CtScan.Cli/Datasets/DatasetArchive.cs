namespace CtScan.Cli.Datasets;

/// <summary>One archive of a dataset: its file name in the release, the folder its scans land in, and its known SHA-256 if any.</summary>
/// <param name="Name">File name in the release, e.g. <c>CT-0.zip</c>.</param>
/// <param name="Folder">Folder under the dataset directory that holds the extracted scans, e.g. <c>CT-0</c>.</param>
/// <param name="Description">What the scans are, for messages.</param>
/// <param name="Sha256">The archive's SHA-256 (lowercase hex) as published, or null when not known.</param>
public sealed record DatasetArchive(string Name, string Folder, string Description, string? Sha256);

/// <summary>The MosMedData subset the Keras example trains on, as its tutorial release publishes it.</summary>
public static class MosMedDataset
{
    /// <summary>The tutorial's GitHub release that the seed downloads from.</summary>
    public static readonly Uri DefaultBaseUri = new("https://github.com/hasibzunair/3D-image-classification-tutorial/releases/download/v0.2/");

    /// <summary>CT-0.zip: normal lung tissue (label 0). The seed's log shows 1,045,162,547 bytes; no SHA-256 is published.</summary>
    public static readonly DatasetArchive Normal = new("CT-0.zip", "CT-0", "normal lung tissue (label 0)", Sha256: null);

    /// <summary>CT-23.zip: ground-glass opacities, viral pneumonia findings (label 1). No SHA-256 is published.</summary>
    public static readonly DatasetArchive Abnormal = new("CT-23.zip", "CT-23", "viral pneumonia findings (label 1)", Sha256: null);

    public static IReadOnlyList<DatasetArchive> Archives { get; } = [Normal, Abnormal];
}
