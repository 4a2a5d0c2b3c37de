using System.Runtime.ExceptionServices;

namespace CtScan.Nifti;

/// <summary>
/// Reads a stream (the inflater) on a second thread, a few chunks ahead of the reader, so that inflating the next
/// slices can overlap decoding and preprocessing the current one. The thread fills each chunk with as many source
/// reads as fit (one <see cref="System.IO.Compression.GZipStream"/> read yields only what 8 KiB of compressed input
/// inflates to, so a chunk per read would hand over thousands of tiny chunks) and records where each read ended; one
/// <see cref="Read(Span{byte})"/> never crosses such a point, so the reader sees the source's read boundaries
/// (<see cref="GzipVerifyingStream"/> checks the last member's ISIZE against them). The thread runs at most
/// <see cref="Slots"/> chunks of <see cref="ChunkBytes"/> ahead; a source exception is rethrown by the read that
/// reaches it, after the bytes read before it. Dispose stops the thread and waits for it, so the source may be
/// disposed next.
/// </summary>
internal sealed class InflateAheadStream : ForwardOnlyStream
{
    /// <summary>256 KiB: half an int16 512×512 slice.</summary>
    public const int ChunkBytes = 256 * 1024;

    public const int Slots = 4;

    private readonly Stream _source;
    private readonly byte[][] _buffers = new byte[Slots][];
    private readonly int[] _lengths = new int[Slots]; // -1: the source failed here; 0: the end
    private readonly List<int>[] _cuts = new List<int>[Slots]; // where each source read ended within the chunk
    private readonly SemaphoreSlim _filled = new(0, Slots);
    private readonly SemaphoreSlim _free = new(Slots, Slots);
    private readonly CancellationTokenSource _stop = new();
    private Task? _producer;
    private ExceptionDispatchInfo? _failure;
    private int _slot = -1; // the slot being read, -1 before the first
    private int _offset;
    private int _cut;
    private bool _ended;
    private bool _faulted;

    public InflateAheadStream(Stream source)
    {
        _source = source;
        for (int i = 0; i < Slots; i++)
        {
            _buffers[i] = new byte[ChunkBytes];
            _cuts[i] = [];
        }
    }

    private void Produce()
    {
        for (int slot = 0; ; slot = (slot + 1) % Slots)
        {
            if (!WaitFree()) return;
            var cuts = _cuts[slot];
            cuts.Clear();
            int filled = 0;
            ExceptionDispatchInfo? failure = null;
            try
            {
                while (filled < ChunkBytes)
                {
                    int n = _source.Read(_buffers[slot].AsSpan(filled));
                    if (n == 0) break;
                    filled += n;
                    cuts.Add(filled);
                }
            }
            catch (Exception error)
            {
                failure = ExceptionDispatchInfo.Capture(error);
            }
            if (filled > 0)
            {
                Publish(slot, filled);
                if (failure is null) continue;
                slot = (slot + 1) % Slots; // the bytes before the failure first, then the failure
                if (!WaitFree()) return;
            }
            _failure = failure;
            Publish(slot, failure is null ? 0 : -1);
            return;
        }
    }

    private bool WaitFree()
    {
        try
        {
            _free.Wait(_stop.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false; // disposed before the end
        }
    }

    private void Publish(int slot, int length)
    {
        _lengths[slot] = length;
        _filled.Release();
    }

    public override int Read(Span<byte> buffer)
    {
        if (_faulted) _failure!.Throw();
        if (buffer.IsEmpty || _ended) return 0;
        _producer ??= Task.Factory.StartNew(Produce, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (_slot < 0 || _offset == _lengths[_slot])
        {
            if (_slot >= 0) _free.Release();
            _slot = (_slot + 1) % Slots;
            _offset = 0;
            _cut = 0;
            _filled.Wait();
            if (_lengths[_slot] < 0)
            {
                _faulted = true;
                _failure!.Throw();
            }
            if (_lengths[_slot] == 0)
            {
                _ended = true;
                return 0;
            }
        }
        int end = _cuts[_slot][_cut];
        int n = Math.Min(buffer.Length, end - _offset);
        _buffers[_slot].AsSpan(_offset, n).CopyTo(buffer);
        _offset += n;
        if (_offset == end) _cut++;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            _producer?.Wait(); // never throws: Produce catches everything
            _stop.Dispose();
            _filled.Dispose();
            _free.Dispose();
        }
        base.Dispose(disposing);
    }
}
