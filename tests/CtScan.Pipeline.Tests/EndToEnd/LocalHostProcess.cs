using System.Diagnostics;
using System.Text;

namespace CtScan.Pipeline.Tests.EndToEnd;

/// <summary>
/// The local host (CtScan.LocalHost.dll, built beside the tests as a referenced project) as a separate process, so a
/// test can kill it like a crash would: <c>dotnet CtScan.LocalHost.dll --connection … --host-json host.json</c> with
/// settings in its environment (host.json keys as <c>extensions__queues__…</c>, pipeline ones as <c>CtScan__…</c>).
/// </summary>
internal sealed class LocalHostProcess : IAsyncDisposable
{
    /// <summary>What the WebJobs host logs once every listener runs.</summary>
    public const string ReadyText = "Job host started";

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LocalHostProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "CtScan.LocalHost.dll");

    /// <summary>Starts the host and waits (bounded) for its ready line.</summary>
    public static async Task<LocalHostProcess> StartAsync(string connection, string workingDirectory, IReadOnlyDictionary<string, string> environment,
        string? statsFile = null, TimeSpan? timeout = null)
    {
        if (!File.Exists(DllPath)) throw new FileNotFoundException($"the local host is not built beside the tests: {DllPath}", DllPath);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory, // no local.settings.json there: only what is passed here counts
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { DllPath, "--connection", connection, "--host-json", CtScan.Tests.Fixtures.Path("..", "..", "host.json") })
            start.ArgumentList.Add(argument);
        if (statsFile is not null)
        {
            start.ArgumentList.Add("--stats-file");
            start.ArgumentList.Add(statsFile);
        }
        start.Environment.Remove("AzureWebJobsStorage");
        foreach (var (key, value) in environment) start.Environment[key] = value;

        var host = new LocalHostProcess(new Process { StartInfo = start });
        host._process.OutputDataReceived += (_, e) => host.OnLine(e.Data);
        host._process.ErrorDataReceived += (_, e) => host.OnLine(e.Data);
        host._process.Start();
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();

        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var finished = await Task.WhenAny(host._ready.Task, host._process.WaitForExitAsync(), Task.Delay(limit));
        if (finished != host._ready.Task)
        {
            string why = host._process.HasExited ? $"exited with code {host._process.ExitCode}" : $"not ready within {limit.TotalSeconds:F0} s";
            await host.DisposeAsync();
            throw new InvalidOperationException($"local host {why}:\n{host.Log}");
        }
        return host;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
        if (line.Contains(ReadyText, StringComparison.Ordinal)) _ready.TrySetResult();
    }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Log lines containing <paramref name="text"/>.</summary>
    public IReadOnlyList<string> LogLines(string text) =>
        [.. Log.Split('\n').Where(line => line.Contains(text, StringComparison.Ordinal))];

    /// <summary>SIGKILL, like a crash or an out-of-memory kill: no cleanup runs.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // SIGTERM first (the host stops its listeners), then kill if it lingers.
                Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
                try { await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15)); }
                catch (TimeoutException) { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); }
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
