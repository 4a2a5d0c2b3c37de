namespace CtScan.Pipeline;

/// <summary>
/// Bounds the inferences one instance runs at once (<see cref="PipelineOptions.MaxConcurrentInferences"/>): what the
/// scoring host's memory budget rests on, since each inference of the seed-size model holds ~300 MB of activations
/// while the queue trigger hands the app several messages at a time. One gate per instance (<see cref="PipelineServices"/>).
/// </summary>
public sealed class InferenceGate
{
    private readonly SemaphoreSlim _slots;
    private int _running;
    private int _peak;

    public InferenceGate(int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        Slots = slots;
        _slots = new SemaphoreSlim(slots, slots);
    }

    public int Slots { get; }

    /// <summary>The most holders the gate has had at once.</summary>
    public int PeakRunning => Volatile.Read(ref _peak);

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken = default)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        int running = Interlocked.Increment(ref _running);
        for (int peak = Volatile.Read(ref _peak); running > peak; peak = Volatile.Read(ref _peak))
            Interlocked.CompareExchange(ref _peak, running, peak);
        return new Slot(this);
    }

    private sealed class Slot(InferenceGate gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            Interlocked.Decrement(ref gate._running);
            gate._slots.Release();
        }
    }
}
