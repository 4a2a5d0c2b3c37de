using System.CommandLine;
using CtScan.Viewer;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan view [--port P] [--read-only] [--connection|--account-url]</c>: the results viewer alone, on 127.0.0.1,
/// against any storage account the other storage verbs reach. The page reads storage through the viewer's own API:
/// the connection string or sign-in stays in this process.
/// </summary>
internal static class ViewCommand
{
    /// <summary>The line printed once the page is served (tests wait for it).</summary>
    public const string ReadyLine = "ctscan view: ready";

    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = $"Port on 127.0.0.1 (0: a free one)", DefaultValueFactory = _ => ViewerOptions.DefaultPort };
        var readOnly = new Option<bool>("--read-only") { Description = "Hide the page's upload (drag and drop into scans)" };
        var storage = new StorageOptions();
        var command = new Command("view", "Serve the results viewer on 127.0.0.1: the results table, a scan in NiiVue with its saliency map, upload; until Ctrl+C")
        {
            port, readOnly,
        };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var options = ViewerOptions.Loopback(storage.Resolve(parse), parse.GetValue(port)) with { AllowUpload = !parse.GetValue(readOnly) };
            await using var viewer = await ViewerServer.StartAsync(options, cancellationToken: ct);
            if (NiivueScript.Find() is null) stdout.WriteLine($"warning: {NiivueScript.MissingMessage}");
            stdout.WriteLine($"Viewer: {viewer.PageUrl}");
            stdout.WriteLine($"{ReadyLine}; Ctrl+C stops");
            stdout.Flush();
            await viewer.WaitForShutdownAsync(ct);
            stdout.WriteLine("Stopped.");
        }, cancellationToken));
        return command;
    }
}
