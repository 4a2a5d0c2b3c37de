namespace CtScan.Tests.Fuzzing;

/// <summary>The fuzz corpus folders of the repository (docs/fuzzing.md): crash regressions and checked-in seeds.</summary>
internal static class FuzzCorpus
{
    private static readonly Lazy<string> FuzzRoot = new(() =>
        Path.GetFullPath(Path.Combine(Fixtures.Path(), "..", "..", "fuzz")));

    /// <summary>Every input under <c>fuzz/regressions/TARGET</c> (READMEs aside): each once crashed a parser.</summary>
    public static IReadOnlyList<string> Regressions(string target) => Files("regressions", target);

    /// <summary>The checked-in seeds under <c>fuzz/seeds/TARGET</c>.</summary>
    public static IReadOnlyList<string> Seeds(string target) => Files("seeds", target);

    /// <summary>Runs every file through <paramref name="run"/>; returns one line per file whose exception escaped.</summary>
    public static IReadOnlyList<string> Replay(IEnumerable<string> files, Action<byte[]> run)
    {
        var escaped = new List<string>();
        foreach (var file in files)
        {
            try { run(File.ReadAllBytes(file)); }
            catch (Exception error) { escaped.Add($"{Path.GetFileName(file)}: {error.GetType().Name}: {error.Message}\n{error.StackTrace}"); }
        }
        return escaped;
    }

    private static string[] Files(string kind, string target)
    {
        var folder = Path.Combine(FuzzRoot.Value, kind, target);
        return Directory.Exists(folder)
            ? [.. Directory.GetFiles(folder).Where(f => !f.EndsWith(".md", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal)]
            : [];
    }
}
