using System.IO.Compression;
using System.Security.Cryptography;
using CtScan.Cli.Datasets;

namespace CtScan.Cli.Tests.Datasets;

public sealed class DatasetDownloadTests : IAsyncLifetime
{
    private static readonly byte[] ScanA = TestZips.Noise(120_000, 1);
    private static readonly byte[] ScanB = TestZips.Text("second normal scan");
    private static readonly byte[] ScanC = TestZips.Noise(5_000, 3);

    // CT-0.zip holds its folder (as the release does); CT-23.zip holds only the files.
    private static readonly byte[] Normal = TestZips.Build(CompressionLevel.NoCompression, ("CT-0/", []), ("CT-0/study_0001.nii.gz", ScanA), ("CT-0/study_0002.nii.gz", ScanB));
    private static readonly byte[] Abnormal = TestZips.Build(CompressionLevel.Optimal, ("study_0940.nii.gz", ScanC));

    private readonly TestHttpServer _server = new();
    private readonly TempFolder _temp = new();

    private string Dir => _temp.Path("MosMedData");

    public Task InitializeAsync()
    {
        _server.Serve("CT-0.zip", Normal);
        _server.Serve("CT-23.zip", Abnormal);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _temp.Dispose();
    }

    private Task<(int ExitCode, string Output, string Error)> Download(params string[] extra) =>
        CliRunner.RunAsync(["dataset", "download", "mosmed", Dir, "--base-url", _server.BaseUrl, .. extra]);

    private string Part(string name) => Path.Combine(Dir, ".partial", name + ".part");

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task Download_EmptyFolder_ExtractsBothArchivesIntoTheTrainingLayout()
    {
        var (exit, output, error) = await Download();

        Assert.True(exit == 0, error);
        Assert.Equal(ScanA, File.ReadAllBytes(Path.Combine(Dir, "CT-0", "study_0001.nii.gz")));
        Assert.Equal(ScanB, File.ReadAllBytes(Path.Combine(Dir, "CT-0", "study_0002.nii.gz")));
        Assert.Equal(ScanC, File.ReadAllBytes(Path.Combine(Dir, "CT-23", "study_0940.nii.gz")));
        Assert.Equal(["study_0001.nii.gz", "study_0002.nii.gz"], Directory.GetFiles(Path.Combine(Dir, "CT-0"), "*.nii.gz").Select(Path.GetFileName).Order());
        Assert.Equal(Normal, File.ReadAllBytes(Path.Combine(Dir, "CT-0.zip")));
        Assert.False(File.Exists(Part("CT-0.zip")));
        Assert.Equal(["/CT-0.zip", "/CT-23.zip"], _server.Requests.Select(r => r.Path).Order());
        Assert.All(_server.Requests, r => Assert.Null(r.Range));
        // Non-interactive output: plain progress lines, no carriage returns, and the hash to pin.
        Assert.DoesNotContain('\r', output);
        Assert.Contains("CT-0.zip: started (", output);
        Assert.Contains("CT-0.zip: done,", output);
        Assert.Contains($"--sha256 CT-0.zip={Sha256(Normal)}", output);
        Assert.Contains("CT-23: 1 file downloaded and extracted", output);
    }

    [Fact]
    public async Task Download_ConnectionDroppedMidBody_ResumesWithARangeRequestAndTheSameBytes()
    {
        _server.Enqueue("CT-0.zip", Fault.DropMidBody);

        var (exit, output, error) = await Download();

        Assert.True(exit == 0, error);
        var requests = _server.RequestsFor("CT-0.zip");
        Assert.Equal(2, requests.Count);
        int half = Normal.Length / 2;
        Assert.Equal(half, requests[0].BytesSent);
        Assert.Null(requests[0].Range);
        Assert.Equal($"bytes={half}-", requests[1].Range);
        Assert.Equal(Normal.Length - half, requests[1].BytesSent);
        Assert.Equal(Normal, File.ReadAllBytes(Path.Combine(Dir, "CT-0.zip")));
        Assert.Contains($"lost at byte {half} of {Normal.Length}", output);
        Assert.Contains("retrying in 1 s", output);
    }

