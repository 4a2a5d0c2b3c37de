namespace CtScan.Scoring;

/// <summary>
/// A model folder cannot be served: its manifest is invalid, its file's SHA-256 differs from the manifest's, or the
/// graph's inputs/outputs are not what the manifest says. Callers stop serving that version (not a scan's fault).
/// </summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string message) : base(message) { }

    public ModelLoadException(string message, Exception innerException) : base(message, innerException) { }
}
