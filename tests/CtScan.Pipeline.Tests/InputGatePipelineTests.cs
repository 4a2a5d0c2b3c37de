using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Scoring;
using CtScan.Tests.Validation;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// The pipeline (ingest → score-requests → score) and <c>ctscan score</c>'s FileScorer over the same hostile corpus:
/// one input gate, so the same status, error code and warnings for every file.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class InputGatePipelineTests(AzuriteFixture azurite)
{
    /// <summary>Runs a file through the pipeline's handlers the way the hosts do and returns the stored result.</summary>
    private static async Task<ScanResult> PipelineResultAsync(PipelineTestContext t, string name, byte[] bytes)
    {
        var ingest = await t.IngestAsync(name, bytes);
        if (ingest.Queued)
        {
            string message = (await t.ReceiveRequestAsync())!;
            await t.Services.Scorer.HandleAsync(message);
        }
        return (await t.ReadResultAsync(ScanNames.ResultBlobName(name)))!;
    }

    [Fact]
    public async Task PipelineAndFileScorer_HostileCorpus_SameStatusCodeAndWarningsForEveryFile()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        string folder = HostileCorpus.Write(t.TempPath("corpus"));
        string model = HostileCorpus.WriteModel(t.TempPath("model"));
        await t.Services.Registry.PublishAsync(model, new PublishOptions { Promote = true, Force = true });
        using var scorer = OnnxScorer.Open(model);
        var fileScorer = new FileScorer(scorer);

        var mismatches = new List<string>();
        var probabilities = new Dictionary<string, double>();
        foreach (var expected in HostileCorpus.Cases)
        {
            string path = Path.Combine(folder, expected.Name);
            var cli = await fileScorer.ScoreAsync(path, expected.Name);
            var pipeline = await PipelineResultAsync(t, expected.Name, File.ReadAllBytes(path));

            string Describe(ScanResult r) => $"{r.Status}/{r.Error?.Code ?? "-"}/{string.Join("+", r.Warnings?.Select(w => w.Code) ?? [])}";
            string want = $"{expected.Status}/{expected.Code ?? "-"}/{expected.Warning}";
            if (Describe(cli) != want || Describe(pipeline) != want)
                mismatches.Add($"{expected.Name}: expected {want}, ctscan score {Describe(cli)}, pipeline {Describe(pipeline)}");
            if (expected.Orientation is not null && pipeline.Input?.Orientation != expected.Orientation)
                mismatches.Add($"{expected.Name}: pipeline orientation {pipeline.Input?.Orientation}, expected {expected.Orientation}");
            if (pipeline.Status == ScanStatus.Scored)
            {
                Assert.Equal(cli.ProbabilityAbnormal!.Value, pipeline.ProbabilityAbnormal!.Value, 1e-6);
                probabilities[expected.Name] = pipeline.ProbabilityAbnormal.Value;
            }
            else
            {
                Assert.Null(pipeline.Label);
                Assert.Contains(expected.Name, pipeline.Error!.Message);
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        // The same physical image in three storage orders is one input to the model.
        Assert.Equal(probabilities["phantom-lps.nii"], probabilities["phantom-ras.nii"], 1e-5);
        Assert.Equal(probabilities["phantom-lps.nii"], probabilities["phantom-permuted.nii"], 1e-5);
    }

    [Fact]
    public async Task HandleAsync_ModelOutputIsNaN_WritesFailedInvalidModelOutputWithoutThrowing()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.Services.Registry.PublishAsync(PipelineTestContext.ModelDirectory("fixture-nan-on-scans46"), new PublishOptions { Promote = true, Force = true });
        var bytes = t.Phantom(PhantomLabel.Normal, seed: 3);
        await t.IngestAsync("broken.nii.gz", bytes);
        string message = (await t.ReceiveRequestAsync())!;

        var outcome = await t.Services.Scorer.HandleAsync(message);

        var result = (await t.ReadResultAsync("broken.nii.gz.json"))!;
        Assert.Equal(ScanStatus.Failed, result.Status);
        Assert.Equal(ScanErrorCodes.InvalidModelOutput, result.Error!.Code);
        Assert.Contains("NaN", result.Error.Message);
        Assert.Null(result.Label);
        Assert.Null(result.ProbabilityAbnormal);
        Assert.Equal("fixture-nan-on-scans46", result.Model!.Version);
        Assert.Equal(ScanStatus.Failed, outcome.Result!.Status);
    }

    [Fact]
    public async Task HandleAsync_ScoredScan_CarriesOrientationAndGateWarningsFromIngest()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelSmall);
        // 12 slices: enough to score (8), fewer than recommended (16).
        var bytes = t.Phantom(PhantomLabel.Abnormal, seed: 4, shape: new VolumeShape(64, 64, 12));
        await t.IngestAsync("short.nii.gz", bytes);

        await t.Services.Scorer.HandleAsync((await t.ReceiveRequestAsync())!);

        var result = (await t.ReadResultAsync("short.nii.gz.json"))!;
        Assert.Equal(ScanStatus.Scored, result.Status);
        Assert.Equal("LPS", result.Input!.Orientation);
        var warning = Assert.Single(result.Warnings!);
        Assert.Equal(ScanWarningCodes.FewSlices, warning.Code);
        Assert.Contains("12 slices", warning.Message);
    }
}
