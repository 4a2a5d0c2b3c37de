namespace CtScan.Scoring;

/// <summary>
/// The model ran but its output is not a probability: NaN, infinite, or (for a sigmoid output) outside [0, 1]. It is
/// the model's fault, not the scan's: callers record a <c>failed</c> result with code <c>invalid-model-output</c>, and
/// never turn the value into a label (NaN ≥ threshold is false, which would read as "normal").
/// </summary>
public sealed class InvalidModelOutputException(string message) : Exception(message);
