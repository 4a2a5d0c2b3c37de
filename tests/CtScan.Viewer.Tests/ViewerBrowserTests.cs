using System.Diagnostics;
using CtScan.Tests;
using PuppeteerSharp;
using Xunit.Abstractions;

namespace CtScan.Viewer.Tests;

/// <summary>
/// The page in a real browser: Debian's Chromium (apt-get install chromium; .ci/run installs it), headless, driven over
/// the DevTools protocol by PuppeteerSharp, against the viewer on a pipeline on Azurite. No browser is downloaded.
/// </summary>
[Collection(ViewerCollection.Name)]
public sealed class ViewerBrowserTests(ViewerFixture fixture, ITestOutputHelper output)
{
    /// <summary>Where the browser is; CTSCAN_CHROMIUM overrides.</summary>
    private static string ChromiumPath => Environment.GetEnvironmentVariable("CTSCAN_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>
    /// Where the test leaves its screenshot of the page: the test's output folder, or README's picture
    /// (docs/images/viewer.png) when CTSCAN_REFRESH_DOCS_IMAGES=1, so a plain test run leaves the work tree clean.
    /// </summary>
    private static string ScreenshotPath => Environment.GetEnvironmentVariable("CTSCAN_REFRESH_DOCS_IMAGES") == "1"
        ? Path.GetFullPath(Fixtures.Path("..", "..", "docs", "images", "viewer.png"))
        : Path.Combine(AppContext.BaseDirectory, "screenshots", "viewer.png");

    private async Task<IBrowser> LaunchAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} does not exist: install Debian's Chromium (apt-get install -y chromium) or set CTSCAN_CHROMIUM");
        return await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // A fresh profile per run; nothing reaches the network but the viewer on 127.0.0.1.
            UserDataDir = fixture.TempPath($"chromium-{Guid.NewGuid():N}"),
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                // WebGL2 (NiiVue) with no GPU: Chromium's software renderer, which it only offers when asked.
                "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
            ],
            DefaultViewport = new ViewPortOptions { Width = 1400, Height = 900 },
            Timeout = 60_000,
        });
    }

    [Fact]
    public async Task Page_ListsResults_ShowsAScoredVolumeAndARejectedMessage_AndNewResultsWithoutReload()
    {
        var clock = Stopwatch.StartNew();
        await using var browser = await LaunchAsync();
        await using var page = await browser.NewPageAsync();
        var consoleLines = new List<string>();
        page.Console += (_, e) => consoleLines.Add($"{e.Message.Type}: {e.Message.Text}");
        page.PageError += (_, e) => consoleLines.Add($"page error: {e.Message}");
        page.DefaultTimeout = 30_000;

        await page.GoToAsync(fixture.Page.AbsoluteUri);
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#results tbody tr').length === 3");
        var names = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#results tbody tr')].map(r => r.dataset.name)");
        Assert.Equal(
            [$"{ViewerFixture.BrokenScan}.json", $"{ViewerFixture.AbnormalScan}.json", $"{ViewerFixture.NormalScan}.json"],
            names.Order(StringComparer.Ordinal));

        // A scored scan with a saliency map: NiiVue draws the volume, the overlay gets its slider, the montage shows.
        await page.ClickAsync($"#results tbody tr[data-name='{ViewerFixture.AbnormalScan}.json']");
        await page.WaitForFunctionAsync("() => ['loaded', 'error'].includes(document.getElementById('volume-status').dataset.state)");
        string volumeStatus = await page.EvaluateExpressionAsync<string>("document.getElementById('volume-status').textContent");
        Assert.True(await page.EvaluateExpressionAsync<string>("document.getElementById('volume-status').dataset.state") == "loaded",
            $"NiiVue did not load the scan: {volumeStatus}\n{string.Join('\n', consoleLines)}");
        Assert.False(await page.EvaluateExpressionAsync<bool>("document.getElementById('opacity-control').hidden"));
        await page.WaitForFunctionAsync("() => document.getElementById('montage').complete && document.getElementById('montage').naturalWidth > 0");
        Assert.Contains("\"status\": \"scored\"", await page.EvaluateExpressionAsync<string>("document.getElementById('json').textContent"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('error').hidden"));

        // Let NiiVue finish its frame, then look at what the canvas shows: a black background unless the volume is drawn.
        await page.EvaluateExpressionHandleAsync("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
        var canvas = await page.QuerySelectorAsync("#gl");
        var pixels = PngPixels.Decode(await canvas.ScreenshotDataAsync(new ElementScreenshotOptions { Type = ScreenshotType.Png }));
        int drawn = pixels.CountUnlike(0, 0, 0, tolerance: 24);
        double share = drawn / (double)(pixels.Width * pixels.Height);
        output.WriteLine($"canvas {pixels.Width}x{pixels.Height}: {drawn} non-background pixels ({share:P1})");
        Assert.True(share > 0.02, $"the canvas is background only ({drawn} of {pixels.Width * pixels.Height} pixels differ from black)");

        Directory.CreateDirectory(Path.GetDirectoryName(ScreenshotPath)!);
        await page.ScreenshotAsync(ScreenshotPath, new ScreenshotOptions { Type = ScreenshotType.Png });
        output.WriteLine($"screenshot: {ScreenshotPath}");

        // A rejected scan: its code and message.
        await page.ClickAsync($"#results tbody tr[data-name='{ViewerFixture.BrokenScan}.json']");
        await page.WaitForFunctionAsync("() => !document.getElementById('error').hidden");
        Assert.Equal("unreadable-input", await page.EvaluateExpressionAsync<string>("document.getElementById('error-code').textContent"));
        string message = await page.EvaluateExpressionAsync<string>("document.getElementById('error-message').textContent");
        Assert.Contains(ViewerFixture.BrokenScan, message);

        // Upload from the page (its file input, what a drop does too); once the pipeline answers, the row appears with no reload.
        string live = $"live-{Guid.NewGuid():N}.nii.gz", file = fixture.TempPath(live);
        await File.WriteAllBytesAsync(file, fixture.AbnormalBytes[..300]);
        try
        {
            var input = await page.QuerySelectorAsync("#file-input");
            await input.UploadFileAsync(file);
            await page.WaitForFunctionAsync("() => document.getElementById('uploads').textContent.includes('uploaded')");
            await fixture.Services.Ingestor.IngestBlobAsync(live); // what the blob trigger does
            await page.WaitForFunctionAsync($"() => [...document.querySelectorAll('#results tbody tr')].some(r => r.dataset.name === '{live}.json')");
            Assert.Equal(4, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#results tbody tr').length"));
        }
        finally
        {
            await fixture.Services.Clients.Results.DeleteBlobIfExistsAsync($"{live}.json");
            await fixture.Services.Clients.Scans.DeleteBlobIfExistsAsync(live);
        }
        output.WriteLine($"browser test: {clock.Elapsed.TotalSeconds:F1} s");
    }
}
