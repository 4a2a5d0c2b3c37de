namespace CtScan.Viewer;

/// <summary>
/// Where NiiVue's bundled ES module (npm <c>@niivue/niivue</c>, <c>dist/index.js</c>: no imports of its own) is: beside
/// the assembly when the build copied it, else in the node_modules of the repository <c>npm ci</c> installed it into.
/// Served from the viewer itself; the page loads no script from elsewhere.
/// </summary>
public static class NiivueScript
{
    public const string PackagePath = "node_modules/@niivue/niivue/dist/index.js";

    /// <summary>The file, or null when neither place has it.</summary>
    public static string? Find()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "niivue", "index.js");
        if (File.Exists(beside)) return beside;
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, PackagePath);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    /// <summary>What to do when it is missing (the page shows this in place of the volume).</summary>
    public const string MissingMessage = "NiiVue is not installed: run `npm ci` at the repository root (package.json lists @niivue/niivue), then restart the viewer";
}
