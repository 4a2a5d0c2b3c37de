namespace CtScan.Scoring;

/// <summary>Settings of <see cref="OnnxScorer"/>.</summary>
public sealed record OnnxScorerOptions
{
    /// <summary>Threads one inference may use (ONNX Runtime's intra-op pool); 0 lets ONNX Runtime choose (one per core).</summary>
    public int IntraOpThreads { get; init; }

    public OnnxScorerOptions Validated()
    {
        if (IntraOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, $"intra-op threads must be 0 (automatic) or more; got {IntraOpThreads}");
        return this;
    }
}
