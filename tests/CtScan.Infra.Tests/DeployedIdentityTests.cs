using CtFunctions;
using CtScan.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CtScan.Infra.Tests;

/// <summary>
/// The settings the template gives the Functions app and the training job, with the values ARM fills in, fed to the
/// code those processes run: the storage sign-in must be the deployment's user-assigned identity (finding 1: the app had
/// no AZURE_CLIENT_ID and the pipeline ignored AzureWebJobsStorage__clientId, so no handler could reach storage).
/// </summary>
[Collection(MainTemplateCollection.Name)]
public sealed class DeployedIdentityTests(MainTemplateFixture main)
{
    private const string FunctionClientId = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e";
    private const string TrainingClientId = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    private const string BlobEndpoint = "https://stctfuncx7k2.blob.core.windows.net/";
    private const string QueueEndpoint = "https://stctfuncx7k2.queue.core.windows.net/";

    /// <summary>
    /// What ARM substitutes for each expression the app settings use (inside the functions module). An expression
    /// missing here fails the test: a new setting must be resolved here on purpose.
    /// </summary>
    private static readonly Dictionary<string, string> FunctionsModuleValues = new()
    {
        ["[parameters('identityClientId')]"] = FunctionClientId,
        ["[reference(resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName')), '2023-05-01').primaryEndpoints.blob]"] = BlobEndpoint,
        ["[reference(resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName')), '2023-05-01').primaryEndpoints.queue]"] = QueueEndpoint,
        ["[string(parameters('logScanNames'))]"] = "False", // ARM's string(false)
        ["[if(parameters('logScanNames'), 'Information', 'Warning')]"] = "Warning",
        ["[reference(resourceId('Microsoft.Insights/components', parameters('appInsightsName')), '2020-02-02').ConnectionString]"] =
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/",
        ["[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]"] = $"ClientId={FunctionClientId};Authorization=AAD",
    };

    private static string Resolve(IReadOnlyDictionary<string, string> values, string value) =>
        !value.StartsWith('[') ? value
        : values.TryGetValue(value, out var resolved) ? resolved
        : throw new Xunit.Sdk.XunitException($"no value for the ARM expression {value}: add what ARM gives it to the table");

    private Dictionary<string, string> AppSettings()
    {
        var site = main.Compiled.Single("Microsoft.Web/sites", "functions");
        return site.Properties["siteConfig"]!["appSettings"]!.AsArray()
            .ToDictionary(s => (string)s!["name"]!, s => Resolve(FunctionsModuleValues, (string)s!["value"]!));
    }

    [Fact]
    public void AppSettings_TheModuleGetsTheFunctionIdentitysClientId()
    {
        Assert.Equal("[reference('functionIdentity').clientId]", (string?)main.Compiled.ModuleParameters("functions")["identityClientId"]!["value"]);
        Assert.Equal("[parameters('logScanNames')]", (string?)main.Compiled.ModuleParameters("functions")["logScanNames"]!["value"]);
        Assert.False(main.Compiled.DefaultOf("logScanNames")!.GetValue<bool>());
    }

    [Fact]
    public void AppSettings_FedToPipelineOptions_SignInAsTheAppsIdentity_AtTheAccountsEndpoints()
    {
        var settings = AppSettings();

        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key));
        var clients = new PipelineClients(options);

        Assert.Equal(StorageSignIn.ForManagedIdentity(FunctionClientId), options.SignIn);
        Assert.IsType<Azure.Identity.ManagedIdentityCredential>(options.SignIn.CreateCredential());
        Assert.Null(options.ConnectionString);
        Assert.Equal(BlobEndpoint, clients.BlobService.Uri.AbsoluteUri);
        Assert.Equal(QueueEndpoint, clients.QueueService.Uri.AbsoluteUri);
        Assert.False(options.LogScanNames);
    }

    [Fact]
    public void AppWiring_FromTheAppSettings_ActivatesEveryFunction()
    {
        // App settings reach the worker as environment variables, which configuration reads with ':' for '__'.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(AppSettings().Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), (string?)s.Value)))
            .Build();
        using var provider = new ServiceCollection().AddLogging().AddCtScanPipeline(configuration).BuildServiceProvider();

        // The worker activates function classes with ActivatorUtilities on each invocation: do the same.
        var functions = FunctionsAppServices.FunctionTypes.Select(type => ActivatorUtilities.CreateInstance(provider, type)).ToList();
        var pipeline = provider.GetRequiredService<PipelineServices>();

        Assert.Equal(["BlobTriggerPoison", "PreprocessScan", "ScoreScan", "ScoreScanPoison", "SweepPendingScans"], functions.Select(f => f.GetType().Name).Order());
        // Every class with a [Function] method is in FunctionTypes, so this test activates all the worker can call.
        var declared = typeof(FunctionsAppServices).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Length > 0))
            .Select(t => t.Name).Order();
        Assert.Equal(declared, FunctionsAppServices.FunctionTypes.Select(t => t.Name).Order());
        Assert.Equal(StorageSignIn.ForManagedIdentity(FunctionClientId), pipeline.Options.SignIn);
        Assert.Equal(BlobEndpoint, pipeline.Clients.BlobService.Uri.AbsoluteUri);
        Assert.Equal(QueueEndpoint, pipeline.Clients.QueueService.Uri.AbsoluteUri);
        Assert.Same(pipeline.Ingestor, provider.GetRequiredService<ScanIngestor>());
    }

    [Fact]
    public void TrainingJobEnvironment_FedToTheCliStorageOptions_SignInAsTheTrainingIdentity()
    {
        var job = main.Compiled.Single("Microsoft.App/jobs");
        var container = job.Properties["template"]!["containers"]!.AsArray().Single()!;
        var values = new Dictionary<string, string> { ["[parameters('identityClientId')]"] = TrainingClientId };
        var environment = container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => Resolve(values, (string)e!["value"]!));
        // --account-url is the module's storageAccountUrl: https://<account>.blob.<storage suffix>.
        Assert.Contains("'--account-url', parameters('storageAccountUrl')", (string)container["args"]!);
        Assert.Equal("[format('https://{0}.blob.{1}', variables('names').storage, environment().suffixes.storage)]",
            (string?)main.Compiled.ModuleParameters("training")["storageAccountUrl"]!["value"]);
        Assert.Equal("[reference('trainingIdentity').clientId]", (string?)main.Compiled.ModuleParameters("training")["identityClientId"]!["value"]);

        var options = PipelineOptions.ForAccountFromEnvironment(new Uri("https://stctfuncx7k2.blob.core.windows.net"), environment.GetValueOrDefault).Validated();
        var clients = new PipelineClients(options);

        Assert.Equal(StorageSignIn.ForManagedIdentity(TrainingClientId), options.SignIn);
        Assert.Equal(BlobEndpoint, clients.BlobService.Uri.AbsoluteUri);
        Assert.Equal(QueueEndpoint, clients.QueueService.Uri.AbsoluteUri);
    }
}
