using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Scoring;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// Safe model rollout on real Azurite and ONNX Runtime: publish, promote and rollback refuse a model that fails the
/// probe (the pointer stays), and a broken model put in place behind the registry's back is downloaded once, after
/// which the last version that served answers with <c>model.fallback: true</c> until a fixed version is promoted.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ModelRolloutTests(AzuriteFixture azurite)
{
    private const string Good = PipelineTestContext.ModelSmall;       // 46×46×46, answers probabilities
    private const string NanOnZero = "fixture-broken46";               // 4·sqrt(mean − 0.5): NaN for the probe's zero scan
    private static readonly byte[] Garbage = [.. Enumerable.Range(0, 512).Select(i => (byte)(i * 37 + 11))];

    public static TheoryData<string> BrokenKinds => ["garbage", "nan"];

    /// <summary>A broken model's bytes: not ONNX at all, or a valid graph that answers NaN for a zero scan.</summary>
    private static byte[] BrokenBytes(string kind) => kind == "garbage"
        ? Garbage
        : File.ReadAllBytes(Path.Combine(PipelineTestContext.ModelDirectory(NanOnZero), "model.onnx"));

    /// <summary>A model folder holding <paramref name="model"/> with Good's manifest (its hash corrected): only the probe can tell.</summary>
    private static string Folder(PipelineTestContext t, string version, byte[] model)
    {
        string folder = t.TempPath(version + "-" + Guid.NewGuid().ToString("N")[..6]);
        ModelFolder.Write(folder, model, PipelineTestContext.Manifest(Good) with { Version = version, Sha256 = Sha256Hex.Of(model) });
        return folder;
    }

    /// <summary>Uploads a version straight into the models container, as someone bypassing the CLI would.</summary>
    private static async Task<string> PlantAsync(PipelineTestContext t, string version, byte[] model)
    {
        var manifest = PipelineTestContext.Manifest(Good) with { Version = version, Sha256 = Sha256Hex.Of(model) };
        var models = t.Services.Clients.Models;
        await models.GetBlobClient($"{version}/model.onnx").UploadAsync(BinaryData.FromBytes(model), overwrite: true);
        await models.GetBlobClient($"{version}/manifest.json").UploadAsync(BinaryData.FromString(ContractsJson.Serialize(manifest)), overwrite: true);
        return manifest.Sha256;
    }

    /// <summary>Overwrites current.json unconditionally (no probe, no ETag): the version first, then the history.</summary>
    private static async Task PointAsync(PipelineTestContext t, (string Version, string Sha256) current, params (string Version, string Sha256)[] previous)
    {
        var pointer = new ModelPointer
        {
            Version = current.Version,
            Sha256 = current.Sha256,
            PromotedAt = DateTimeOffset.UtcNow,
            Reason = "written by hand",
            Previous = [.. previous.Select(p => new ModelPointerEntry(p.Version, p.Sha256, DateTimeOffset.UtcNow))],
        };
        await t.Services.Clients.Models.GetBlobClient(ModelRegistryClient.PointerBlobName)
            .UploadAsync(BinaryData.FromString(JsonSerializer.Serialize(pointer, PipelineJsonContext.Default.ModelPointer)), overwrite: true);
    }

    private static string Sha(string fixture) => PipelineTestContext.Manifest(fixture).Sha256;

    [Theory]
    [MemberData(nameof(BrokenKinds))]
    public async Task PublishAsync_BrokenModel_IsRefusedBeforeUpload_PointerStays(string kind)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(Good);
        string folder = Folder(t, "candidate", BrokenBytes(kind));

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => t.Services.Registry.PublishAsync(folder, new PublishOptions { Force = true }));

        Assert.StartsWith("refusing to publish candidate: ", error.Message);
        Assert.Contains(kind == "garbage" ? "ONNX Runtime cannot load" : "for a zero scan of 46×46×46", error.Message);
        Assert.Equal(Good, (await t.Services.Registry.GetCurrentAsync())!.Version);
        Assert.Equal([Good], (await t.Services.Registry.ListAsync()).Select(m => m.Version));
    }

    [Theory]
    [MemberData(nameof(BrokenKinds))]
    public async Task PromoteAndRollback_BrokenStoredModel_AreRefused_PointerStays(string kind)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(Good);
        string broken = await PlantAsync(t, "planted", BrokenBytes(kind));

        var promote = await Assert.ThrowsAsync<ModelLoadException>(() => t.Services.Registry.PromoteAsync("planted"));
        Assert.StartsWith("refusing to promote planted: ", promote.Message);
        var unchanged = (await t.Services.Registry.GetCurrentAsync())!;
        Assert.Equal((Good, Sha(Good)), (unchanged.Version, unchanged.Sha256));
        Assert.Empty(unchanged.Previous);

        // A history that names the broken version: rolling back to it is refused too.
        await PointAsync(t, (Good, Sha(Good)), ("planted", broken));
        var rollback = await Assert.ThrowsAsync<ModelLoadException>(() => t.Services.Registry.RollbackAsync());
        Assert.StartsWith("refusing to roll back to planted: ", rollback.Message);
        Assert.Equal(Good, (await t.Services.Registry.GetCurrentAsync())!.Version);
    }

    [Theory]
    [MemberData(nameof(BrokenKinds))]
    public async Task Scoring_BrokenCurrentBehindTheRegistrysBack_FallsBackToLastThatServed_DownloadsItOnce_RecoversOnFix(string kind)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { ModelRefreshInterval = TimeSpan.Zero });
        await using var pipeline = new CountingPipeline(t, azurite);
        await t.PublishAsync(Good);
        var first = await pipeline.ScoreAsync("before.nii.gz", seed: 1);
        Assert.Equal((ScanStatus.Scored, Good, (bool?)null), (first.Status, first.Model!.Version, first.Model.Fallback));

        string brokenSha = await PlantAsync(t, "rollout-2", BrokenBytes(kind));
        await PointAsync(t, ("rollout-2", brokenSha), (Good, Sha(Good)));
        var results = new List<ScanResult>();
        for (int i = 0; i < 4; i++) results.Add(await pipeline.ScoreAsync($"during-{i}.nii.gz", seed: 2 + i));

        Assert.All(results, r =>
        {
            Assert.Equal(ScanStatus.Scored, r.Status);
            Assert.Equal((Good, Sha(Good)), (r.Model!.Version, r.Model.Sha256));
            Assert.True(r.Model.Fallback);
            Assert.Equal("rollout-2", r.Model.FallbackFrom);
            Assert.Contains("current model rollout-2 cannot serve", r.Model.FallbackReason);
            Assert.Contains($"{Good}, the last version that served in this process, answered instead", r.Model.FallbackReason);
        });
        Assert.Equal(1, pipeline.Downloads("rollout-2"));
        Assert.Equal(brokenSha, Assert.Single(pipeline.Models.BrokenVersions).Key.Sha256);

        // Fixed and promoted again under the same version with other bytes: tried afresh, and it serves.
        string fixedSha = await PlantAsync(t, "rollout-2", File.ReadAllBytes(Path.Combine(PipelineTestContext.ModelDirectory(Good), "model.onnx")));
        await PointAsync(t, ("rollout-2", fixedSha), (Good, Sha(Good)));
        var after = await pipeline.ScoreAsync("after.nii.gz", seed: 9);

        Assert.Equal((ScanStatus.Scored, "rollout-2", (bool?)null, (string?)null), (after.Status, after.Model!.Version, after.Model.Fallback, after.Model.FallbackReason));
        Assert.Equal(2, pipeline.Downloads("rollout-2"));
    }

    [Fact]
    public async Task Scoring_BrokenCurrentInAFreshProcess_FallsBackToNewestEarlierVersionThatLoads()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(Good);
        string nan = await PlantAsync(t, "nan", BrokenBytes("nan"));
        string garbage = await PlantAsync(t, "garbage", Garbage);
        // Newest first: garbage is current, nan before it, Good before that.
        await PointAsync(t, ("garbage", garbage), ("nan", nan), (Good, Sha(Good)));
        await using var pipeline = new CountingPipeline(t, azurite);

        var results = new List<ScanResult>();
        for (int i = 0; i < 3; i++) results.Add(await pipeline.ScoreAsync($"fresh-{i}.nii.gz", seed: 20 + i));

        Assert.All(results, r => Assert.Equal((ScanStatus.Scored, Good, (bool?)true, "garbage"), (r.Status, r.Model!.Version, r.Model.Fallback, r.Model.FallbackFrom)));
        Assert.Contains($"{Good}, the newest earlier version in current.json's history that loads, answered instead", results[0].Model!.FallbackReason);
        Assert.Equal((1, 1), (pipeline.Downloads("garbage"), pipeline.Downloads("nan")));
        Assert.Equal(["garbage", "nan"], pipeline.Models.BrokenVersions.Keys.Select(k => k.Version).Order());
    }

    [Fact]
    public async Task Scoring_NoVersionEverServed_ThrowsForRetry_AndDownloadsTheBrokenModelOnce()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { ModelRefreshInterval = TimeSpan.Zero });
        await using var pipeline = new CountingPipeline(t, azurite);
        string garbage = await PlantAsync(t, "only", Garbage);
        await PointAsync(t, ("only", garbage));

        for (int i = 0; i < 3; i++)
        {
            var error = await Assert.ThrowsAsync<ModelLoadException>(() => pipeline.Models.AcquireAsync());
            Assert.Contains("current model only cannot serve", error.Message);
            Assert.Contains("current.json records no earlier version", error.Message);
        }
        Assert.Equal(1, pipeline.Downloads("only"));
    }

    [Fact]
    public async Task AcquireAsync_ProbeOfANewVersion_TakesAnInferenceSlot()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(Good);
        var slot = await t.Services.Inferences.EnterAsync(); // the instance's only slot, busy with another scan

        var acquiring = t.Services.Models.AcquireAsync();
        bool loadedWhileBusy = await Task.WhenAny(acquiring, Task.Delay(TimeSpan.FromSeconds(2))) == acquiring;
        slot.Dispose();
        using var lease = await acquiring.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.False(loadedWhileBusy, "the probe ran an inference while the only slot was taken");
        Assert.Equal((Good, 1), (lease.Manifest.Version, t.Services.Inferences.PeakRunning));
    }

    /// <summary>
    /// A provider, ingestor and score handler over a models container whose HTTP requests are counted (a pipeline
    /// policy on the real client), so a test can see how often each version's model.onnx was downloaded.
    /// </summary>
    private sealed class CountingPipeline : IAsyncDisposable
    {
        private readonly PipelineTestContext _t;
        private readonly RequestCounter _counter = new();
        private readonly ScanIngestor _ingestor;
        private readonly ScoreRequestHandler _handler;

        public CountingPipeline(PipelineTestContext t, AzuriteFixture azurite)
        {
            _t = t;
            var options = new BlobClientOptions();
            options.AddPolicy(_counter, HttpPipelinePosition.PerCall);
            var models = new BlobContainerClient(azurite.ConnectionString, t.Options.ModelsContainer, options);
            Models = new ModelProvider(new ModelRegistryClient(models), t.Options);
            _ingestor = new ScanIngestor(t.Services.Clients, Models, t.Services.Results);
            _handler = new ScoreRequestHandler(t.Services.Clients, Models, _ingestor, t.Services.Results);
        }

        public ModelProvider Models { get; }

        public int Downloads(string version) => _counter.Gets($"/{_t.Options.ModelsContainer}/{version}/model.onnx");

        /// <summary>Ingests a phantom and handles its score request; the stored result, checked against the schema.</summary>
        public async Task<ScanResult> ScoreAsync(string name, int seed)
        {
            await _ingestor.IngestAsync(name, new MemoryStream(_t.Phantom(PhantomLabel.Abnormal, seed)), CancellationToken.None);
            var outcome = await _handler.HandleAsync((await _t.ReceiveRequestAsync())!);
            Assert.NotNull(outcome.Result);
            return (await _t.ReadResultAsync(name + ".json"))!;
        }

        public ValueTask DisposeAsync()
        {
            Models.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class RequestCounter : HttpPipelineSynchronousPolicy
    {
        private readonly Dictionary<string, int> _gets = new(StringComparer.Ordinal);

        /// <summary>GET requests whose path ends with <paramref name="suffix"/> (Azurite's paths start with the account name).</summary>
        public int Gets(string suffix)
        {
            lock (_gets) return _gets.Where(p => p.Key.EndsWith(suffix, StringComparison.Ordinal)).Sum(p => p.Value);
        }

        public override void OnSendingRequest(HttpMessage message)
        {
            if (message.Request.Method != RequestMethod.Get) return;
            lock (_gets)
            {
                string path = Uri.UnescapeDataString(message.Request.Uri.Path);
                _gets[path] = _gets.GetValueOrDefault(path) + 1;
            }
        }
    }
}
