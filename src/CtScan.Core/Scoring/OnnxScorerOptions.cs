namespace CtScan.Scoring;

/// <summary>Settings of <see cref="OnnxScorer"/>.</summary>
public sealed record OnnxScorerOptions
{
    /// <summary>Threads one inference may use (ONNX Runtime's intra-op pool); 0 lets ONNX Runtime choose (one per core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// ONNX Runtime's CPU memory arena (default on, ONNX Runtime's default). The arena keeps every block it ever
    /// allocated for reuse, so concurrent inferences of a full-size model ratchet the process up to their combined peak
    /// and never give it back; off, each inference's activations are freed when it ends. The scoring pipeline turns it off.
    /// </summary>
    public bool EnableCpuMemArena { get; init; } = true;

    /// <summary>
    /// ONNX Runtime's memory pattern (default on): after the first run it plans and pre-allocates one block per input
    /// shape holding all intermediate tensors. Faster allocation, but the block lives as long as the session does.
    /// </summary>
    public bool EnableMemoryPattern { get; init; } = true;

    /// <summary>
    /// Whether the intra-op threads spin while waiting for work (ONNX Runtime's default, on). Spinning shaves the wake-up
    /// off each operator but burns a core after every parallel section; a host that preprocesses on the same cores
    /// while it scores gets that core back with it off.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>The lean settings of a long-running scoring host: no arena, no memory pattern, no spinning, one thread per core.</summary>
    public static OnnxScorerOptions Lean(int intraOpThreads) => new()
    {
        IntraOpThreads = intraOpThreads,
        EnableCpuMemArena = false,
        EnableMemoryPattern = false,
        AllowSpinning = false,
    };

    /// <summary>ONNX Runtime session options for these settings (sequential, one inter-op thread, full graph optimisation); dispose them.</summary>
    public Microsoft.ML.OnnxRuntime.SessionOptions CreateSessionOptions()
    {
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableCpuMemArena = EnableCpuMemArena,
            EnableMemoryPattern = EnableMemoryPattern,
        };
        if (!AllowSpinning) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    public OnnxScorerOptions Validated()
    {
        if (IntraOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, $"intra-op threads must be 0 (automatic) or more; got {IntraOpThreads}");
        return this;
    }
}
