using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Phantoms;
using CtScan.Scoring;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// The explain step with a Grad-CAM method: it fetches the checkpoint published with the scoring model into the model
/// cache and hands that folder to the host's <see cref="GradCamOpener"/>; a version published without one is explained
/// by occlusion and the opener is not called. (The real Grad-CAM, in CtScan.Training, runs in ctscan up's test.)
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ExplainMethodTests(AzuriteFixture azurite)
{
    private static readonly VolumeShape ScanShape = new(64, 64, 24);

    private sealed record Opened(string Directory, bool Guided);

    /// <summary>Publishes <paramref name="modelFolder"/>, scores a phantom with it and explains it with a guided-gradcam handler.</summary>
    private static async Task<(ExplainOutcome Outcome, List<Opened> Opened)> ExplainAsync(PipelineTestContext t, string modelFolder)
    {
        await t.Services.Registry.PublishAsync(modelFolder, new PublishOptions { Promote = true });
        var bytes = t.Phantom(PhantomLabel.Abnormal, seed: 3, shape: ScanShape);
        await t.Services.Clients.Scans.GetBlobClient("a.nii.gz").UploadAsync(new BinaryData(bytes));
        await t.IngestAsync("a.nii.gz", bytes);
        await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);
        string request = (await t.Services.Clients.ExplainRequests.ReceiveMessageAsync()).Value.Body.ToString();

        var opened = new List<Opened>();
        // The seam a TorchSharp host fills with GradCam.Open; here it records the call and makes a real map by occlusion.
        GradCamOpener open = (directory, guided) =>
        {
            opened.Add(new Opened(directory, guided));
            return OcclusionSensitivity.Open(directory);
        };
        var clients = new PipelineClients(t.Options with { ExplainMethod = ExplanationMethods.GuidedGradCam });
        using var handler = new ExplainRequestHandler(clients, t.Services.Registry, t.Services.Inferences, gradCam: open);
        return (await handler.HandleAsync(request), opened);
    }

    [Fact]
    public async Task GuidedGradCam_VersionWithCheckpoint_OpenerGetsTheCachedFolderWithThePublishedWeights()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { Explain = true, ExplainRequestsQueue = $"{o.ScoreRequestsQueue}-explain" });
        try
        {
            byte[] weights = [1, 2, 3, 4, 5];
            string folder = t.ModelWithCheckpoint(PipelineTestContext.ModelSmall, weights, "{}"u8.ToArray());

            var (outcome, opened) = await ExplainAsync(t, folder);

            Assert.Null(outcome.Dropped);
            var call = Assert.Single(opened);
            Assert.True(call.Guided);
            Assert.StartsWith(t.Options.EffectiveModelCacheDirectory, call.Directory);
            Assert.Equal(weights, File.ReadAllBytes(Path.Combine(call.Directory, ModelFolder.CheckpointFolderName, ModelFolder.CheckpointWeightsFileName)));
            Assert.NotNull((await t.ReadResultAsync("a.nii.gz.json"))!.Explanation);
        }
        finally
        {
            await t.Services.Clients.ExplainRequests.DeleteIfExistsAsync();
        }
    }

    [Fact]
    public async Task GuidedGradCam_VersionWithoutCheckpoint_ExplainedByOcclusionWithoutTheOpener()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { Explain = true, ExplainRequestsQueue = $"{o.ScoreRequestsQueue}-explain" });
        try
        {
            var (outcome, opened) = await ExplainAsync(t, PipelineTestContext.ModelDirectory(PipelineTestContext.ModelSmall));

            Assert.Null(outcome.Dropped);
            Assert.Empty(opened);
            Assert.Equal(ExplanationMethods.Occlusion, outcome.Explanation!.Method);
            Assert.Equal(ExplanationMethods.Occlusion, (await t.ReadResultAsync("a.nii.gz.json"))!.Explanation!.Method);
        }
        finally
        {
            await t.Services.Clients.ExplainRequests.DeleteIfExistsAsync();
        }
    }
}
