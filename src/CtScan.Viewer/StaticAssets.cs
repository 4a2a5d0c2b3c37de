using System.Reflection;

namespace CtScan.Viewer;

/// <summary>The page's own files (wwwroot/, embedded in the assembly so any host serves them without a content folder).</summary>
public sealed class StaticAssets
{
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    public StaticAssets()
    {
        var assembly = typeof(StaticAssets).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            _files[resource["wwwroot/".Length..]] = buffer.ToArray();
        }
    }

    /// <summary>The file's bytes, or null when the page has no such file.</summary>
    public byte[]? Get(string path) => _files.GetValueOrDefault(path);

    public static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };
}
