using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CtScan.Cli.Commands;
using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Nifti;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using CtScan.Tests;
using Xunit.Abstractions;

namespace CtScan.Cli.Tests;

/// <summary>
/// <c>ctscan up</c> as a real process (as a user runs it): ready line, a scan submitted from "a second terminal"
/// (another process finding .azurite/connection.txt), Ctrl+C (SIGINT) ends it with exit code 0 and Azurite's ports
/// closed; started again on the same data folder the result is still there, and SIGTERM stops it just as cleanly.
/// </summary>
public sealed class UpCommandTests(ITestOutputHelper output)
{
    private static readonly string Ctscan = Path.Combine(AppContext.BaseDirectory, "ctscan.dll");

    [Fact]
    public async Task Up_SubmitThenSigint_ScoredAndExitsZeroWithPortsClosed_ResultSurvivesRestart()
    {
        using var temp = new TempFolder();
        string data = temp.Path(UpCommand.DefaultDataFolder);
        int blobPort = AzuriteServer.FreePort(), queuePort = AzuriteServer.FreePort(blobPort);
        string model = Fixtures.Path("models", "fixture-auc080");
        string[] upArgs = ["up", "--data", data, "--blob-port", $"{blobPort}", "--queue-port", $"{queuePort}", "--model", model, "--viewer-port", "0"];
        string scan = temp.Path("chest.nii.gz");
        ChestPhantomFile.Write(scan, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 16), Seed = 5, Label = PhantomLabel.Abnormal });

        await using (var up = await CtscanProcess.StartAsync(temp.Directory.FullName, upArgs, waitFor: UpCommand.ReadyLine))
        {
            string connection = (await File.ReadAllTextAsync(Path.Combine(data, ConnectionFile.FileName))).Trim();
            Assert.Contains($"BlobEndpoint=http://127.0.0.1:{blobPort}/", connection);
            Assert.Contains("published fixture-auc080", up.Output);

            // A second terminal in the same folder: no --connection, no environment; connection.txt is found.
            var submit = await CtscanProcess.RunAsync(temp.Directory.FullName, ["submit", scan, "--wait", "--timeout", "90"]);
            output.WriteLine(submit.Output + submit.Error);
            Assert.Equal(0, submit.ExitCode);
            Assert.Contains("\"status\": \"scored\"", submit.Output);
            Assert.Contains("\"version\": \"fixture-auc080\"", submit.Output);

            Assert.Equal(0, await up.SignalAndWaitAsync("INT"));
            output.WriteLine(up.Output);
        }
        Assert.False(Accepts(blobPort), $"Azurite still listens on {blobPort} after Ctrl+C");
        Assert.False(Accepts(queuePort), $"Azurite still listens on {queuePort} after Ctrl+C");
        Assert.False(File.Exists(Path.Combine(data, ConnectionFile.FileName)));

        await using (var again = await CtscanProcess.StartAsync(temp.Directory.FullName, upArgs, waitFor: UpCommand.ReadyLine))
        {
            Assert.Contains("fixture-auc080 is current", again.Output);
            var results = await CtscanProcess.RunAsync(temp.Directory.FullName, ["results"]);
            Assert.Equal(0, results.ExitCode);
            Assert.Contains("chest.nii.gz", results.Output);
            Assert.Contains("scored", results.Output);
            // The viewer `up` prints serves the same results through its own API.
            var viewerUrl = System.Text.RegularExpressions.Regex.Match(again.Output, @"Viewer: (http://127\.0\.0\.1:\d+/)").Groups[1].Value;
            Assert.NotEmpty(viewerUrl);
            using (var http = new HttpClient())
                Assert.Contains("\"scan\":\"chest.nii.gz\"", await http.GetStringAsync(viewerUrl + "api/results"));
            Assert.Equal(0, await again.SignalAndWaitAsync("TERM"));
        }
        Assert.False(Accepts(blobPort));
        Assert.False(Accepts(queuePort));
    }

    /// <summary>
    /// Issue 12's "done when", as a user does it: <c>ctscan up</c> with its defaults (bundled demo model, explain on),
    /// <c>submit</c> of two phantoms, then the printed viewer URL lists both results, each with its saliency map
    /// (a gzipped NIfTI) and montage (a PNG) served through the page's own API.
    /// </summary>
    [Fact]
    public async Task Up_Defaults_TwoSubmittedPhantoms_ViewerListsBothWithTheirMaps()
    {
        using var temp = new TempFolder();
        int blobPort = AzuriteServer.FreePort(), queuePort = AzuriteServer.FreePort(blobPort);
        string[] upArgs = ["up", "--data", temp.Path(UpCommand.DefaultDataFolder), "--blob-port", $"{blobPort}", "--queue-port", $"{queuePort}", "--viewer-port", "0"];
        string[] scans = [temp.Path("abnormal.nii.gz"), temp.Path("normal.nii.gz")];
        // Seed 1 at 128×128×64 is one of the acceptance test's 20 phantoms (GradCamPhantomTests), with its lesion mask.
        var abnormal = ChestPhantomFile.Write(scans[0], new ChestPhantomOptions { Shape = new VolumeShape(128, 128, 64), Seed = 1, Label = PhantomLabel.Abnormal, NoiseHu = 15 });
        ChestPhantomFile.WriteMask(temp.Path("abnormal.mask.nii.gz"), abnormal);
        ChestPhantomFile.Write(scans[1], new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 46), Seed = 12, Label = PhantomLabel.Normal });

        await using var up = await CtscanProcess.StartAsync(temp.Directory.FullName, upArgs, waitFor: UpCommand.ReadyLine);
        string viewer = System.Text.RegularExpressions.Regex.Match(up.Output, @"Viewer: (http://127\.0\.0\.1:\d+/)").Groups[1].Value;
        Assert.NotEmpty(viewer);
        var submit = await CtscanProcess.RunAsync(temp.Directory.FullName, ["submit", .. scans, "--wait", "--timeout", "120"]);
        Assert.True(submit.ExitCode == 0, submit.Output);

        using var http = new HttpClient { BaseAddress = new Uri(viewer) };
        var rows = await WaitForExplainedRowsAsync(http, expected: 2, TimeSpan.FromSeconds(120));
        Assert.Equal("abnormal.nii.gz normal.nii.gz", string.Join(' ', rows.Select(r => r.GetProperty("scan").GetString()).Order()));
        foreach (var row in rows)
        {
            Assert.Equal("scored", row.GetProperty("status").GetString());
            var links = row.GetProperty("explanation");
            byte[] map = await http.GetByteArrayAsync("api/results/" + links.GetProperty("map").GetString());
            byte[] montage = await http.GetByteArrayAsync("api/results/" + links.GetProperty("montage").GetString());
            Assert.True(map.Length > 352 && map[0] == 0x1f && map[1] == 0x8b, $"{row.GetProperty("scan")}: the map is not a gzipped NIfTI ({map.Length} bytes)");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, montage[..4]);
            // up's explain step runs Guided Grad-CAM on the checkpoint published with the bundled demo model.
            Assert.Equal(ExplanationMethods.GuidedGradCam, links.GetProperty("method").GetString());
            if (row.GetProperty("scan").GetString() == "abnormal.nii.gz")
            {
                string mapFile = temp.Path("abnormal.saliency.nii.gz");
                await File.WriteAllBytesAsync(mapFile, map);
                var (values, shape) = ReadVolume(mapFile);
                int peak = ExplainedScan.PeakIndexOf(values, shape);
                Assert.True(peak >= 0 && ReadVolume(temp.Path("abnormal.mask.nii.gz")).Values[peak] == 1,
                    $"the served map's peak (voxel {peak} of {shape}) lies outside the phantom's opacities");
            }
        }
        Assert.Contains("<canvas", await http.GetStringAsync(""));
        Assert.Equal(0, await up.SignalAndWaitAsync("INT"));
    }

    private static (float[] Values, VolumeShape Shape) ReadVolume(string path)
    {
        using var image = NiftiImage.Open(path);
        var shape = image.VolumeShape;
        var values = new float[shape.VoxelCount];
        var slice = new double[shape.SliceVoxelCount];
        var slices = image.OpenVolume();
        for (int k = 0; k < shape.Depth; k++)
        {
            slices.ReadNextSlice(slice);
            for (int n = 0; n < slice.Length; n++) values[k * slice.Length + n] = (float)slice[n];
        }
        return (values, shape);
    }

    /// <summary>Polls the viewer's results API until <paramref name="expected"/> rows link an explanation.</summary>
    private static async Task<System.Text.Json.JsonElement[]> WaitForExplainedRowsAsync(HttpClient http, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var page = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("api/results"));
            var rows = page.RootElement.EnumerateArray()
                .Where(r => r.TryGetProperty("explanation", out var e) && e.ValueKind == System.Text.Json.JsonValueKind.Object)
                .Select(r => r.Clone()).ToArray();
            if (rows.Length >= expected) return rows;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"after {timeout.TotalSeconds:0} s the viewer lists {rows.Length} of {expected} results with a map: {page.RootElement}");
            await Task.Delay(500);
        }
    }

    private static bool Accepts(int port)
    {
        using var client = new TcpClient();
        try { client.Connect(IPAddress.Loopback, port); return true; }
        catch (SocketException) { return false; }
    }

    /// <summary><c>dotnet ctscan.dll …</c> as a child process with captured output and no storage settings in its environment.</summary>
    private sealed class CtscanProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly string? _waitFor;
        private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private CtscanProcess(string workingDirectory, string[] args, string? waitFor)
        {
            _waitFor = waitFor;
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Ctscan);
            foreach (var arg in args) start.ArgumentList.Add(arg);
            start.Environment.Remove("CTSCAN_STORAGE");
            start.Environment.Remove("AzureWebJobsStorage");
            _process = new Process { StartInfo = start };
            _process.OutputDataReceived += (_, e) => OnLine(e.Data);
            _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Output { get { lock (_output) return _output.ToString(); } }

        private void OnLine(string? line)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
            if (_waitFor is not null && line.Contains(_waitFor, StringComparison.Ordinal)) _seen.TrySetResult();
        }

        public static async Task<CtscanProcess> StartAsync(string workingDirectory, string[] args, string waitFor)
        {
            var process = new CtscanProcess(workingDirectory, args, waitFor);
            var done = await Task.WhenAny(process._seen.Task, process._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(120)));
            if (done != process._seen.Task)
            {
                string output = process.Output;
                await process.DisposeAsync();
                throw new InvalidOperationException($"`ctscan {string.Join(' ', args)}` did not print '{waitFor}':\n{output}");
            }
            return process;
        }

        public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string workingDirectory, string[] args)
        {
            await using var process = new CtscanProcess(workingDirectory, args, null);
            await process._process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(150));
            return (process._process.ExitCode, process.Output, "");
        }

        /// <summary>Sends SIGINT/SIGTERM and returns the exit code (bounded wait).</summary>
        public async Task<int> SignalAndWaitAsync(string signal)
        {
            using (var kill = Process.Start("kill", [$"-{signal}", $"{_process.Id}"])) await kill!.WaitForExitAsync();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(45));
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }
}
