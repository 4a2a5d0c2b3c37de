using CtScan.Pipeline;

namespace CtScan.Viewer;

/// <summary>How the viewer serves: the storage it reads, where it listens, whether the page may upload scans.</summary>
public sealed record ViewerOptions
{
    /// <summary>The loopback address the local viewer binds to: nothing outside this machine reaches it.</summary>
    public const string LoopbackHost = "127.0.0.1";

    /// <summary>The port <c>ctscan up</c> and <c>ctscan view</c> use unless told otherwise.</summary>
    public const int DefaultPort = 5080;

    /// <summary>The pipeline's storage (connection string or account URL with a credential); never sent to the browser.</summary>
    public required PipelineOptions Storage { get; init; }

    /// <summary>The URLs Kestrel listens on; default <c>http://127.0.0.1:5080</c>. Port 0 picks a free one.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [$"http://{LoopbackHost}:{DefaultPort}"];

    /// <summary>
    /// Host headers the viewer answers (ASP.NET Core's AllowedHosts syntax, ';'-separated). The local default refuses any
    /// other name, so a web page cannot reach the loopback viewer by rebinding its own DNS name to 127.0.0.1.
    /// </summary>
    public string AllowedHosts { get; init; } = "127.0.0.1;localhost";

    /// <summary>Whether the page may upload scans into <c>scans</c> (off in Azure, where the viewer's identity only reads).</summary>
    public bool AllowUpload { get; init; } = true;

    /// <summary>How often the page asks for new results (milliseconds).</summary>
    public int PollMilliseconds { get; init; } = 2000;

    /// <summary>NiiVue's bundled ES module (<c>@niivue/niivue/dist/index.js</c>); null: <see cref="NiivueScript.Find"/>.</summary>
    public string? NiivueScriptPath { get; init; }

    /// <summary>This, or an <see cref="ArgumentException"/> naming the bad setting.</summary>
    public ViewerOptions Validated()
    {
        if (Urls.Count == 0) throw new ArgumentException("viewer: no URL to listen on");
        foreach (var url in Urls)
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"viewer: '{url}' is not an http(s) URL to listen on");
        if (PollMilliseconds is < 200 or > 600_000)
            throw new ArgumentException($"viewer: poll interval {PollMilliseconds} ms is outside 200..600000");
        return this;
    }

    /// <summary>The local viewer on 127.0.0.1 at <paramref name="port"/> (0: a free one).</summary>
    public static ViewerOptions Loopback(PipelineOptions storage, int port) => port is < 0 or > 65535
        ? throw new ArgumentException($"--viewer-port {port}: expected 0 (a free port) to 65535")
        : new ViewerOptions { Storage = storage, Urls = [$"http://{LoopbackHost}:{port}"] };
}
