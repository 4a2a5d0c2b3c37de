using System.Net;
using Azure;
using CtScan.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CtScan.Viewer;

/// <summary>
/// The viewer running on Kestrel: started by <c>ctscan up</c> beside the pipeline, by <c>ctscan view</c> alone, or by
/// the App Service host (Program.cs). Dispose stops it.
/// </summary>
public sealed class ViewerServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ViewerServer(WebApplication app, IReadOnlyList<string> urls)
    {
        _app = app;
        Urls = urls;
    }

    /// <summary>The addresses it listens on, with the real port where 0 was asked for.</summary>
    public IReadOnlyList<string> Urls { get; }

    /// <summary>The page's address (the first URL, with a trailing slash).</summary>
    public string PageUrl => Urls[0].TrimEnd('/') + "/";

    /// <summary>Builds and starts the viewer; <see cref="ViewerPortInUseException"/> when its port is taken.</summary>
    /// <param name="configureLogging">Where its logs go (null: warnings and errors to the console).</param>
    public static async Task<ViewerServer> StartAsync(ViewerOptions options, Action<ILoggingBuilder>? configureLogging = null, CancellationToken cancellationToken = default)
    {
        options = (options ?? throw new ArgumentNullException(nameof(options))).Validated();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ViewerServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        if (configureLogging is null) builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        else configureLogging(builder.Logging);
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Services.AddHostFiltering(h => h.AllowedHosts = options.AllowedHosts.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.Services.AddProblemDetails();

        var app = builder.Build();
        app.UseHostFiltering();
        app.Use(StorageFailures);
        var clients = new PipelineClients(options.Storage);
        string? niivue = options.NiivueScriptPath ?? NiivueScript.Find();
        ViewerEndpoints.Map(app, options, clients, new ResultCatalog(clients.Results), new StaticAssets(), niivue);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new ViewerPortInUseException(options.Urls[0], e);
        }
        return new ViewerServer(app, [.. app.Urls]);
    }

    /// <summary>Storage that refuses or does not answer: the page shows a message naming why, not a bare 500.</summary>
    private static async Task StorageFailures(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is RequestFailedException or HttpRequestException or AggregateException)
        {
            string detail = e is RequestFailedException { Status: > 0 } refused
                ? $"the storage account refused the request: HTTP {refused.Status} {refused.ErrorCode}; check the viewer's connection or its identity's role assignments"
                : $"cannot reach the storage account: {e.Message.Split('\n')[0]}";
            context.Response.StatusCode = (int)HttpStatusCode.BadGateway;
            await Results.Problem(detail, statusCode: StatusCodes.Status502BadGateway).ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the host is told to stop (Ctrl+C, SIGTERM on the App Service) or <paramref name="cancellationToken"/> fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
