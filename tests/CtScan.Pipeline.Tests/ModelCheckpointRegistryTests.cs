using Azure.Storage.Blobs.Models;
using CtScan.Scoring;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// A model folder's TorchSharp checkpoint travels with it through the registry (for the explain step's Grad-CAM):
/// published as <c>&lt;version&gt;/checkpoint/…</c> with each file's SHA-256, downloaded on request and checked.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ModelCheckpointRegistryTests(AzuriteFixture azurite)
{
    private const string Low = PipelineTestContext.ModelLow, High = PipelineTestContext.ModelHigh;

    /// <summary>A copy of the <paramref name="model"/> fixture with a checkpoint/ of known bytes.</summary>
    private static (string Folder, byte[] Weights, byte[] Options) WithCheckpoint(PipelineTestContext t, string model)
    {
        var weights = new byte[70_000];
        new Random(7).NextBytes(weights);
        var options = "{\"width\":46}"u8.ToArray();
        return (t.ModelWithCheckpoint(model, weights, options), weights, options);
    }

    [Fact]
    public async Task Publish_FolderWithCheckpoint_DownloadCheckpointGivesTheSameBytes()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        var (folder, weights, options) = WithCheckpoint(t, Low);
        await t.Services.Registry.PublishAsync(folder, new PublishOptions { Promote = true });
        string cached = t.TempPath("cache");
        Directory.CreateDirectory(cached);

        Assert.True(await t.Services.Registry.DownloadCheckpointAsync(Low, cached));

        string checkpoint = Path.Combine(cached, ModelFolder.CheckpointFolderName);
        Assert.Equal(checkpoint, ModelFolder.FindCheckpoint(cached));
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(checkpoint, ModelFolder.CheckpointWeightsFileName)));
        Assert.Equal(options, File.ReadAllBytes(Path.Combine(checkpoint, ModelFolder.CheckpointOptionsFileName)));
        Assert.Equal([ModelFolder.CheckpointFolderName], Directory.GetDirectories(cached).Select(Path.GetFileName)); // no staging folder left
    }

    [Fact]
    public async Task DownloadCheckpoint_VersionPublishedWithout_ReturnsFalseAndWritesNothing()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(High); // the fixture folder has no checkpoint
        string cached = t.TempPath("cache");
        Directory.CreateDirectory(cached);

        Assert.False(await t.Services.Registry.DownloadCheckpointAsync(High, cached));

        Assert.Empty(Directory.GetFileSystemEntries(cached));
        Assert.Empty(t.Services.Clients.Models.GetBlobs(BlobTraits.None, BlobStates.None, $"{High}/{ModelFolder.CheckpointFolderName}/", CancellationToken.None));
    }

    [Fact]
    public async Task DownloadCheckpoint_StoredWeightsReplaced_RefusedNamingTheBlob()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        var (folder, _, _) = WithCheckpoint(t, Low);
        await t.Services.Registry.PublishAsync(folder, new PublishOptions { Promote = true });
        string blobName = $"{Low}/{ModelFolder.CheckpointFolderName}/{ModelFolder.CheckpointWeightsFileName}";
        var blob = t.Services.Clients.Models.GetBlobClient(blobName);
        var published = (await blob.GetPropertiesAsync()).Value.Metadata;
        await blob.UploadAsync(BinaryData.FromString("other weights"), new BlobUploadOptions { Metadata = published }); // same recorded hash, other bytes
        string cached = t.TempPath("cache");
        Directory.CreateDirectory(cached);

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => t.Services.Registry.DownloadCheckpointAsync(Low, cached));

        Assert.Contains(blobName, error.Message);
        Assert.Contains(published["sha256"], error.Message);
        Assert.Null(ModelFolder.FindCheckpoint(cached));
        Assert.Empty(Directory.GetFileSystemEntries(cached));
    }
}
