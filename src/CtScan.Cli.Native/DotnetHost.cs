namespace CtScan.Cli;

/// <summary>
/// Where the <c>dotnet</c> host is, looked for as an apphost looks for it: $DOTNET_ROOT_X64 and $DOTNET_ROOT, the
/// folder named in /etc/dotnet/install_location_x64 or /etc/dotnet/install_location, the default install folders,
/// then the PATH.
/// </summary>
internal static class DotnetHost
{
    public static IReadOnlyList<string> DefaultFolders { get; } = ["/usr/share/dotnet", "/usr/lib/dotnet"];

    /// <summary>The first existing dotnet executable, or null; the delegates read the environment and the file system.</summary>
    public static string? Find(Func<string, string?> environment, Func<string, bool> exists, Func<string, string?> firstLine)
    {
        IEnumerable<string?> folders =
        [
            environment("DOTNET_ROOT_X64"),
            environment("DOTNET_ROOT"),
            firstLine("/etc/dotnet/install_location_x64"),
            firstLine("/etc/dotnet/install_location"),
            .. DefaultFolders,
            .. (environment("PATH") ?? "").Split(':'),
        ];
        foreach (var folder in folders)
        {
            if (string.IsNullOrWhiteSpace(folder)) continue;
            string candidate = Path.Combine(folder.Trim(), "dotnet");
            if (exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The first line of a text file, or null when there is none.</summary>
    public static string? ReadFirstLine(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            return reader.ReadLine();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
