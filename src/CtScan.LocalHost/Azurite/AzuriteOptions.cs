namespace CtScan.LocalHost.Azurite;

/// <summary>How to run the local Azure Storage emulator.</summary>
public sealed record AzuriteOptions
{
    /// <summary>The folder holding package.json with azurite (the repository root); found from the app's folder when null.</summary>
    public string? PackageDirectory { get; init; }

    /// <summary>Where Azurite keeps its data; null keeps everything in memory (tests).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Blob service port; 0 picks a free one.</summary>
    public int BlobPort { get; init; }

    /// <summary>Queue service port; 0 picks a free one.</summary>
    public int QueuePort { get; init; }

    /// <summary>How long to wait for both services to accept connections.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Start Azurite in its own session (Linux/macOS, with setsid), so a terminal's Ctrl+C reaches only the parent,
    /// which then stops Azurite in order (<c>ctscan up</c>).
    /// </summary>
    public bool OwnSession { get; init; }

    /// <summary>Where to look for <c>node</c> and <c>npm</c> (PATH syntax); null: the PATH environment variable.</summary>
    public string? SearchPath { get; init; }

    /// <summary>Run <c>npm install</c> when azurite is not installed yet.</summary>
    public bool InstallIfMissing { get; init; } = true;
}
