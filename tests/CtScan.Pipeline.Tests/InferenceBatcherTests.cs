using CtScan.Pipeline;
using CtScan.Scoring;
using CtScan.Tests;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// <see cref="InferenceBatcher"/> on real ONNX Runtime sessions: requests that wait together run as one batch, each
/// gets its own answer (the same as scored alone), and a bad scan fails alone.
/// </summary>
public sealed class InferenceBatcherTests
{
    private static readonly string SmallModel = Fixtures.Path("models", "fixture-small46-auc075");

    /// <summary>Answers 4·sqrt(0.05 − mean(scan)) per scan: a probability for a mean below 0.05, NaN above.</summary>
    private static readonly string NanOnScansModel = Fixtures.Path("models", "fixture-nan-on-scans46");

    private static float[] Noise(OnnxScorer scorer, int seed, float scale)
    {
        var random = new Random(seed);
        var scan = new float[scorer.VoxelsPerScan];
        for (int i = 0; i < scan.Length; i++) scan[i] = (float)random.NextDouble() * scale;
        return scan;
    }

    private static float[] Constant(OnnxScorer scorer, float value)
    {
        var scan = new float[scorer.VoxelsPerScan];
        Array.Fill(scan, value);
        return scan;
    }

    /// <summary>Starts one request per scan while the gate is held, so they all wait together, then opens the gate.</summary>
    private static async Task<Task<BatchedScore>[]> ArriveTogetherAsync(InferenceBatcher batcher, InferenceGate gate, OnnxScorer scorer, IReadOnlyList<float[]> scans)
    {
        var requests = new Task<BatchedScore>[scans.Count];
        using (await gate.EnterAsync())
        {
            for (int i = 0; i < scans.Count; i++) requests[i] = batcher.ScoreAsync(scorer, scans[i]);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (batcher.Waiting < scans.Count)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"{batcher.Waiting} of {scans.Count} requests waiting");
                await Task.Delay(5);
            }
        }
        await Task.WhenAll(requests.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
        return requests;
    }

    [Fact]
    public async Task ScoreAsync_RequestsWaitingTogether_OneBatchEachScanItsOwnProbability()
    {
        using var scorer = OnnxScorer.Open(SmallModel, OnnxScorerOptions.Lean(2));
        var gate = new InferenceGate(1);
        var batcher = new InferenceBatcher(gate, maxBatch: 4);
        float[][] scans = [.. Enumerable.Range(0, 4).Select(i => Noise(scorer, seed: i, scale: 0.25f * (i + 1)))];
        double[] alone = [.. scans.Select(scan => scorer.Score(scan).ProbabilityAbnormal)];
        // Different scans, answers further apart than the tolerance: a batch that mixed them up could not pass.
        for (int i = 0; i < alone.Length; i++)
            for (int j = i + 1; j < alone.Length; j++)
                Assert.True(Math.Abs(alone[i] - alone[j]) > 2e-5, $"scans {i} and {j} score alike ({alone[i]}, {alone[j]})");

        var requests = await ArriveTogetherAsync(batcher, gate, scorer, scans);

        Assert.Equal(1, batcher.Batches);
        Assert.Equal(4, batcher.LargestBatch);
        for (int i = 0; i < scans.Length; i++)
        {
            var answer = await requests[i];
            Assert.Null(answer.Error);
            Assert.Equal(4, answer.BatchSize);
            Assert.Equal(alone[i], answer.Score.ProbabilityAbnormal, 1e-5);
            Assert.Equal(scorer.Score(scans[i]).Label, answer.Score.Label);
        }
    }

    [Fact]
    public async Task ScoreAsync_MoreWaitingThanMaxBatch_SplitsIntoBatchesOfAtMostMax()
    {
        using var scorer = OnnxScorer.Open(SmallModel, OnnxScorerOptions.Lean(2));
        var gate = new InferenceGate(1);
        var batcher = new InferenceBatcher(gate, maxBatch: 2);
        float[][] scans = [.. Enumerable.Range(0, 5).Select(i => Noise(scorer, seed: 10 + i, scale: 0.2f * (i + 1)))];

        var requests = await ArriveTogetherAsync(batcher, gate, scorer, scans);

        Assert.Equal(5, batcher.Scans);
        Assert.Equal(3, batcher.Batches); // 2 + 2 + 1
        Assert.Equal(2, batcher.LargestBatch);
        for (int i = 0; i < scans.Length; i++)
            Assert.Equal(scorer.Score(scans[i]).ProbabilityAbnormal, (await requests[i]).Score.ProbabilityAbnormal, 1e-5);
    }

    [Fact]
    public async Task ScoreAsync_OneScanWithoutProbabilityInABatch_FailsAloneOthersScored()
    {
        using var scorer = OnnxScorer.Open(NanOnScansModel, OnnxScorerOptions.Lean(2));
        var gate = new InferenceGate(1);
        var batcher = new InferenceBatcher(gate, maxBatch: 3);
        // Means 0.01, 0.2 (NaN: above 0.05) and 0.03.
        float[][] scans = [Constant(scorer, 0.01f), Constant(scorer, 0.2f), Constant(scorer, 0.03f)];

        var requests = await ArriveTogetherAsync(batcher, gate, scorer, scans);

        Assert.Equal(1, batcher.Batches);
        var first = await requests[0];
        var bad = await requests[1];
        var third = await requests[2];
        Assert.Equal(3, bad.BatchSize);
        Assert.NotNull(bad.Error);
        Assert.Contains("NaN", bad.Error.Message);
        Assert.Null(first.Error);
        Assert.Null(third.Error);
        // The formula in double; ONNX Runtime sums 46³ floats in float32 (relative error ~1e-5 of the mean).
        Assert.Equal(4 * Math.Sqrt(0.05 - 0.01), first.Score.ProbabilityAbnormal, 1e-4);
        Assert.Equal(4 * Math.Sqrt(0.05 - 0.03), third.Score.ProbabilityAbnormal, 1e-4);
        Assert.Equal(scorer.Score(scans[2]).ProbabilityAbnormal, third.Score.ProbabilityAbnormal, 1e-5);
    }

    [Fact]
    public async Task ScoreAsync_ScanOfTheWrongSizeInABatch_ThrowsForItAloneOthersScored()
    {
        using var scorer = OnnxScorer.Open(SmallModel, OnnxScorerOptions.Lean(2));
        var gate = new InferenceGate(1);
        var batcher = new InferenceBatcher(gate, maxBatch: 3);
        float[][] scans = [Noise(scorer, 1, 0.5f), new float[scorer.VoxelsPerScan - 1], Noise(scorer, 2, 1f)];

        var requests = await ArriveTogetherAsync(batcher, gate, scorer, scans);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => requests[1]);
        Assert.Contains($"need {scorer.VoxelsPerScan} values; got {scorer.VoxelsPerScan - 1}", error.Message);
        Assert.Equal(scorer.Score(scans[0]).ProbabilityAbnormal, (await requests[0]).Score.ProbabilityAbnormal, 1e-5);
        Assert.Equal(scorer.Score(scans[2]).ProbabilityAbnormal, (await requests[2]).Score.ProbabilityAbnormal, 1e-5);
    }

    [Fact]
    public async Task ScoreAsync_MaxBatchOne_EveryScanItsOwnInference()
    {
        using var scorer = OnnxScorer.Open(SmallModel, OnnxScorerOptions.Lean(2));
        var gate = new InferenceGate(1);
        var batcher = new InferenceBatcher(gate, maxBatch: 1);
        float[][] scans = [.. Enumerable.Range(0, 3).Select(i => Noise(scorer, seed: 20 + i, scale: 1f))];

        var requests = await ArriveTogetherAsync(batcher, gate, scorer, scans);

        Assert.Equal(3, batcher.Batches);
        Assert.Equal(1, batcher.LargestBatch);
        foreach (var request in requests) Assert.Equal(1, (await request).BatchSize);
    }

    [Fact]
    public async Task ScoreAsync_CancelledWhileWaiting_LeavesWithoutAnAnswerOthersScored()
    {
        using var scorer = OnnxScorer.Open(SmallModel, OnnxScorerOptions.Lean(2));
        var gate = new InferenceGate(1);
        var batcher = new InferenceBatcher(gate, maxBatch: 4);
        using var cancel = new CancellationTokenSource();
        Task<BatchedScore> cancelled, kept;
        using (await gate.EnterAsync())
        {
            cancelled = batcher.ScoreAsync(scorer, Noise(scorer, 1, 1f), cancel.Token);
            kept = batcher.ScoreAsync(scorer, Noise(scorer, 2, 1f));
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
            Assert.Equal(1, batcher.Waiting);
        }

        Assert.Null((await kept).Error);
        Assert.Equal(1, batcher.Scans);
    }
}
