using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CtScan.Viewer.Tests;

/// <summary>The viewer's HTTP API against the pipeline on Azurite: what the page reads, what it may write, what it never gets.</summary>
[Collection(ViewerCollection.Name)]
public sealed class ViewerApiTests(ViewerFixture fixture) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = fixture.Page };

    public void Dispose() => _http.Dispose();

    private async Task<JsonArray> RowsAsync(string query = "") =>
        JsonNode.Parse(await _http.GetStringAsync($"api/results{query}"))!.AsArray();

    [Fact]
    public async Task Results_OneRowPerResultDocument_WithTheTableColumns()
    {
        var rows = await RowsAsync();

        var byScan = rows.ToDictionary(r => (string)r!["scan"]!, r => r!.AsObject());
        Assert.Equal([ViewerFixture.BrokenScan, ViewerFixture.AbnormalScan, ViewerFixture.NormalScan], byScan.Keys.Order(StringComparer.Ordinal));
        var abnormal = byScan[ViewerFixture.AbnormalScan];
        Assert.Equal("scored", (string?)abnormal["status"]);
        Assert.Equal(ViewerFixture.ModelVersion, (string?)abnormal["modelVersion"]);
        Assert.InRange((double)abnormal["probabilityAbnormal"]!, 0, 1);
        Assert.Contains((string?)abnormal["label"], new[] { "normal", "abnormal" });
        Assert.Equal($"{ViewerFixture.AbnormalScan}.saliency.nii.gz", (string?)abnormal["explanation"]!["map"]);
        Assert.Null(byScan[ViewerFixture.NormalScan]["explanation"]);
        var broken = byScan[ViewerFixture.BrokenScan];
        Assert.Equal("rejected", (string?)broken["status"]);
        Assert.Equal("unreadable-input", (string?)broken["errorCode"]);
        Assert.Contains(ViewerFixture.BrokenScan, (string?)broken["errorMessage"]);
    }

    [Fact]
    public async Task Results_FilteredByStatusAndLabel()
    {
        Assert.Equal([ViewerFixture.BrokenScan], (await RowsAsync("?status=rejected")).Select(r => (string)r!["scan"]!));
        var scored = (await RowsAsync("?status=scored")).Select(r => (string)r!["scan"]!).Order(StringComparer.Ordinal);
        Assert.Equal([ViewerFixture.AbnormalScan, ViewerFixture.NormalScan], scored);
        var all = await RowsAsync();
        foreach (var label in new[] { "normal", "abnormal" })
        {
            var expected = all.Where(r => (string?)r!["label"] == label).Select(r => (string)r!["scan"]!).ToList();
            Assert.Equal(expected, (await RowsAsync($"?label={label}")).Select(r => (string)r!["scan"]!));
        }
    }

    [Fact]
    public async Task ResultDocument_IsTheStoredJson_ScanIsTheStoredBytes()
    {
        var stored = (await fixture.Services.Clients.Results.GetBlobClient($"{ViewerFixture.AbnormalScan}.json").DownloadContentAsync()).Value.Content.ToString();
        Assert.Equal(stored, await _http.GetStringAsync($"api/results/{ViewerFixture.AbnormalScan}.json"));

        using var scan = await _http.GetAsync($"api/scans/{ViewerFixture.AbnormalScan}");
        Assert.Equal(HttpStatusCode.OK, scan.StatusCode);
        Assert.Equal(fixture.AbnormalBytes, await scan.Content.ReadAsByteArrayAsync());
        Assert.Equal(fixture.AbnormalBytes.Length, scan.Content.Headers.ContentLength);

        using var montage = await _http.GetAsync($"api/results/{ViewerFixture.AbnormalScan}.saliency.png");
        Assert.Equal("image/png", montage.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("api/results/missing.nii.gz.json", HttpStatusCode.NotFound)]
    // Escaped slashes stay in the name (a blob literally called so, which does not exist), never a path to models/.
    [InlineData("api/scans/..%2Fmodels%2Fcurrent.json", HttpStatusCode.NotFound)]
    [InlineData("api/results/..%2F..%2Fmodels/current.json", HttpStatusCode.NotFound)]
    public async Task BadNames_AreNotFound_NeverAnotherContainer(string path, HttpStatusCode expected)
    {
        using var response = await _http.GetAsync(path);

        Assert.Equal(expected, response.StatusCode);
        Assert.DoesNotContain("\"version\"", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("../models/current.json")]
    [InlineData("ward-3/./x.nii.gz")]
    [InlineData("a//b.nii.gz")]
    [InlineData("a\\b.nii.gz")]
    [InlineData("")]
    public void BlobNames_DotSegmentsAndBackslashes_AreRefusedBeforeStorage(string name) =>
        // A raw request can carry such a name past a client's normalisation; the URL the storage client builds would
        // then be normalised into another container.
        Assert.NotNull(BlobNames.Problem(name));

    [Fact]
    public void BlobNames_OrdinaryNames_PassUnchanged() => Assert.Null(BlobNames.Problem("ward-3/2026-11-29/scan é 1.nii.gz"));

    [Fact]
    public async Task NothingServed_HoldsTheConnectionStringOrAKey()
    {
        var key = fixture.ConnectionString.Split(';').Single(p => p.StartsWith("AccountKey=", StringComparison.Ordinal))["AccountKey=".Length..];
        foreach (var path in new[] { "", "viewer.js", "viewer.css", "api/config", "api/results", $"api/results/{ViewerFixture.AbnormalScan}.json" })
        {
            string body = await _http.GetStringAsync(path);
            Assert.DoesNotContain(key, body);
            Assert.DoesNotContain("AccountKey", body);
            Assert.DoesNotContain("sig=", body); // no SAS either
        }
        using var page = await _http.GetAsync("");
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task ForeignHostHeader_IsRefused()
    {
        // DNS rebinding: a page on evil.example re-pointed at 127.0.0.1 would send its own name.
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/results");
        request.Headers.Host = "evil.example";

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Upload_WritesIntoScans_OnceAndOnlyFromThePage()
    {
        string name = $"uploads/{Guid.NewGuid():N}.nii.gz";
        var bytes = fixture.AbnormalBytes;

        using var withoutHeader = await _http.PutAsync($"api/scans/{name}", new ByteArrayContent(bytes));
        Assert.Equal(HttpStatusCode.Forbidden, withoutHeader.StatusCode);
        Assert.False((await fixture.Services.Clients.Scans.GetBlobClient(name).ExistsAsync()).Value);

        using var created = await PutFromPageAsync(name, bytes);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(bytes, (await fixture.Services.Clients.Scans.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToArray());

        using var again = await PutFromPageAsync(name, bytes);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("exists already", await again.Content.ReadAsStringAsync());

        using var text = await PutFromPageAsync("notes.txt", "hello"u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
        Assert.Contains("only .nii and .nii.gz", await text.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> PutFromPageAsync(string name, byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var request = new HttpRequestMessage(HttpMethod.Put, $"api/scans/{name}") { Content = content };
        request.Headers.Add(ViewerEndpoints.UploadHeader, "upload");
        return _http.SendAsync(request);
    }

    [Fact]
    public async Task Config_SaysWhatThePageNeeds()
    {
        var config = JsonNode.Parse(await _http.GetStringAsync("api/config"))!;

        Assert.True((bool)config["allowUpload"]!);
        Assert.Null((string?)config["niivueMissing"]); // npm ci installed @niivue/niivue
        using var niivue = await _http.GetAsync("vendor/niivue/index.js");
        Assert.Equal(HttpStatusCode.OK, niivue.StatusCode);
        Assert.Contains("Niivue", await niivue.Content.ReadAsStringAsync());
        _ = JsonSerializer.Serialize(config); // valid JSON
    }
}
