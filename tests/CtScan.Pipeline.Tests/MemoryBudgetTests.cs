using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Scoring;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// What the scoring host's memory budget rests on (docs/operations.md): one inference at a time per instance, with
/// ONNX Runtime's arena and memory pattern off, configurable from app settings.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MemoryBudgetTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task HandleAsync_TheOnlyInferenceSlotTaken_WaitsForIt_ThenScores()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelHigh);
        await t.IngestAsync("queued.nii.gz", t.Phantom(PhantomLabel.Normal, seed: 20));
        string message = (await t.ReceiveRequestAsync())!;
        using (await t.Services.Models.AcquireAsync()) { }      // the model loaded and probed first: only the gate is timed
        var slot = await t.Services.Inferences.EnterAsync();   // another message's inference, as far as the handler can tell

        var handling = Task.Run(() => t.Services.Scorer.HandleAsync(message));
        var finishedEarly = await Task.WhenAny(handling, Task.Delay(TimeSpan.FromSeconds(1.5))) == handling;
        bool resultEarly = await t.Services.Clients.Results.GetBlobClient("queued.nii.gz.json").ExistsAsync();
        slot.Dispose();
        var outcome = await handling.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.False(finishedEarly, "the handler scored while the only inference slot was taken");
        Assert.False(resultEarly);
        Assert.Equal(ScanStatus.Scored, outcome.Result!.Status);
        // The slot was held 1.5 s from the handler's start; its storage calls before the gate take part of that on a busy machine.
        Assert.True(outcome.Result.TimingsMs["inferenceWait"] >= 500, $"inferenceWait {outcome.Result.TimingsMs["inferenceWait"]} ms");
        Assert.Equal(1, t.Services.Inferences.PeakRunning);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task HandleAsync_SixRequestsAtOnce_NeverMoreInferencesThanTheLimit(int limit)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { MaxConcurrentInferences = limit });
        await t.PublishAsync(PipelineTestContext.ModelHigh);
        var messages = new List<string>();
        for (int n = 0; n < 6; n++)
        {
            await t.IngestAsync($"burst/{n}.nii.gz", t.Phantom(PhantomLabel.Normal, seed: 20 + n));
            messages.Add((await t.ReceiveRequestAsync())!);
        }

        // As the queue trigger hands them over: all at once (host.json batchSize + newBatchThreshold = 6).
        var outcomes = await Task.WhenAll(messages.Select(m => Task.Run(() => t.Services.Scorer.HandleAsync(m))));

        Assert.All(outcomes, o => Assert.Equal(ScanStatus.Scored, o.Result!.Status));
        Assert.Equal(limit, t.Services.Inferences.Slots);
        Assert.InRange(t.Services.Inferences.PeakRunning, 1, limit);
    }

    [Fact]
    public void Defaults_OneInferenceAtATime_LeanOnnxRuntime_OneThreadPerCore()
    {
        var options = PipelineOptions.FromSettings(key => key == "AzureWebJobsStorage" ? "UseDevelopmentStorage=true" : null);

        Assert.Equal(1, options.MaxConcurrentInferences);
        Assert.Equal(1, options.MaxInferenceBatch);
        Assert.Equal(Environment.ProcessorCount, options.OnnxScorerOptions.IntraOpThreads);
        Assert.True(options.OnnxScorerOptions.EnableCpuMemArena); // one inference's activations kept for the next
        Assert.False(options.OnnxScorerOptions.EnableMemoryPattern);
        Assert.False(options.OnnxScorerOptions.AllowSpinning);
    }

    [Fact]
    public void FromSettings_ConcurrencyAndThreads_Overridden()
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["CtScan__MaxConcurrentInferences"] = "2",
            ["CtScan__IntraOpThreads"] = "4",
            ["CtScan__MaxInferenceBatch"] = "3",
            ["CtScan__OnnxSpinning"] = "true",
            ["CtScan__OnnxArena"] = "false",
        };

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));

        Assert.Equal(2, options.MaxConcurrentInferences);
        Assert.Equal(3, options.MaxInferenceBatch);
        Assert.True(options.OnnxScorerOptions.AllowSpinning);
        Assert.Equal(4, options.OnnxScorerOptions.IntraOpThreads);
        Assert.False(options.OnnxScorerOptions.EnableCpuMemArena);
        Assert.False(options.OnnxScorerOptions.EnableMemoryPattern);
    }

    [Fact]
    public void FromSettings_ZeroConcurrentInferences_NamesTheSetting()
    {
        var error = Assert.Throws<PipelineConfigurationException>(() => PipelineOptions.FromSettings(
            key => key switch { "AzureWebJobsStorage" => "UseDevelopmentStorage=true", "CtScan__MaxConcurrentInferences" => "0", _ => null }));

        Assert.Equal("MaxConcurrentInferences must lie in [1, 64]; got 0", error.Message);
    }

    [Theory]
    [InlineData("CtScan__MaxInferenceBatch", "0", "MaxInferenceBatch must lie in [1, 64]; got 0")]
    [InlineData("CtScan__MaxInferenceBatch", "65", "MaxInferenceBatch must lie in [1, 64]; got 65")]
    [InlineData("CtScan__OnnxSpinning", "sometimes", "CtScan__OnnxSpinning: expected true or false; got 'sometimes'")]
    [InlineData("CtScan__OnnxArena", "1", "CtScan__OnnxArena: expected true or false; got '1'")]
    public void FromSettings_BadBatchSpinningOrArena_NamesTheSetting(string key, string value, string message)
    {
        var error = Assert.Throws<PipelineConfigurationException>(() => PipelineOptions.FromSettings(
            name => name == "AzureWebJobsStorage" ? "UseDevelopmentStorage=true" : name == key ? value : null));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void LeanScorer_ScoresExactlyLikeTheDefaultOne()
    {
        string model = PipelineTestContext.ModelDirectory(PipelineTestContext.ModelHigh);
        var manifest = PipelineTestContext.Manifest(PipelineTestContext.ModelHigh);
        var random = new Random(7);
        var scan = new float[manifest.InputVolume.VoxelCount];
        for (int n = 0; n < scan.Length; n++) scan[n] = random.NextSingle();

        using var standard = OnnxScorer.Open(model, new OnnxScorerOptions { IntraOpThreads = 1 });
        using var lean = OnnxScorer.Open(model, OnnxScorerOptions.Lean(1));

        Assert.Equal(standard.Score(scan).ProbabilityAbnormal, lean.Score(scan).ProbabilityAbnormal);
        Assert.Equal(standard.Score(scan).ProbabilityAbnormal, lean.Score(scan).ProbabilityAbnormal);   // and again, with any arena/pattern state
    }
}
