using System.Runtime.ExceptionServices;

namespace CtScan.Nifti;

/// <summary>
/// Reads a stream (the inflater) on a second thread, a few chunks ahead of the reader, so inflating the next slices
/// overlaps decoding and preprocessing the current one. Each chunk is one <c>Read</c> of the source, and one
/// <see cref="Read(Span{byte})"/> returns bytes of one chunk at most, so the reader sees the source's read boundaries
/// (<see cref="GzipVerifyingStream"/> checks the last member's ISIZE against them). The thread runs at most
/// <see cref="Slots"/> chunks (<see cref="ChunkBytes"/> each) ahead; a source exception is rethrown by the next read
/// that reaches it. Dispose stops the thread and waits for it before the source may be disposed.
/// </summary>
internal sealed class InflateAheadStream : ForwardOnlyStream
{
    /// <summary>256 KiB: half an int16 512×512 slice; a few chunks keep the thread busy while the reader works.</summary>
    public const int ChunkBytes = 256 * 1024;

    public const int Slots = 4;

    private readonly Stream _source;
    private readonly byte[][] _buffers = new byte[Slots][];
    private readonly int[] _lengths = new int[Slots];
    private readonly SemaphoreSlim _filled = new(0, Slots);
    private readonly SemaphoreSlim _free = new(Slots, Slots);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private ExceptionDispatchInfo? _failure;
    private int _slot = -1; // the slot being read, -1 before the first
    private int _offset;
    private bool _ended;
    private bool _faulted;

    public InflateAheadStream(Stream source)
    {
        _source = source;
        for (int i = 0; i < Slots; i++) _buffers[i] = new byte[ChunkBytes];
        _producer = Task.Factory.StartNew(Produce, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Produce()
    {
        for (int slot = 0; ; slot = (slot + 1) % Slots)
        {
            try
            {
                _free.Wait(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return; // disposed before the end
            }
            int n;
            try
            {
                n = _source.Read(_buffers[slot]);
            }
            catch (Exception error)
            {
                _failure = ExceptionDispatchInfo.Capture(error);
                n = -1;
            }
            _lengths[slot] = n;
            _filled.Release();
            if (n <= 0) return;
        }
    }

    public override int Read(Span<byte> buffer)
    {
        if (_faulted) _failure!.Throw();
        if (buffer.IsEmpty || _ended) return 0;
        if (_slot < 0 || _offset == _lengths[_slot])
        {
            if (_slot >= 0) _free.Release();
            _slot = (_slot + 1) % Slots;
            _offset = 0;
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
        int n = Math.Min(buffer.Length, _lengths[_slot] - _offset);
        _buffers[_slot].AsSpan(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            _producer.Wait(); // never throws: Produce catches everything
            _stop.Dispose();
            _filled.Dispose();
            _free.Dispose();
        }
        base.Dispose(disposing);
    }
}
