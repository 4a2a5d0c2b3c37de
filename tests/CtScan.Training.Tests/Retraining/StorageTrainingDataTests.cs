using Azure;
using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.LocalHost.Azurite;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Pipeline;
using CtScan.Preprocessing;
using CtScan.Retraining;
using CtScan.Tensors;
using static CtScan.Training.Tests.Retraining.RetrainingTestData;

namespace CtScan.Training.Tests.Retraining;

/// <summary>The retraining job's data side: the training container's layouts and failures, and tensors reused from <c>tensors/</c>.</summary>
public sealed class StorageTrainingDataTests
{
    [Fact]
    public async Task RunAsync_EmptyTrainingContainer_InvalidDataNamingTheContainer()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("training").CreateIfNotExistsAsync();
        using var temp = new TempFolder();

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Job(azurite.ConnectionString, temp.Path("work"), SmallTraining(1), TextWriter.Null).RunAsync());

        Assert.StartsWith("the training container 'training'", error.Message);
        Assert.Contains("has no training scans: expected CT-0/ (normal) and CT-23/ (abnormal) folders", error.Message);
    }

    [Fact]
    public async Task RunAsync_OneClassOnly_InvalidData_NothingDownloaded()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var training = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("training");
        await training.CreateIfNotExistsAsync();
        foreach (string name in new[] { "CT-0/a.nii", "CT-0/b.nii.gz", "CT-23/notes.txt" })
            await training.GetBlobClient(name).UploadAsync(BinaryData.FromString("not read"));
        using var temp = new TempFolder();

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Job(azurite.ConnectionString, temp.Path("work"), SmallTraining(1), TextWriter.Null).RunAsync());

        Assert.Contains("has scans of one class only (2 normal, 0 abnormal)", error.Message);
        Assert.False(File.Exists(temp.Path("work/data/CT-0/a.nii")), "nothing is downloaded for data that cannot train");
    }

    [Fact]
    public async Task RunAsync_StorageUnreachable_RequestFailedNamingTheContainerUrl()
    {
        using var temp = new TempFolder();
        string closed = $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};BlobEndpoint=http://127.0.0.1:9/{AzuriteServer.AccountName};QueueEndpoint=http://127.0.0.1:9/{AzuriteServer.AccountName};";

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => Job(closed, temp.Path("work"), SmallTraining(1), TextWriter.Null).RunAsync());

        Assert.StartsWith("storage unreachable: cannot read http://127.0.0.1:9/devstoreaccount1/training", error.Message);
    }

    [Fact]
    public async Task RunAsync_LabelsCsv_TrainsOnTheListedBlobs_ReusingTensorsFromTheTensorsContainer()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        using var temp = new TempFolder();
        var service = new BlobServiceClient(azurite.ConnectionString);
        var training = service.GetBlobContainerClient("training");
        var scans = await UploadPhantomsAsync(training, temp.Directory.FullName, perClass: 4, (label, n) => $"ward-{n % 2}/{label.ToString().ToLowerInvariant()}-{n}.nii");
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
            await tensors.GetBlobClient(TensorNames.For(sha256, preprocessing)).UploadAsync(BinaryData.FromBytes(npy.ToArray()));
            uploaded[sha256] = npy.ToArray();
        }

        var output = new StringWriter();
        var report = (await Job(azurite.ConnectionString, temp.Path("work"), SmallTraining(1), output).RunAsync()).Report;

        Assert.Contains("training data (labels.csv): 8 scans (4 normal, 4 abnormal); 9 downloaded", output.ToString()); // 8 scans + labels.csv, not the unlisted one
        Assert.False(File.Exists(temp.Path("work/data/ward-0/unlisted.nii")));
        Assert.Equal("labels.csv", report.Data.Layout);
        Assert.Equal(8, report.Tensors.SeededFromStorage);
        Assert.Equal(0, report.Tensors.Preprocessed);   // no scan was preprocessed: every tensor came from storage
        Assert.Equal(8, report.Tensors.CacheHits);
        Assert.Equal(RetrainingDecision.Promoted, report.Decision);
        var cache = new TensorCache(temp.Path("work/.tensor-cache"), preprocessing);
        foreach (var (sha256, npy) in uploaded)
            Assert.Equal(npy, await File.ReadAllBytesAsync(cache.EntryPath(sha256)));
    }

    /// <summary>
    /// The seed's preprocessing (128×128×64) at the unit level, with a fake tensor: the ingest step's tensor
    /// (<see cref="TensorNames"/>) is taken as the cache entry and no preprocessing happens; a blob of the wrong
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
            await tensors.GetBlobClient(TensorNames.For(shaA, new PreprocessingOptions())).UploadAsync(BinaryData.FromBytes(npy.ToArray()));
        }
        using (var npy = new MemoryStream())
        {
            NpyFile.Write(npy, new Float32Tensor(new float[8], [2, 2, 2]));
            await tensors.GetBlobClient(TensorNames.For(shaB, new PreprocessingOptions())).UploadAsync(BinaryData.FromBytes(npy.ToArray()));
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
