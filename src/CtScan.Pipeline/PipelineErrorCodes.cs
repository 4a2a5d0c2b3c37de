namespace CtScan.Pipeline;

/// <summary>Error codes the pipeline adds to <see cref="CtScan.Contracts.ScanErrorCodes"/>.</summary>
public static class PipelineErrorCodes
{
    /// <summary>The scan blob is larger than <see cref="PipelineOptions.MaxScanBytes"/>.</summary>
    public const string ScanTooLarge = "scan-too-large";

    /// <summary>The scan's name cannot be used as a result path (".." segments, backslashes, control characters…).</summary>
    public const string UnsafeName = "unsafe-name";

    /// <summary>A score-requests message is not a valid ScoreRequest.</summary>
    public const string InvalidRequest = "invalid-request";

    /// <summary>The request's tensor is gone and the scan cannot be preprocessed again (the scan blob is gone too).</summary>
    public const string TensorMissing = "tensor-missing";

    /// <summary>The cached tensor was damaged or foreign and is still unusable after it was rebuilt from the scan.</summary>
    public const string TensorInvalid = "tensor-invalid";

    /// <summary>A message or blob went to a poison queue after the host's retries were used up.</summary>
    public const string RetriesExhausted = "retries-exhausted";
}
