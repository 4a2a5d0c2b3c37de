namespace CtScan.Nifti;

/// <summary>How bad a header problem is (cf. nibabel's problem levels).</summary>
public enum ProblemLevel
{
    /// <summary>Unusual but harmless; the reader uses the value as documented (e.g. qfac 0 read as 1).</summary>
    Info = 20,

    /// <summary>Probably wrong, but data can still be read (e.g. a zero or negative voxel size).</summary>
    Warning = 30,

    /// <summary>The file cannot be read; reading throws <see cref="NiftiFormatException"/>.</summary>
    Error = 40,
}

/// <summary>One finding of the header check battery (<see cref="NiftiHeaderChecks"/>).</summary>
public sealed record HeaderProblem(ProblemLevel Level, string Field, string Message)
{
    public override string ToString() => $"{Level.ToString().ToLowerInvariant()}: {Field}: {Message}";
}
