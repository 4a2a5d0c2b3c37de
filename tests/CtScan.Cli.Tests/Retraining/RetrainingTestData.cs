using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Pipeline;

namespace CtScan.Cli.Tests.Retraining;

/// <summary>Phantoms in a <c>training</c> container and readers for what a retraining run leaves in storage.</summary>
internal static partial class RetrainingTestData
{
    /// <summary>The small configuration that separates phantoms in a few epochs (with <see cref="LearningRate"/>; see TrainCommand's remarks).</summary>
    public static readonly string[] SmallModel =
        ["--width", "0.5", "--input", "46", "46", "46", "--batch-size", "4", "--batch-norm-momentum", "0.5", "--no-augment", "--seed", "3"];

    public const string LearningRate = "3e-3";

    /// <summary>
    /// Writes <paramref name="perClass"/> normal and abnormal phantoms (64×64×48, uncompressed; abnormal ones with 12
    /// opacities, so that a few epochs separate the classes) and uploads them as <c>name(label, n)</c>.
    /// </summary>
    public static async Task<Dictionary<string, byte[]>> UploadPhantomsAsync(BlobContainerClient training, TempFolder temp, int perClass, Func<PhantomLabel, int, string> name)
    {
        await training.CreateIfNotExistsAsync();
        var uploaded = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var label in new[] { PhantomLabel.Normal, PhantomLabel.Abnormal })
        {
            for (int n = 0; n < perClass; n++)
            {
                string local = temp.Path($"phantom-{label}-{n}.nii");
                ChestPhantomFile.Write(local, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 48), Seed = 100 + n, Label = label, OpacityCount = label == PhantomLabel.Abnormal ? 12 : null });
                byte[] bytes = File.ReadAllBytes(local);
                string blob = name(label, n);
                await training.GetBlobClient(blob).UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
                uploaded[blob] = bytes;
            }
        }
        return uploaded;
    }

    public static string Folders(PhantomLabel label, int n) =>
        label == PhantomLabel.Normal ? $"CT-0/normal-{n:00}.nii" : $"CT-23/abnormal-{n:00}.nii";

    /// <summary>The report the run printed it wrote ("report: models/runs/&lt;id&gt;/report.json"), read back from storage.</summary>
    public static async Task<(string Prefix, JsonNode Report)> ReadReportAsync(BlobContainerClient models, string output)
    {
        var match = ReportLine().Match(output);
        Assert.True(match.Success, $"no report line in:\n{output}");
        string prefix = match.Groups["prefix"].Value;
        var content = (await models.GetBlobClient(prefix + "report.json").DownloadContentAsync()).Value.Content.ToString();
        return (prefix, JsonNode.Parse(content)!);
    }

    public static async Task<ModelPointer?> CurrentAsync(BlobContainerClient models) =>
        await new ModelRegistryClient(models).GetCurrentAsync();

    public static async Task<ModelManifest> ManifestAsync(BlobContainerClient models, string version) =>
        await new ModelRegistryClient(models).GetManifestAsync(version);

    [GeneratedRegex(@"report: models/(?<prefix>runs/[^/\s]+/)report\.json")]
    private static partial Regex ReportLine();
}
