namespace CtScan.Training;

/// <summary>One training example on disk: a NIfTI scan and its label (0 normal, 1 abnormal).</summary>
public sealed record LabeledScan(string Path, int Label)
{
    public const int Normal = 0;
    public const int Abnormal = 1;
}
