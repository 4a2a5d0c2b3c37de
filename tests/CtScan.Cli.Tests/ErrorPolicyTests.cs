using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CtScan.Cli.Commands;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using CtScan.Tests;

namespace CtScan.Cli.Tests;

/// <summary>
/// The CLI's error policy (docs/cli-errors.md): each cause a user can cause or fix ends with exactly one line on stderr,
/// naming it, and its exit code from the table; an unexpected exception prints its message and where the trace went.
/// </summary>
public sealed class ErrorPolicyTests(CliAzuriteFixture azurite) : IClassFixture<CliAzuriteFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Stderr is one line starting "error: ", and no stack trace anywhere.</summary>
    private static string OneErrorLine(string stdout, string stderr)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", stdout + stderr);
        return lines[0];
    }

    private string Scan()
    {
        string path = _temp.Path("scan.nii.gz");
        ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = new VolumeShape(32, 32, 8), Seed = 1 });
        return path;
    }

    [Fact]
    public async Task BadFile_Exits2NamingTheFile()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("info", _temp.Path("missing.nii.gz"));

        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Contains(_temp.Path("missing.nii.gz"), OneErrorLine(stdout, error));
    }

    [Fact]
    public async Task CommandLineThatDoesNotParse_Exits2()
    {
        var (exit, _, error) = await CliRunner.RunAsync("evaluate", "--no-such-option");

        Assert.Equal(CliErrors.BadInput, exit);
        Assert.Contains("--no-such-option", error);
    }

    [Fact]
    public async Task StorageNotRunning_Exits4InAFewSecondsSayingSo()
    {
        int port = AzuriteServer.FreePort();
        string nothing = $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};" +
                         $"BlobEndpoint=http://127.0.0.1:{port}/{AzuriteServer.AccountName};QueueEndpoint=http://127.0.0.1:{port}/{AzuriteServer.AccountName};";
        var clock = Stopwatch.StartNew();

        var (exit, stdout, error) = await CliRunner.RunAsync("submit", Scan(), "--connection", nothing);

        Assert.Equal(CliErrors.StorageUnavailable, exit);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}: the CLI's storage clients should fail fast");
        string line = OneErrorLine(stdout, error);
        Assert.Contains($"cannot reach the storage account (3 tries): Connection refused (127.0.0.1:{port})", line);
        Assert.Contains("is `ctscan up` running?", line);
    }

    [Fact]
    public async Task NoStorageConfigured_Exits4SayingHowToGetOne()
    {
        // A fresh clone before `ctscan up`: no --connection, no settings, no .azurite/connection.txt above the folder.
        var (exit, stdout, stderr) = await RunProcessAsync(["submit", Scan()], path: null);

        Assert.Equal(CliErrors.StorageUnavailable, exit);
        Assert.Contains("no storage account: pass --connection or --account-url", OneErrorLine(stdout, stderr));
    }

    [Fact]
    public async Task StorageRefusesTheKey_Exits4WithTheHttpStatus()
    {
        string wrongKey = azurite.ConnectionString.Replace(AzuriteServer.AccountKey, Convert.ToBase64String(new byte[64]), StringComparison.Ordinal);

        var (exit, stdout, error) = await CliRunner.RunAsync("results", "--connection", wrongKey);

        Assert.Equal(CliErrors.StorageUnavailable, exit);
        Assert.Contains("the storage account refused the request: HTTP 403 AuthorizationFailure", OneErrorLine(stdout, error));
    }

    [Fact]
    public async Task ModelFolderWrong_Exits3()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("score", Scan(), "--model", _temp.Path("no-model"));

        Assert.Equal(CliErrors.ModelUnusable, exit);
        Assert.Equal($"error: model folder {_temp.Path("no-model")} does not exist", OneErrorLine(stdout, error));
    }

    [Fact]
    public async Task OnnxRuntimeRefusesTheModel_Exits3()
    {
        // A manifest that matches its model.onnx byte for byte (hash included), but the bytes are not an ONNX graph.
        string folder = _temp.Path("garbage-model");
        Directory.CreateDirectory(folder);
        byte[] garbage = "this is not a protobuf"u8.ToArray();
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), garbage);
        var manifest = JsonNode.Parse(File.ReadAllText(Fixtures.Path("models", "fixture-auc080", "manifest.json")))!;
        manifest["sha256"] = Convert.ToHexStringLower(SHA256.HashData(garbage));
        File.WriteAllText(Path.Combine(folder, "manifest.json"), manifest.ToJsonString());

        var (exit, stdout, error) = await CliRunner.RunAsync("score", Scan(), "--model", folder);

        Assert.Equal(CliErrors.ModelUnusable, exit);
        Assert.StartsWith($"error: ONNX Runtime cannot load {Path.Combine(folder, "model.onnx")}:", OneErrorLine(stdout, error));
    }

    [Fact]
    public async Task PortInUse_Exits6NamingThePort()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exit, _, error) = await CliRunner.RunAsync("up", "--data", _temp.Path("az"), "--blob-port", $"{port}", "--queue-port", "0");

        Assert.Equal(CliErrors.PortInUse, exit);
        Assert.Contains($"error: port {port} for Azurite's blob service is in use", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ViewPortInUse_Exits6NamingThePort()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exit, _, error) = await CliRunner.RunAsync("view", "--port", $"{port}", "--connection", azurite.ConnectionString);

        Assert.Equal(CliErrors.PortInUse, exit);
        Assert.Contains($"error: port {port} for the viewer (http://127.0.0.1:{port}) is in use", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task UpWithoutNode_Exits5SayingWhatToInstall()
    {
        // A real process whose PATH has no node (nor npm): what a machine without Node.js looks like to `ctscan up`.
        string emptyPath = _temp.Path("bin");
        Directory.CreateDirectory(emptyPath);

        var (exit, stdout, stderr) = await RunProcessAsync(["up", "--data", _temp.Path("az"), "--blob-port", "0", "--queue-port", "0"], path: emptyPath);

        Assert.Equal(CliErrors.MissingPrerequisite, exit);
        Assert.Contains("Starting Azurite", stdout);
        string line = OneErrorLine("", stderr);
        Assert.Contains($"Node.js is not installed (no `node` on PATH={emptyPath})", line);
        Assert.Contains("Node.js 20 or newer with npm", line);
    }

    [Fact]
    public async Task UnexpectedException_PrintsItsMessageAndWhereTheTraceIs()
    {
        // Any verb's action runs through CliErrors.RunAsync; a bug inside one looks like this.
        var verb = new Command("buggy");
        verb.SetAction((parse, ct) => CliErrors.RunAsync(parse, (_, _) => throw new InvalidOperationException("the list was modified"), ct));
        var root = new RootCommand { verb };
        var output = new StringWriter();
        var error = new StringWriter();

        int exit = await root.Parse(["buggy"]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });

        Assert.Equal(CliErrors.InternalError, exit);
        string line = OneErrorLine(output.ToString(), error.ToString());
        Assert.StartsWith("error: unexpected InvalidOperationException: the list was modified (full trace in ", line);
        string trace = line["error: unexpected InvalidOperationException: the list was modified (full trace in ".Length..line.IndexOf("; please report it", StringComparison.Ordinal)];
        try
        {
            string written = File.ReadAllText(trace);
            Assert.StartsWith("ctscan buggy", written);
            Assert.Contains("System.InvalidOperationException: the list was modified", written);
            Assert.Contains("   at ", written);
        }
        finally
        {
            File.Delete(trace);
        }
    }

    /// <summary><c>dotnet ctscan.dll ARGS</c> in the temp folder, without storage settings, with <paramref name="path"/> as PATH when given.</summary>
    private async Task<(int ExitCode, string Output, string Error)> RunProcessAsync(string[] args, string? path)
    {
        string dotnet = AzuriteServer.FindOnPath("dotnet", Environment.GetEnvironmentVariable("PATH") ?? "") ?? "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _temp.Directory.FullName };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ctscan.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment.Remove("CTSCAN_STORAGE");
        start.Environment.Remove("AzureWebJobsStorage");
        if (path is not null) start.Environment["PATH"] = path;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (process.ExitCode, await stdout, await stderr);
    }
}