    [Fact]
    public async Task Download_ExistingPartFile_ResumesFromItsLength()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Part("CT-0.zip"))!);
        File.WriteAllBytes(Part("CT-0.zip"), Normal[..1000]);

        var (exit, output, error) = await Download();

        Assert.True(exit == 0, error);
        var request = Assert.Single(_server.RequestsFor("CT-0.zip"));
        Assert.Equal("bytes=1000-", request.Range);
        Assert.Equal(Normal.Length - 1000, request.BytesSent);
        Assert.Equal(Normal, File.ReadAllBytes(Path.Combine(Dir, "CT-0.zip")));
        Assert.Contains("resuming at 1.0 KB", output);
    }

    [Fact]
    public async Task Download_ServerIgnoresRange_RestartsCleanlyInsteadOfAppending()
    {
        // A part whose bytes are wrong: appending a full 200 body to it would corrupt the archive.
        Directory.CreateDirectory(Path.GetDirectoryName(Part("CT-0.zip"))!);
        File.WriteAllBytes(Part("CT-0.zip"), new byte[1000]);
        _server.IgnoreRange = true;

        var (exit, output, error) = await Download();

        Assert.True(exit == 0, error);
        var request = Assert.Single(_server.RequestsFor("CT-0.zip"));
        Assert.Equal("bytes=1000-", request.Range);
        Assert.Equal(Normal.Length, request.BytesSent);
        Assert.Equal(Normal, File.ReadAllBytes(Path.Combine(Dir, "CT-0.zip")));
        Assert.Contains("does not resume (HTTP 200 to a Range request); restarting", output);
    }

    [Fact]
    public async Task Download_PartLongerThanTheFile_416RestartsCleanly()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Part("CT-0.zip"))!);
        File.WriteAllBytes(Part("CT-0.zip"), new byte[Normal.Length + 10]);

        var (exit, _, error) = await Download();

        Assert.True(exit == 0, error);
        var requests = _server.RequestsFor("CT-0.zip");
        Assert.Equal([$"bytes={Normal.Length + 10}-", null], requests.Select(r => r.Range));
        Assert.Equal(Normal, File.ReadAllBytes(Path.Combine(Dir, "CT-0.zip")));
    }

    [Fact]
    public async Task Download_PartAlreadyComplete_416IsAcceptedWithoutDownloadingAgain()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Part("CT-0.zip"))!);
        File.WriteAllBytes(Part("CT-0.zip"), Normal);

        var (exit, _, error) = await Download();

        Assert.True(exit == 0, error);
        var request = Assert.Single(_server.RequestsFor("CT-0.zip"));
        Assert.Equal($"bytes={Normal.Length}-", request.Range);
        Assert.Equal(ScanA, File.ReadAllBytes(Path.Combine(Dir, "CT-0", "study_0001.nii.gz")));
    }

    [Fact]
    public async Task Download_ServerErrorOnce_RetriesAndSucceeds()
    {
        _server.Enqueue("CT-23.zip", Fault.ServerError);

        var (exit, output, error) = await Download();

        Assert.True(exit == 0, error);
        Assert.Equal(2, _server.RequestsFor("CT-23.zip").Count);
        Assert.Contains($"CT-23.zip: GET {_server.BaseUrl}CT-23.zip failed: HTTP 500 (Internal Server Error); retrying", output);
        Assert.Equal(ScanC, File.ReadAllBytes(Path.Combine(Dir, "CT-23", "study_0940.nii.gz")));
    }

    [Fact]
    public async Task Download_ServerErrorEveryTime_GivesUpAfterTheRetries()
    {
        for (int i = 0; i < 5; i++) _server.Enqueue("CT-0.zip", Fault.ServerError);

        var (exit, _, error) = await Download("--retries", "1");

        Assert.Equal(2, exit);
        Assert.Equal(2, _server.RequestsFor("CT-0.zip").Count);
        Assert.Contains("HTTP 500", error);
        Assert.Contains("gave up after 2 attempts", error);
    }

    [Fact]
    public async Task Download_NotFound_ExitsWith2AndNamesTheUrl()
    {
        _server.Serve("CT-0.zip", Normal);
        var (exit, _, error) = await CliRunner.RunAsync("dataset", "download", "mosmed", Dir, "--base-url", _server.BaseUrl + "v9.9");

        Assert.Equal(2, exit);
        Assert.Equal($"error: CT-0.zip: GET {_server.BaseUrl}v9.9/CT-0.zip failed: HTTP 404 (Not Found)", error.Trim());
        Assert.Single(_server.Requests); // 404 is not retried.
    }

    [Fact]
    public async Task Download_ConnectionRefused_ExitsWith2AndSaysSo()
    {
        var (exit, _, error) = await CliRunner.RunAsync("dataset", "download", "mosmed", Dir, "--base-url", "http://127.0.0.1:1/", "--retries", "0");

        Assert.Equal(2, exit);
        Assert.StartsWith("error: CT-0.zip: GET http://127.0.0.1:1/CT-0.zip failed: connection refused", error);
    }

    [Fact]
    public async Task Download_CorruptEntry_FailsNamingTheArchiveAndDeletesThePart()
    {
        _server.Serve("CT-0.zip", TestZips.FlipBitIn(Normal, ScanA[1000..1032]));

        var (exit, _, error) = await Download();

        Assert.Equal(2, exit);
        Assert.Contains("error: CT-0.zip is corrupt: entry 'CT-0/study_0001.nii.gz' fails its CRC-32 check", error);
        Assert.False(File.Exists(Part("CT-0.zip")));
        Assert.False(File.Exists(Path.Combine(Dir, "CT-0.zip")));
        Assert.False(Directory.Exists(Path.Combine(Dir, "CT-0")));
    }

    [Fact]
    public async Task Download_NotAZip_FailsNamingTheArchive()
    {
        _server.Serve("CT-23.zip", TestZips.Text("<html>rate limited</html>"));

        var (exit, _, error) = await Download();

        Assert.Equal(2, exit);
        Assert.StartsWith("error: CT-23.zip is corrupt:", error);
    }

    [Fact]
    public async Task Download_Sha256Mismatch_NamesBothHashesAndDeletesThePart()
    {
        string wrong = new('0', 64);

        var (exit, _, error) = await Download("--sha256", $"CT-0.zip={wrong}");

        Assert.Equal(2, exit);
        Assert.Contains($"CT-0.zip: SHA-256 mismatch for {_server.BaseUrl}CT-0.zip: expected {wrong}, actual {Sha256(Normal)}", error);
        Assert.False(File.Exists(Part("CT-0.zip")));
        Assert.False(File.Exists(Path.Combine(Dir, "CT-0.zip")));
    }

    [Fact]
    public async Task Download_Sha256Pinned_AcceptsTheMatchingArchive()
    {
        var (exit, output, error) = await Download("--sha256", $"CT-23.zip={Sha256(Abnormal).ToUpperInvariant()}");

        Assert.True(exit == 0, error);
        Assert.Contains($"sha256 {Sha256(Abnormal)} (matches the pinned value)", output);
    }

    [Theory]
    [InlineData("CT-1.zip=" + "00000000000000000000000000000000000000000000000000000000000000aa", "NAME one of {CT-0.zip, CT-23.zip}")]
    [InlineData("CT-0.zip=abc", "needs 64 hex digits; got 'abc' (3 characters)")]
    public async Task Download_BadSha256Pin_ExitsWith2BeforeAnyRequest(string pin, string expected)
    {
        var (exit, _, error) = await Download("--sha256", pin);

        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
        Assert.Empty(_server.Requests);
    }

    [Theory]
    [InlineData("CT-0/../../evil.txt")]
    [InlineData("../evil.txt")]
    [InlineData("/tmp/ctscan-zip-slip-evil.txt")]
    public async Task Download_ZipSlipEntry_IsRejectedAndNothingIsExtracted(string entry)
    {
        _server.Serve("CT-0.zip", TestZips.Build(CompressionLevel.Optimal, ("CT-0/ok.nii.gz", ScanB), (entry, TestZips.Text("pwned"))));

        var (exit, _, error) = await Download();

        Assert.Equal(2, exit);
        Assert.Contains($"CT-0.zip is unsafe: entry '{entry}' would be written outside {Path.Combine(Dir, "CT-0")} (zip-slip)", error);
        Assert.False(File.Exists(_temp.Path("evil.txt")));
        Assert.False(File.Exists(Path.Combine(Dir, "evil.txt")));
        Assert.False(File.Exists("/tmp/ctscan-zip-slip-evil.txt"));
        Assert.False(File.Exists(Path.Combine(Dir, "CT-0", "ok.nii.gz")));
    }

    [Fact]
    public async Task Download_SecondRun_SendsNoRequest()
    {
        var first = await Download();
        Assert.True(first.ExitCode == 0, first.Error);
        int requests = _server.Requests.Count;

        var (exit, output, error) = await Download();

        Assert.True(exit == 0, error);
        Assert.Equal(2, requests);
        Assert.Equal(2, _server.Requests.Count);
        Assert.Contains($"CT-0: already in {Path.Combine(Dir, "CT-0")} (2 files); nothing to do", output);
        Assert.Contains($"CT-23: already in {Path.Combine(Dir, "CT-23")} (1 file); nothing to do", output);
    }

    [Fact]
    public async Task Download_ArchiveThereButNotExtracted_ExtractsWithoutARequest()
    {
        Directory.CreateDirectory(Dir);
        File.WriteAllBytes(Path.Combine(Dir, "CT-0.zip"), Normal);

        var (exit, output, error) = await Download();

        Assert.True(exit == 0, error);
        Assert.Empty(_server.RequestsFor("CT-0.zip"));
        Assert.Equal(ScanA, File.ReadAllBytes(Path.Combine(Dir, "CT-0", "study_0001.nii.gz")));
        Assert.Contains("CT-0: 2 files extracted from the archive already downloaded", output);
    }

    [Fact]
    public async Task Download_Force_DownloadsAndExtractsAgain()
    {
        Assert.Equal(0, (await Download()).ExitCode);
        File.Delete(Path.Combine(Dir, "CT-0", "study_0002.nii.gz"));

        var (exit, _, error) = await Download("--force");

        Assert.True(exit == 0, error);
        Assert.Equal(4, _server.Requests.Count);
        Assert.Equal(ScanB, File.ReadAllBytes(Path.Combine(Dir, "CT-0", "study_0002.nii.gz")));
    }
}
