using System.Text.Json.Nodes;
using CtScan.LocalHost.Azurite;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Pipeline;
using CtScan.Tests;

namespace CtScan.Viewer.Tests;

/// <summary>
/// A pipeline on a private Azurite (in memory) holding three results the way the triggers write them (the same
/// ingest and score handlers): an abnormal phantom with a saliency map and montage linked as
/// <c>explanation: {method, map, montage}</c>, a normal phantom without one, and a truncated file, rejected. The viewer
/// runs against it on a free loopback port.
/// </summary>
public sealed class ViewerFixture : IAsyncLifetime
{
    public const string AbnormalScan = "ward-3/abnormal.nii.gz";
    public const string NormalScan = "ward-3/normal.nii.gz";
    public const string BrokenScan = "broken.nii.gz";
    public const string ModelVersion = "fixture-auc080";

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-viewer-test-");
    private AzuriteServer? _azurite;

    public PipelineServices Services { get; private set; } = null!;

    public ViewerServer Viewer { get; private set; } = null!;

    public string ConnectionString => _azurite!.ConnectionString;

    public Uri Page => new(Viewer.PageUrl);

    public byte[] AbnormalBytes { get; private set; } = [];

    public string TempPath(string name) => Path.Combine(_temp.FullName, name);

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteServer.StartAsync();
        Services = new PipelineServices(PipelineOptions.ForConnectionString(ConnectionString) with { ModelCacheDirectory = TempPath("models") });
        await Services.Storage.EnsureCreatedAsync();
        await Services.Registry.PublishAsync(Fixtures.Path("models", ModelVersion), new PublishOptions { Promote = true });

        (AbnormalBytes, var abnormal) = Phantom(PhantomLabel.Abnormal, seed: 3);
        await ScoreAsync(AbnormalScan, AbnormalBytes);
        await ScoreAsync(NormalScan, Phantom(PhantomLabel.Normal, seed: 4).Bytes);
        // A gzip stream cut short: the ingest step rejects it (unreadable-input) and writes that result itself.
        await Services.Clients.Scans.UploadBlobAsync(BrokenScan, new BinaryData(AbnormalBytes[..400]));
        await Services.Ingestor.IngestBlobAsync(BrokenScan);
        await LinkExplanationAsync(AbnormalScan, AbnormalBytes, abnormal);

        Viewer = await ViewerServer.StartAsync(ViewerOptions.Loopback(Services.Options, port: 0));
    }

    /// <summary>Upload, then what the blob trigger and the queue trigger do with it.</summary>
    private async Task ScoreAsync(string name, byte[] bytes)
    {
        await Services.Clients.Scans.UploadBlobAsync(name, new BinaryData(bytes));
        await Services.Ingestor.IngestBlobAsync(name);
        var message = (await Services.Clients.ScoreRequests.ReceiveMessageAsync(TimeSpan.FromMinutes(5))).Value;
        await Services.Scorer.HandleAsync(message.Body.ToString());
    }

    /// <summary>
    /// Stands in for the explanation step (issue 12, part 1) until it writes maps: a map on the scan's own grid and
    /// affine that peaks on the phantom's ground-glass opacities, and a montage PNG, linked from the result under the
    /// contract's field names.
    /// </summary>
    private async Task LinkExplanationAsync(string scan, byte[] bytes, ChestPhantom phantom)
    {
        string mapName = $"{scan}.saliency.nii.gz", montageName = $"{scan}.saliency.png";
        string scanPath = TempPath("scan.nii.gz"), mapPath = TempPath("map.nii.gz");
        await File.WriteAllBytesAsync(scanPath, bytes);
        WriteOpacityMap(mapPath, phantom);
        await Services.Clients.Results.UploadBlobAsync(mapName, new BinaryData(await File.ReadAllBytesAsync(mapPath)));
        await Services.Clients.Results.UploadBlobAsync(montageName, new BinaryData(MontagePng(scanPath)));

        var blob = Services.Clients.Results.GetBlobClient($"{scan}.json");
        var result = JsonNode.Parse((await blob.DownloadContentAsync()).Value.Content.ToString())!.AsObject();
        result["explanation"] = new JsonObject { ["method"] = "occlusion", ["map"] = mapName, ["montage"] = montageName };
        await blob.UploadAsync(BinaryData.FromString(result.ToJsonString()), overwrite: true);
    }

    /// <summary>Gaussian blobs on the opacities, float32, with the phantom's voxel size and affine (as ChestPhantomFile writes it).</summary>
    private static void WriteOpacityMap(string path, ChestPhantom phantom)
    {
        var shape = phantom.Shape;
        var map = new float[shape.VoxelCount];
        foreach (var o in phantom.Opacities)
            for (int k = 0; k < shape.Depth; k++)
                for (int j = 0; j < shape.Height; j++)
                    for (int i = 0; i < shape.Width; i++)
                    {
                        double d2 = ((i - o.CenterI) * (i - o.CenterI) + (j - o.CenterJ) * (j - o.CenterJ)) / (o.Radius * o.Radius)
                            + (k - o.CenterK) * (k - o.CenterK) / Math.Max(o.SliceRadius * o.SliceRadius, 1);
                        int v = (k * shape.Height + j) * shape.Width + i;
                        map[v] = Math.Max(map[v], (float)Math.Exp(-d2));
                    }
        var (dx, dy, dz) = ChestPhantomFile.VoxelSizeMm;
        double[] sform = [-dx, 0, 0, dx * (shape.Width - 1) / 2, 0, -dy, 0, dy * (shape.Height - 1) / 2, 0, 0, dz, -dz * (shape.Depth - 1) / 2];
        NiftiWriter.Write<float>(path, map, new NiftiWriteOptions
        {
            Shape = [shape.Width, shape.Height, shape.Depth],
            VoxelSize = [dx, dy, dz],
            QformCode = 1,
            Quaternion = (0, 0, 1),
            QOffset = (sform[3], sform[7], sform[11]),
            SformCode = 1,
            Sform = sform,
            Descrip = "test stand-in saliency map",
        });
    }

    private static byte[] MontagePng(string scanPath)
    {
        using var image = NiftiImage.Open(scanPath);
        var tensor = new Preprocessing.ScanPreprocessor().Process(image.OpenVolume()).Tensor;
        var (pixels, width, height) = Imaging.SliceMontage.Render(tensor.Data, tensor.ToVolumeShape(), new Imaging.SliceMontageOptions { Rows = 2, Columns = 8, SliceStep = 4 });
        using var png = new MemoryStream();
        Imaging.PngEncoder.WriteGrayscale(png, pixels, width, height);
        return png.ToArray();
    }

    private (byte[] Bytes, ChestPhantom Phantom) Phantom(PhantomLabel label, int seed)
    {
        string path = TempPath($"phantom-{seed}.nii.gz");
        var phantom = ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 16), Seed = seed, Label = label });
        return (File.ReadAllBytes(path), phantom);
    }

    public async Task DisposeAsync()
    {
        if (Viewer is not null) await Viewer.DisposeAsync();
        Services?.Dispose();
        if (_azurite is not null) await _azurite.DisposeAsync();
        try { _temp.Delete(recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class ViewerCollection : ICollectionFixture<ViewerFixture>
{
    public const string Name = "Viewer";
}
