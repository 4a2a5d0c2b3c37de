using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Pipeline;
using CtScan.Retraining;
using CtScan.Training;

namespace CtScan.Training.Tests.Retraining;

/// <summary>Phantoms in a <c>training</c> container, the job's small configuration, and readers for what a run leaves in storage.</summary>
internal static class RetrainingTestData
{
    /// <summary>A small model that separates phantoms in a few epochs (see TrainCommand's remarks).</summary>
    public static readonly ModelOptions SmallModel = new() { Input = new VolumeShape(46, 46, 46), WidthMultiplier = 0.5 };

    public static TrainingOptions SmallTraining(int epochs, double learningRate = 3e-3) => new()
    {
        Epochs = epochs,
        InitialLearningRate = learningRate,
        BatchSize = 4,
        BatchNormMomentum = 0.5,
        Augment = false,
        Seed = 3,
    };

    /// <summary>The job on <paramref name="connection"/> with the small model; its log lines go to <paramref name="log"/>.</summary>
    public static StorageTrainingJob Job(string connection, string work, TrainingOptions training, TextWriter log, bool force = false, bool promote = true) =>
        new(new PipelineClients(PipelineOptions.ForConnectionString(connection)), new StorageTrainingOptions
        {
            WorkFolder = work,
            Model = SmallModel,
            Training = training,
            Force = force,
            Promote = promote,
        }, log);

    /// <summary>
    /// Writes <paramref name="perClass"/> normal and abnormal phantoms (64×64×48, uncompressed; abnormal ones with 12
    /// opacities, so that a few epochs separate the classes) and uploads them as <c>name(label, n)</c>.
    /// </summary>
    public static async Task<Dictionary<string, byte[]>> UploadPhantomsAsync(BlobContainerClient training, string folder, int perClass, Func<PhantomLabel, int, string> name)
    {
        await training.CreateIfNotExistsAsync();
        var uploaded = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var label in new[] { PhantomLabel.Normal, PhantomLabel.Abnormal })
        {
            for (int n = 0; n < perClass; n++)
            {
                string local = Path.Combine(folder, $"phantom-{label}-{n}.nii");
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

    /// <summary>The run's report.json as stored in <c>models/runs/&lt;id&gt;/</c>, read back through the typed report.</summary>
    public static async Task<RetrainingReport> StoredReportAsync(BlobContainerClient models, StorageTrainingResult result) =>
        RetrainingReport.FromJson((await models.GetBlobClient(result.ReportBlobPrefix + StorageTrainingJob.ReportFileName).DownloadContentAsync()).Value.Content.ToString());

    public static async Task<ModelPointer?> CurrentAsync(BlobContainerClient models) =>
        await new ModelRegistryClient(models).GetCurrentAsync();

    public static async Task<ModelManifest> ManifestAsync(BlobContainerClient models, string version) =>
        await new ModelRegistryClient(models).GetManifestAsync(version);
}

/// <summary>A temporary folder deleted after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public DirectoryInfo Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ctscan-retraining-test-");

    public string Path(string name) => System.IO.Path.Combine(Directory.FullName, name);

    public void Dispose() => Directory.Delete(recursive: true);
}
