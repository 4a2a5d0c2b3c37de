using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CtScan.LocalHost.Azurite;

/// <summary>
/// A running Azurite (blob and queue services on 127.0.0.1), installed from the repository's package.json with npm
/// when missing, started with the flags the Azure SDK needs (<c>--skipApiVersionCheck</c>, <c>--loose</c>), and
/// stopped with its whole process tree on dispose, so nothing is left behind.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account (public; not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const int Sigterm = 15;
    private const string SetsidPath = "/usr/bin/setsid";

    private readonly Process _process;
    private readonly StringBuilder _log;
    private readonly bool _persistent;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private AzuriteServer(Process process, StringBuilder log, int blobPort, int queuePort, bool persistent)
    {
        _process = process;
        _log = log;
        _persistent = persistent;
        BlobPort = blobPort;
        QueuePort = queuePort;
    }

    public int BlobPort { get; }

    public int QueuePort { get; }

    /// <summary>Azurite's process id (node).</summary>
    public int ProcessId => _process.Id;

    /// <summary>A storage connection string for this emulator (blob and queue endpoints).</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};";

    /// <summary>Installs Azurite if needed, starts it and waits until both services accept connections.</summary>
    /// <exception cref="AzuriteException">npm or node is missing, the install failed, or Azurite did not come up.</exception>
    public static async Task<AzuriteServer> StartAsync(AzuriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AzuriteOptions();
        var packageDirectory = options.PackageDirectory ?? FindPackageDirectory();
        // Azurite is a Node.js program: without node, the script would die with "env: 'node': No such file or directory".
        string searchPath = options.SearchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "";
        if (FindOnPath("node", searchPath) is null)
            throw new AzuriteException(AzuriteFailure.NotInstalled,
                $"Node.js is not installed (no `node` on PATH={searchPath}); `ctscan up` runs Azurite, the storage emulator, on Node.js 20 or newer with npm: install them (https://nodejs.org, or apt-get install nodejs npm) and run it again");
        // Ports before the install: a taken port should not cost a minute of npm first.
        int blobPort = options.BlobPort != 0 ? EnsureFree(options.BlobPort, "blob") : FreePort();
        int queuePort = options.QueuePort != 0 ? EnsureFree(options.QueuePort, "queue") : FreePort(blobPort);
        var executable = Path.Combine(packageDirectory, "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            if (!options.InstallIfMissing)
                throw new AzuriteException(AzuriteFailure.NotInstalled, $"azurite is not installed in {packageDirectory}; run `npm ci` (or `npm install`) there");
            if (FindOnPath("npm", searchPath) is null)
                throw new AzuriteException(AzuriteFailure.NotInstalled,
                    $"npm is not installed (no `npm` on PATH={searchPath}); it is needed once to install Azurite into {packageDirectory}/node_modules: install npm (it comes with Node.js 20 or newer) and run it again");
            await InstallAsync(packageDirectory, cancellationToken).ConfigureAwait(false);
        }

        // In its own session, Ctrl+C in a terminal (SIGINT to the whole foreground process group) reaches only our
        // process, which stops the pipeline host first and then Azurite; setsid execs in place, so the pid is Azurite's.
        bool ownSession = options.OwnSession && !OperatingSystem.IsWindows() && File.Exists(SetsidPath);
        var start = new ProcessStartInfo(ownSession ? SetsidPath : executable)
        {
            WorkingDirectory = packageDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (ownSession) start.ArgumentList.Add(executable);
        foreach (var argument in Arguments(options, blobPort, queuePort)) start.ArgumentList.Add(argument);

        var log = new StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        if (!process.Start()) throw new AzuriteException($"could not start {executable}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new AzuriteServer(process, log, blobPort, queuePort, options.DataDirectory is not null);
        try
        {
            await server.WaitUntilListeningAsync(options.StartTimeout, cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited && _persistent && !OperatingSystem.IsWindows())
            {
                // Azurite keeps its metadata in LokiJS and saves it every few seconds: ask it to stop (SIGTERM closes
                // its servers and saves the database) before anything harder, or the last writes are lost.
                _ = SendSignal(_process.Id, Sigterm);
                using var graceful = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try { await _process.WaitForExitAsync(graceful.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
            }
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception error) when (error is InvalidOperationException or OperationCanceledException)
        {
            // Already gone, or it would not die in time: nothing more a dispose can do.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static IEnumerable<string> Arguments(AzuriteOptions options, int blobPort, int queuePort)
    {
        yield return "--silent";
        yield return "--skipApiVersionCheck"; // else HTTP 400 for the SDK's newer API versions
        yield return "--loose";
        yield return "--disableTelemetry";
        yield return "--blobHost";
        yield return "127.0.0.1";
        yield return "--blobPort";
        yield return blobPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        yield return "--queueHost";
        yield return "127.0.0.1";
        yield return "--queuePort";
        yield return queuePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        yield return "--tableHost";
        yield return "127.0.0.1";
        yield return "--tablePort";
        yield return FreePort(blobPort, queuePort).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (options.DataDirectory is null)
        {
            yield return "--inMemoryPersistence";
        }
        else
        {
            Directory.CreateDirectory(options.DataDirectory);
            yield return "--location";
            yield return options.DataDirectory;
        }
    }

    private async Task WaitUntilListeningAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
                throw new AzuriteException($"azurite exited with code {_process.ExitCode} before listening: {Log()}");
            if (await AcceptsAsync(BlobPort, cancellationToken).ConfigureAwait(false) && await AcceptsAsync(QueuePort, cancellationToken).ConfigureAwait(false))
                return;
            if (clock.Elapsed > timeout)
                throw new AzuriteException($"azurite did not listen on ports {BlobPort}/{QueuePort} within {timeout.TotalSeconds:F0} s: {Log()}");
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private string Log()
    {
        lock (_log) return _log.Length == 0 ? "(no output)" : _log.ToString().Trim();
    }

    private static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task InstallAsync(string packageDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("npm")
        {
            WorkingDirectory = packageDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "install", "--no-audit", "--no-fund" }) start.ArgumentList.Add(argument);
        Process npm;
        try
        {
            npm = Process.Start(start) ?? throw new AzuriteException("could not start npm");
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            throw new AzuriteException(AzuriteFailure.NotInstalled, $"npm is needed to install azurite (Node.js 20 or newer) but could not be started: {error.Message}", error);
        }
        using (npm)
        {
            var output = npm.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = npm.StandardError.ReadToEndAsync(cancellationToken);
            await npm.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (npm.ExitCode != 0)
                throw new AzuriteException($"`npm install` in {packageDirectory} failed with exit code {npm.ExitCode}: {(await errors).Trim()} {(await output).Trim()}");
        }
    }

    /// <summary>The nearest folder above the app whose package.json names azurite (the repository root).</summary>
    public static string FindPackageDirectory()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var manifest = Path.Combine(dir.FullName, "package.json");
                if (File.Exists(manifest) && File.ReadAllText(manifest).Contains("\"azurite\"", StringComparison.Ordinal))
                    return dir.FullName;
            }
        }
        throw new AzuriteException(AzuriteFailure.NotInstalled, $"no package.json naming azurite above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()}: run ctscan from a clone of the repository, whose package.json pins the Azurite it installs");
    }

    /// <summary>The full path of <paramref name="name"/> in the first folder of <paramref name="searchPath"/> that has it, or null.</summary>
    public static string? FindOnPath(string name, string searchPath)
    {
        foreach (var folder in searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    // Checked before Azurite starts: it would otherwise exit with EADDRINUSE buried in its log.
    private static int EnsureFree(int port, string service)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return port;
        }
        catch (SocketException error) when (error.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            throw new AzuriteException(AzuriteFailure.PortInUse,
                $"port {port} for Azurite's {service} service is in use (another `ctscan up` or Azurite?): stop that process, or pass --{service}-port with a free port (0 picks one)", error);
        }
    }

    /// <summary>A loopback port nothing listens on now, other than <paramref name="taken"/>.</summary>
    public static int FreePort(params int[] taken)
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (Array.IndexOf(taken, port) < 0) return port;
        }
    }
}

/// <summary>Why Azurite could not be started.</summary>
public enum AzuriteFailure
{
    /// <summary>It started but exited or did not listen in time, or its install failed.</summary>
    StartFailed,

    /// <summary>Node.js, npm or the azurite package is missing: the user has to install something.</summary>
    NotInstalled,

    /// <summary>A port it was told to use is taken.</summary>
    PortInUse,
}

/// <summary>The local storage emulator could not be installed or started; the message says why, <see cref="Failure"/> which kind.</summary>
public sealed class AzuriteException : Exception
{
    public AzuriteException(string message) : this(AzuriteFailure.StartFailed, message) { }

    public AzuriteException(string message, Exception innerException) : this(AzuriteFailure.StartFailed, message, innerException) { }

    public AzuriteException(AzuriteFailure failure, string message) : base(message) => Failure = failure;

    public AzuriteException(AzuriteFailure failure, string message, Exception innerException) : base(message, innerException) => Failure = failure;

    public AzuriteFailure Failure { get; }
}
