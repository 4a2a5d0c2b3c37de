using Azure.Storage.Blobs;
using CtScan.Cli.Retraining;
using CtScan.Contracts;
using CtScan.LocalHost.Azurite;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Pipeline;
using CtScan.Preprocessing;
using CtScan.Tensors;
using CtScan.Training;
using static CtScan.Cli.Tests.Retraining.RetrainingTestData;

namespace CtScan.Cli.Tests.Retraining;

/// <summary>The retraining job's data side: the training container's layouts and failures, and tensors reused from <c>tensors/</c>.</summary>
public sealed class StorageTrainingDataTests
{
    [Fact]
    public async Task FromStorage_EmptyTrainingContainer_Exit2NamingTheContainer()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("training").CreateIfNotExistsAsync();
        using var temp = new TempFolder();

        var (exit, _, error) = await CliRunner.RunAsync(["train", "--from-storage", "--connection", azurite.ConnectionString, "--out", temp.Path("work"), .. SmallModel]);

        Assert.Equal(2, exit);
        Assert.Contains("error: the training container 'training'", error);
        Assert.Contains("has no training scans: expected CT-0/ (normal) and CT-23/ (abnormal) folders", error);
    }

    [Fact]
    public async Task FromStorage_OneClassOnly_Exit2()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var training = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("training");
        await training.CreateIfNotExistsAsync();
        foreach (string name in new[] { "CT-0/a.nii", "CT-0/b.nii.gz", "CT-23/notes.txt" })
            await training.GetBlobClient(name).UploadAsync(BinaryData.FromString("not read"));
        using var temp = new TempFolder();

        var (exit, _, error) = await CliRunner.RunAsync(["train", "--from-storage", "--connection", azurite.ConnectionString, "--out", temp.Path("work"), .. SmallModel]);

        Assert.Equal(2, exit);
        Assert.Contains("has scans of one class only (2 normal, 0 abnormal)", error);
        Assert.False(File.Exists(temp.Path("work/data/CT-0/a.nii")), "nothing is downloaded for data that cannot train");
    }

    [Fact]
    public async Task FromStorage_StorageUnreachable_Exit4WithAClearMessage()
    {
        using var temp = new TempFolder();
        string closed = $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};BlobEndpoint=http://127.0.0.1:9/{AzuriteServer.AccountName};QueueEndpoint=http://127.0.0.1:9/{AzuriteServer.AccountName};";

        var (exit, _, error) = await CliRunner.RunAsync(["train", "--from-storage", "--connection", closed, "--out", temp.Path("work"), .. SmallModel]);

        Assert.Equal(4, exit); // storage unavailable (docs/cli-errors.md)
        Assert.Contains("storage unreachable: cannot read http://127.0.0.1:9/devstoreaccount1/training", error);
    }

    [Fact]
    public async Task FromStorage_LabelsCsv_TrainsOnTheListedBlobs_ReusingTensorsFromTheTensorsContainer()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        using var temp = new TempFolder();
        var service = new BlobServiceClient(azurite.ConnectionString);
        var training = service.GetBlobContainerClient("training");
        var scans = await UploadPhantomsAsync(training, temp, perClass: 4, (label, n) => $"ward-{n % 2}/{label.ToString().ToLowerInvariant()}-{n}.nii");
        await training.GetBlobClient("ward-0/unlisted.nii").UploadAsync(BinaryData.FromBytes(scans.Values.First()));
        string csv = "scan,label\n" + string.Join("\n", scans.Keys.Select(name => $"{name},{(name.Contains("abnormal") ? 1 : 0)}"));
        await training.GetBlobClient("labels.csv").UploadAsync(BinaryData.FromString(csv));

        // The pipeline's tensor cache holds every scan's tensor for this preprocessing (46³, the seed's HU window).
        var tensors = service.GetBlobContainerClient("tensors");
        await tensors.CreateIfNotExistsAsync();
        var preprocessing = new PreprocessingOptions { TargetShape = new VolumeShape(46, 46, 46) };
        var uploaded = new Dictionary<string, byte[]>();
        foreach (var (name, bytes) in scans)
        {
            string local = temp.Path(Path.GetFileName(name));
            await File.WriteAllBytesAsync(local, bytes);
            using var image = NiftiImage.Open(local);
            var tensor = new ScanPreprocessor(preprocessing).Process(image.OpenVolume()).Tensor;
            using var npy = new MemoryStream();
            NpyFile.Write(npy, tensor);
            string sha256 = Sha256Hex.Of(bytes);
            await tensors.GetBlobClient(ScanNames.TensorBlobName(sha256, ModelEvaluator.SpecOf(preprocessing))).UploadAsync(BinaryData.FromBytes(npy.ToArray()));
            uploaded[sha256] = npy.ToArray();
        }

        var (exit, output, error) = await CliRunner.RunAsync(["train", "--from-storage", "--connection", azurite.ConnectionString, "--out", temp.Path("work"),
            "--epochs", "1", "--learning-rate", LearningRate, .. SmallModel]);

        Assert.True(exit == 0, error + output);
        Assert.Contains("training data (labels.csv): 8 scans (4 normal, 4 abnormal); 9 downloaded", output); // 8 scans + labels.csv, not the unlisted one
        Assert.False(File.Exists(temp.Path("work/data/ward-0/unlisted.nii")));
        var (_, report) = await ReadReportAsync(service.GetBlobContainerClient("models"), output);
        Assert.Equal("labels.csv", (string?)report["data"]!["layout"]);
        Assert.Equal(8, (int)report["tensors"]!["seededFromStorage"]!);
        Assert.Equal(0, (int)report["tensors"]!["preprocessed"]!);   // no scan was preprocessed: every tensor came from storage
        Assert.Equal(8, (int)report["tensors"]!["cacheHits"]!);
        Assert.Equal("promoted", (string?)report["decision"]);
        var cache = new TensorCache(temp.Path("work/.tensor-cache"), preprocessing);
        foreach (var (sha256, npy) in uploaded)
            Assert.Equal(npy, await File.ReadAllBytesAsync(cache.EntryPath(sha256)));
    }

    /// <summary>
    /// The seed's preprocessing (128×128×64) at the unit level, with a fake tensor: the ingest step's
    /// <c>tensors/&lt;sha256&gt;.npy</c> is taken as the cache entry and no preprocessing happens; a blob of the wrong
    /// shape is ignored. (Training at 128×128×64 would be too slow for CI.)
    /// </summary>
    [Fact]
    public async Task TensorSeeder_SeedPreprocessing_UsesTheIngestTensor_IgnoresAWrongShape()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        using var temp = new TempFolder();
        var tensors = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("tensors");
        await tensors.CreateIfNotExistsAsync();
        string[] paths = [temp.Path("a.nii"), temp.Path("b.nii")];
        for (int n = 0; n < 2; n++)
            ChestPhantomFile.Write(paths[n], new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 16), Seed = n, Label = PhantomLabel.Normal });
        string shaA = Sha256Hex.OfFile(paths[0]), shaB = Sha256Hex.OfFile(paths[1]);
        var seed = VolumeShape.SeedTarget;
        var fake = new float[seed.VoxelCount];
        Array.Fill(fake, 0.25f);
        using (var npy = new MemoryStream())
        {
            NpyFile.Write(npy, new Float32Tensor(fake, [seed.Width, seed.Height, seed.Depth]));
            await tensors.GetBlobClient($"{shaA}.npy").UploadAsync(BinaryData.FromBytes(npy.ToArray()));
        }
        using (var npy = new MemoryStream())
        {
            NpyFile.Write(npy, new Float32Tensor(new float[8], [2, 2, 2]));
            await tensors.GetBlobClient($"{shaB}.npy").UploadAsync(BinaryData.FromBytes(npy.ToArray()));
        }
        var cache = new TensorCache(temp.Path("cache"), new PreprocessingOptions());

        var seeding = await TensorSeeder.SeedAsync(tensors, cache, paths);

        Assert.Equal(("seed", 2, 1, 1, 0), (seeding.Preprocessing, seeding.Scans, seeding.Seeded, seeding.NotInStorage, seeding.AlreadyCached));
        var a = await cache.GetAsync(paths[0]);
        Assert.All(a.Data, v => Assert.Equal(0.25f, v));
        Assert.Equal((0, 1), (cache.PreprocessedCount, cache.HitCount));
        var again = await TensorSeeder.SeedAsync(tensors, cache, paths);
        Assert.Equal((1, 0, 1), (again.AlreadyCached, again.Seeded, again.NotInStorage));
    }
}

/// <summary>How <c>ctscan train</c> tells the local run from the storage job.</summary>
public sealed class TrainArgumentsTests
{
    [Theory]
    [InlineData(new[] { "train", "data", "--from-storage", "--connection", "UseDevelopmentStorage=true" }, "give either DATA")]
    [InlineData(new[] { "train", "--out", "run" }, "give the training data folder DATA, or --from-storage")]
    [InlineData(new[] { "train", "data" }, "--out is required")]
    [InlineData(new[] { "train", "data", "--out", "run", "--force" }, "--force and --no-promote apply to --from-storage only")]
    public async Task Train_InconsistentArguments_Exit2WithTheReason(string[] args, string message)
    {
        var (exit, _, error) = await CliRunner.RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains(message, error);
    }
}
