namespace CtScan.Cli.Commands;

/// <summary>Where <c>ctscan up</c> leaves its connection string for the other verbs.</summary>
public static class ConnectionFile
{
    /// <summary>The Azurite data folder of <c>ctscan up</c>, at the repository root.</summary>
    public const string DefaultDataFolder = ".azurite";

    public const string FileName = "connection.txt";

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    /// <summary>The connection string of a running <c>ctscan up</c>: <c>.azurite/connection.txt</c> in the current folder or a parent.</summary>
    public static string? Find()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, DefaultDataFolder, FileName);
            if (File.Exists(candidate) && File.ReadAllText(candidate).Trim() is { Length: > 0 } text) return text;
        }
        return null;
    }
}
