using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using CtScan.Pipeline;
using CtScan.Tests;

namespace CtScan.Viewer.Tests;

/// <summary>
/// A pipeline on a private Azurite (in memory) holding three results the way the triggers write them (the same
/// ingest, score and explain handlers): an abnormal phantom with its occlusion map and montage linked as
/// <c>explanation: {method, map, montage}</c> by the explain step, a normal phantom without one (its explain request
/// stays queued), and a truncated file, rejected. The viewer runs against it on a free loopback port.
/// </summary>
public sealed class ViewerFixture : IAsyncLifetime
{
    public const string AbnormalScan = "ward-3/abnormal.nii.gz";
    public const string NormalScan = "ward-3/normal.nii.gz";
    public const string BrokenScan = "broken.nii.gz";
    /// <summary>The bundled demo model (models/demo), so the page shows what `ctscan up` shows.</summary>
    public const string ModelVersion = "demo-phantoms-20261129d";

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
        Services = new PipelineServices(PipelineOptions.ForConnectionString(ConnectionString) with { ModelCacheDirectory = TempPath("models"), Explain = true });
        await Services.Storage.EnsureCreatedAsync();
        await Services.Registry.PublishAsync(Fixtures.Path("..", "..", "models", "demo"), new PublishOptions { Promote = true });

        AbnormalBytes = Phantom(PhantomLabel.Abnormal, seed: 3);
        await ScoreAsync(AbnormalScan, AbnormalBytes);
        await ExplainAsync(AbnormalScan);
        await ScoreAsync(NormalScan, Phantom(PhantomLabel.Normal, seed: 4));
        // A gzip stream cut short: the ingest step rejects it (unreadable-input) and writes that result itself.
        await Services.Clients.Scans.UploadBlobAsync(BrokenScan, new BinaryData(AbnormalBytes[..400]));
        await Services.Ingestor.IngestBlobAsync(BrokenScan);

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

    /// <summary>What the explain trigger does with the request scoring queued for <paramref name="scan"/>.</summary>
    private async Task ExplainAsync(string scan)
    {
        var message = (await Services.Clients.ExplainRequests.ReceiveMessageAsync(TimeSpan.FromMinutes(5))).Value;
        var outcome = await Services.Explainer.HandleAsync(message.Body.ToString());
        if (outcome.Explanation is null) throw new InvalidOperationException($"the explain step made no map for {scan}: {outcome.Dropped}");
        await Services.Clients.ExplainRequests.DeleteMessageAsync(message.MessageId, message.PopReceipt);
    }

    private byte[] Phantom(PhantomLabel label, int seed)
    {
        string path = TempPath($"phantom-{seed}.nii.gz");
        ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = new VolumeShape(128, 128, 64), Seed = seed, Label = label });
        return File.ReadAllBytes(path);
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
