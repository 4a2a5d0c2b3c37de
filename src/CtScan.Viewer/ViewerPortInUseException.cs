namespace CtScan.Viewer;

/// <summary>The viewer's port is taken by another program (the CLI exits 6, like a taken Azurite port).</summary>
public sealed class ViewerPortInUseException(string url, Exception inner)
    : Exception($"port {new Uri(url).Port} for the viewer ({url}) is in use; pass another --viewer-port (or --port for `ctscan view`), or 0 for a free one", inner);
