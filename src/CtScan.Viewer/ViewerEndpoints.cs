using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CtScan.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace CtScan.Viewer;

/// <summary>
/// The page and its API. The browser only ever talks to these routes: storage is reached from here with the
/// viewer's own connection or identity, and no key, connection string or SAS goes to the page.
/// </summary>
public static class ViewerEndpoints
{
    /// <summary>A header the page sends with uploads: a cross-site form cannot set it without a CORS preflight, which the viewer never grants.</summary>
    public const string UploadHeader = "X-CtScan-Viewer";

    // The page loads scripts, styles, images and data from the viewer only (NiiVue makes blob: URLs for its workers and fonts).
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' data: blob:; " +
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

    public static void Map(IEndpointRouteBuilder app, ViewerOptions options, PipelineClients clients, ResultCatalog catalog, StaticAssets assets, string? niivueScript)
    {
        app.MapGet("/", (HttpContext context) => Asset(context, assets, "index.html"));
        app.MapGet("/viewer.js", (HttpContext context) => Asset(context, assets, "viewer.js"));
        app.MapGet("/viewer.css", (HttpContext context) => Asset(context, assets, "viewer.css"));
        app.MapGet("/vendor/niivue/index.js", () => niivueScript is null
            ? Results.Problem(NiivueScript.MissingMessage, statusCode: StatusCodes.Status404NotFound)
            : Results.File(niivueScript, "text/javascript; charset=utf-8"));

        app.MapGet("/api/config", () => Results.Json(new ViewerConfig(options.PollMilliseconds, options.AllowUpload,
            niivueScript is null ? NiivueScript.MissingMessage : null, clients.Options.ScansContainer, clients.Options.ResultsContainer)));
        app.MapGet("/api/results", async (string? status, string? label, CancellationToken ct) =>
            Results.Json(await catalog.ListAsync(status, label, ct)));
        app.MapGet("/api/results/{**name}", (HttpContext context, string name, CancellationToken ct) => SendBlobAsync(context, clients.Results, name, ct));
        app.MapGet("/api/scans/{**name}", (HttpContext context, string name, CancellationToken ct) => SendBlobAsync(context, clients.Scans, name, ct));
        app.MapPut("/api/scans/{**name}", (HttpContext context, string name, CancellationToken ct) => UploadAsync(context, options, clients, name, ct));
    }

    private static IResult Asset(HttpContext context, StaticAssets assets, string file)
    {
        if (assets.Get(file) is not { } bytes) return Results.NotFound();
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(bytes, StaticAssets.ContentType(file));
    }

    /// <summary>Streams a blob to the browser (scans can be hundreds of MB: never buffered here).</summary>
    private static async Task<IResult> SendBlobAsync(HttpContext context, BlobContainerClient container, string name, CancellationToken ct)
    {
        if (BlobNames.Problem(name) is { } problem) return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
        try
        {
            var download = await container.GetBlobClient(name).DownloadStreamingAsync(cancellationToken: ct);
            await using var content = download.Value.Content;
            context.Response.ContentType = BlobNames.ContentType(name);
            context.Response.ContentLength = download.Value.Details.ContentLength;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.CacheControl = "no-cache";
            await content.CopyToAsync(context.Response.Body, ct);
            return Results.Empty;
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return Results.Problem($"{container.Name}/{name} does not exist", statusCode: StatusCodes.Status404NotFound);
        }
    }

    private static async Task<IResult> UploadAsync(HttpContext context, ViewerOptions options, PipelineClients clients, string name, CancellationToken ct)
    {
        if (!options.AllowUpload)
            return Results.Problem("this viewer does not upload scans (it reads storage only); upload with `ctscan submit` or `az storage blob upload`",
                statusCode: StatusCodes.Status403Forbidden);
        if (context.Request.Headers[UploadHeader] != "upload")
            return Results.Problem($"uploads come from the viewer's page only (header {UploadHeader}: upload)", statusCode: StatusCodes.Status403Forbidden);
        if (BlobNames.Problem(name) is { } problem) return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
        if (!BlobNames.IsNifti(name))
            return Results.Problem($"{name}: only .nii and .nii.gz scans are scored; this file would be rejected as unsupported-format", statusCode: StatusCodes.Status400BadRequest);
        long max = clients.Options.MaxScanBytes;
        if (context.Request.ContentLength is > 0 and var length && length > max)
            return Results.Problem($"{name}: {length} bytes is over the pipeline's limit of {max} bytes (CtScan__MaxScanBytes)", statusCode: StatusCodes.Status413PayloadTooLarge);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = max;

        await clients.Scans.CreateIfNotExistsAsync(cancellationToken: ct);
        try
        {
            // Never replaces a scan: the result of the one already there would silently change meaning.
            await clients.Scans.GetBlobClient(name).UploadAsync(context.Request.Body,
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, ct);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status409Conflict)
        {
            return Results.Problem($"{clients.Options.ScansContainer}/{name} exists already; rename the file to submit it again", statusCode: StatusCodes.Status409Conflict);
        }
        return Results.Created($"/api/scans/{name}", new { scan = name });
    }
}

/// <summary>What the page needs to know about this viewer (no storage secret is among it).</summary>
public sealed record ViewerConfig(int PollMilliseconds, bool AllowUpload, string? NiivueMissing, string ScansContainer, string ResultsContainer);
