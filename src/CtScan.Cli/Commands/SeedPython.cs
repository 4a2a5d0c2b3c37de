namespace CtScan.Cli.Commands;

/// <summary>
/// A Python that can run the seed Keras example's preprocessing (numpy, scipy, nibabel), and the script itself
/// (bench/seed_preprocess.py, embedded in ctscan.dll so the bench runs from any folder).
/// </summary>
internal sealed record SeedPython(string Executable, string Versions)
{
    /// <summary>Where to look when no --python is given: the PATH's python3 first, then Debian's own.</summary>
    public static IReadOnlyList<string> DefaultCandidates { get; } = ["python3", "/usr/bin/python3"];

    private const string Probe = "import numpy, scipy, scipy.ndimage, nibabel; print('numpy', numpy.__version__, 'scipy', scipy.__version__, 'nibabel', nibabel.__version__)";

    /// <summary>The first candidate that imports numpy, scipy and nibabel, or null.</summary>
    public static async Task<SeedPython?> FindAsync(IEnumerable<string> candidates, CancellationToken cancellationToken)
    {
        foreach (var candidate in candidates)
        {
            if (await ChildProcessTimer.TryOutputAsync(candidate, ["-c", Probe], cancellationToken) is { Length: > 0 } versions)
                return new SeedPython(candidate, versions);
        }
        return null;
    }

    /// <summary>Writes the embedded seed_preprocess.py into <paramref name="folder"/> and returns its path.</summary>
    public static string WriteScript(string folder)
    {
        string path = Path.Combine(folder, "seed_preprocess.py");
        using var resource = typeof(SeedPython).Assembly.GetManifestResourceStream("seed_preprocess.py")
                             ?? throw new InvalidOperationException("seed_preprocess.py is not embedded in ctscan.dll (see CtScan.Cli.csproj)");
        using var file = File.Create(path);
        resource.CopyTo(file);
        return path;
    }
}
