using System.Buffers;
using System.Diagnostics;
using CtScan.Scoring;

namespace CtScan.Pipeline;

/// <summary>What one scan got from <see cref="InferenceBatcher.ScoreAsync"/>: its score or the model's error, and the batch it ran in.</summary>
/// <param name="Wait">From the request to its batch's start (waiting for the running inference).</param>
/// <param name="Inference">The batch's inference (shared by its scans).</param>
public sealed record BatchedScore(ScanScore Score, InvalidModelOutputException? Error, int BatchSize, TimeSpan Wait, TimeSpan Inference);

/// <summary>
/// Runs an instance's inferences one batch at a time through its <see cref="InferenceGate"/>, gathering the score
/// requests that arrived while the previous batch ran (up to <see cref="MaxBatch"/>, same model only) into one
/// ONNX Runtime call: the session's one intra-op pool (a thread per core) serves them all instead of each concurrent
/// invocation running its own inference on the same cores. A request never waits for company: a lone request runs
/// alone at once.
/// </summary>
/// <remarks>
/// Errors stay per scan: a scan the model answers with no probability gets its own <see cref="BatchedScore.Error"/>,
/// and when ONNX Runtime fails the whole batch, each of its scans is run alone so that the failure reaches only the
/// scan that causes it. Memory: each scan in a batch adds its activations (~250 MB for the seed-size model), which is
/// why <see cref="MaxBatch"/> follows the instance memory (docs/operations.md).
/// </remarks>
public sealed class InferenceBatcher
{
    private readonly InferenceGate _gate;
    private readonly object _lock = new();
    private readonly List<Request> _pending = [];
    private int _batches;
    private int _scans;
    private int _largest;

    public InferenceBatcher(InferenceGate gate, int maxBatch)
    {
        _gate = gate ?? throw new ArgumentNullException(nameof(gate));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        MaxBatch = maxBatch;
    }

    /// <summary>The most scans one inference takes.</summary>
    public int MaxBatch { get; }

    /// <summary>Inferences run so far.</summary>
    public int Batches => Volatile.Read(ref _batches);

    /// <summary>Scans scored so far (over all batches).</summary>
    public int Scans => Volatile.Read(ref _scans);

    /// <summary>Requests waiting for a batch now.</summary>
    public int Waiting
    {
        get { lock (_lock) return _pending.Count; }
    }

    /// <summary>The largest batch run so far.</summary>
    public int LargestBatch => Volatile.Read(ref _largest);

    /// <summary>
    /// Scores one preprocessed scan (the manifest's [W, H, D], float32) with <paramref name="scorer"/>, in a batch with
    /// whatever requests for the same scorer are waiting when the gate opens. Keep the scorer's lease until this returns.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled before its batch began, or the batch was cancelled by the request that ran it.</exception>
    public async Task<BatchedScore> ScoreAsync(OnnxScorer scorer, ReadOnlyMemory<float> scan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        var request = new Request(scorer, scan, Stopwatch.StartNew());
        lock (_lock) _pending.Add(request);

        // Wait for the gate, or for another request's batch to have taken this one along.
        using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var enter = _gate.EnterAsync(stopWaiting.Token);
        if (await Task.WhenAny(enter, request.Answer.Task).ConfigureAwait(false) != enter)
        {
            await stopWaiting.CancelAsync().ConfigureAwait(false);
            try { (await enter.ConfigureAwait(false)).Dispose(); } // acquired just before the cancel: give it back
            catch (OperationCanceledException) { }
            return await request.Answer.Task.ConfigureAwait(false);
        }

        IDisposable slot;
        try
        {
            slot = await enter.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
                if (_pending.Remove(request)) throw;
            return await request.Answer.Task.ConfigureAwait(false); // taken by a batch meanwhile: its answer comes
        }
        using (slot)
        {
            List<Request>? batch = null;
            lock (_lock)
            {
                // Still waiting: lead a batch of it and the oldest waiting requests for the same model.
                if (_pending.Remove(request))
                {
                    batch = [request];
                    for (int i = 0; i < _pending.Count && batch.Count < MaxBatch;)
                    {
                        if (ReferenceEquals(_pending[i].Scorer, scorer))
                        {
                            batch.Add(_pending[i]);
                            _pending.RemoveAt(i);
                        }
                        else i++;
                    }
                }
            }
            if (batch is not null) Run(scorer, batch, cancellationToken);
        }
        return await request.Answer.Task.ConfigureAwait(false);
    }

    private void Run(OnnxScorer scorer, List<Request> batch, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var waits = batch.ConvertAll(r => r.Clock.Elapsed);
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _scans, batch.Count);
        for (int largest = Volatile.Read(ref _largest); batch.Count > largest; largest = Volatile.Read(ref _largest))
            Interlocked.CompareExchange(ref _largest, batch.Count, largest);
        try
        {
            var scores = batch.Count == 1 ? scorer.ScoreEach(batch[0].Scan, 1, cancellationToken) : RunTogether(scorer, batch, cancellationToken);
            for (int i = 0; i < batch.Count; i++)
                batch[i].Answer.TrySetResult(new BatchedScore(scores[i].Score, scores[i].Error, batch.Count, waits[i], clock.Elapsed));
        }
        catch (Exception error) when (batch.Count > 1 && error is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // One scan broke the whole call (ONNX Runtime refused it, a wrong length): run each alone, so the error
            // reaches only the scan that causes it.
            for (int i = 0; i < batch.Count; i++)
            {
                try
                {
                    var score = scorer.ScoreEach(batch[i].Scan, 1, cancellationToken)[0];
                    batch[i].Answer.TrySetResult(new BatchedScore(score.Score, score.Error, 1, waits[i], clock.Elapsed));
                }
                catch (Exception alone)
                {
                    batch[i].Answer.TrySetException(alone);
                }
            }
        }
        catch (Exception error)
        {
            foreach (var request in batch) request.Answer.TrySetException(error);
        }
    }

    /// <summary>Copies the batch's scans into one pooled buffer, one after another, and scores them in one call.</summary>
    private static IReadOnlyList<BatchScore> RunTogether(OnnxScorer scorer, List<Request> batch, CancellationToken cancellationToken)
    {
        int voxels = checked((int)scorer.VoxelsPerScan);
        foreach (var request in batch)
            if (request.Scan.Length != voxels)
                throw new ArgumentException($"a scan of {scorer.Manifest.InputVolume} needs {voxels} values; got {request.Scan.Length}");
        float[] buffer = ArrayPool<float>.Shared.Rent(checked(voxels * batch.Count));
        try
        {
            for (int i = 0; i < batch.Count; i++) batch[i].Scan.Span.CopyTo(buffer.AsSpan(i * voxels, voxels));
            return scorer.ScoreEach(buffer.AsMemory(0, voxels * batch.Count), batch.Count, cancellationToken);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private sealed record Request(OnnxScorer Scorer, ReadOnlyMemory<float> Scan, Stopwatch Clock)
    {
        public TaskCompletionSource<BatchedScore> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
