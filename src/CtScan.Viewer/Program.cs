using CtScan.Pipeline;
using CtScan.Viewer;

// The viewer on its own (the Azure App Service; `ctscan view` hosts the same server from the CLI). Settings, as app
// settings or environment variables:
//   CtScanStorage__blobServiceUri, CtScanStorage__credential=managedidentity, CtScanStorage__clientId: storage by identity
//   (or CtScanStorage: a connection string), PORT / ASPNETCORE_URLS: where to listen (App Service sets them),
//   CtScan__ViewerAllowUpload: true lets the page upload scans (the Azure option leaves it off: its identity reads only).
var storage = PipelineOptions.FromSettings(Environment.GetEnvironmentVariable, "CtScanStorage");
string urls = Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is { Length: > 0 } configured ? configured
    : $"http://0.0.0.0:{Environment.GetEnvironmentVariable("PORT") ?? "8080"}";
await using var viewer = await ViewerServer.StartAsync(new ViewerOptions
{
    Storage = storage,
    Urls = urls.Split(';', StringSplitOptions.RemoveEmptyEntries),
    // Behind App Service the Host header is the app's own name; App Service Authentication guards who gets through.
    AllowedHosts = Environment.GetEnvironmentVariable("CtScan__ViewerAllowedHosts") ?? "*",
    AllowUpload = bool.TryParse(Environment.GetEnvironmentVariable("CtScan__ViewerAllowUpload"), out var upload) && upload,
});
Console.WriteLine($"ctscan viewer: {string.Join(", ", viewer.Urls)}");
await viewer.WaitForShutdownAsync();
