using CtScan.Contracts;
using CtScan.Phantoms;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// Score requests handed over together (as the queue trigger does) are scored in one inference when
/// <see cref="PipelineOptions.MaxInferenceBatch"/> allows it, through real Azurite and ONNX Runtime: each result is the
/// scan's own, the same as scored alone.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class BatchedScoringTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task HandleAsync_FourRequestsWaitingTogether_OneBatchSameProbabilitiesAsAlone()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { MaxInferenceBatch = 4 });
        await t.PublishAsync(PipelineTestContext.ModelSmall);
        var messages = new List<string>();
        for (int n = 0; n < 4; n++)
        {
            await t.IngestAsync($"together/{n}.nii.gz", t.Phantom(n % 2 == 0 ? PhantomLabel.Normal : PhantomLabel.Abnormal, seed: 40 + n));
            messages.Add((await t.ReceiveRequestAsync())!);
        }
        using (await t.Services.Models.AcquireAsync()) { } // loaded and probed first

        // While another inference runs (the gate held), all four arrive and wait; then one batch takes them all.
        Task<ScoreOutcome>[] handling;
        using (await t.Services.Inferences.EnterAsync())
        {
            handling = [.. messages.Select(m => Task.Run(() => t.Services.Scorer.HandleAsync(m)))];
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (t.Services.Batcher.Waiting < 4)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), $"{t.Services.Batcher.Waiting} of 4 requests reached the batcher");
                await Task.Delay(10);
            }
        }
        var together = await Task.WhenAll(handling);
        // The same requests again, one at a time: each its own inference.
        var alone = new List<ScoreOutcome>();
        foreach (var message in messages) alone.Add(await t.Services.Scorer.HandleAsync(message));

        Assert.Equal(1 + 4, t.Services.Batcher.Batches);
        Assert.Equal(4, t.Services.Batcher.LargestBatch);
        for (int n = 0; n < 4; n++)
        {
            var batched = together[n].Result!;
            var single = alone[n].Result!;
            Assert.Equal($"together/{n}.nii.gz", batched.Scan);
            Assert.Equal(ScanStatus.Scored, batched.Status);
            Assert.Equal(4, batched.TimingsMs["inferenceBatch"]);
            Assert.Equal(1, single.TimingsMs["inferenceBatch"]);
            Assert.Equal(single.ProbabilityAbnormal!.Value, batched.ProbabilityAbnormal!.Value, 1e-5);
            Assert.Equal(single.Label, batched.Label);
        }
        // Answers further apart than the tolerance, so a mix-up within the batch could not pass.
        double[] p = [.. alone.Select(o => o.Result!.ProbabilityAbnormal!.Value)];
        for (int i = 0; i < p.Length; i++)
            for (int j = i + 1; j < p.Length; j++)
                Assert.True(Math.Abs(p[i] - p[j]) > 2e-5, $"scans {i} and {j} score alike: {string.Join(", ", p)}");
    }
}
