namespace CtScan.Infra.Tests;

/// <summary>The Functions app: Flex Consumption, dotnet-isolated, identity-based storage, no keys anywhere.</summary>
[Collection(MainTemplateCollection.Name)]
public sealed class FunctionAppTests(MainTemplateFixture main)
{
    private ArmTemplate Template => main.Compiled;

    private ArmResource Site => Template.Single("Microsoft.Web/sites", "functions");

    private Dictionary<string, string> Settings =>
        Site.Properties["siteConfig"]!["appSettings"]!.AsArray()
            .ToDictionary(s => (string)s!["name"]!, s => (string)s!["value"]!);

    [Fact]
    public void Plan_IsFlexConsumption()
    {
        var plan = Template.Single("Microsoft.Web/serverfarms", "functions").Node;

        Assert.Equal("FC1", (string?)plan["sku"]!["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]!["tier"]);
        Assert.True((bool)plan["properties"]!["reserved"]!);
    }

    [Fact]
    public void Runtime_IsDotnetIsolated_VersionFromParameter_Default10()
    {
        var runtime = Site.Properties["functionAppConfig"]!["runtime"]!;

        Assert.Equal("dotnet-isolated", (string?)runtime["name"]);
        Assert.Equal("[parameters('runtimeVersion')]", (string?)runtime["version"]);
        Assert.Equal("[parameters('functionsRuntimeVersion')]",
            (string?)Template.ModuleParameters("functions")["runtimeVersion"]!["value"]);
        Assert.Equal("10.0", (string?)Template.DefaultOf("functionsRuntimeVersion"));
    }

    [Fact]
    public void AzureWebJobsStorage_IsIdentityBased()
    {
        var settings = Settings;

        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("[parameters('identityClientId')]", settings["AzureWebJobsStorage__clientId"]);
        Assert.Contains("primaryEndpoints.blob", settings["AzureWebJobsStorage__blobServiceUri"]);
        Assert.Contains("primaryEndpoints.queue", settings["AzureWebJobsStorage__queueServiceUri"]);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.Equal("[reference('functionIdentity').clientId]",
            (string?)Template.ModuleParameters("functions")["identityClientId"]!["value"]);
    }

    [Fact]
    public void AppSettings_HoldNoKeysOrSas_AndNoSettingFlexRejects()
    {
        var settings = Settings;

        Assert.All(settings, s =>
        {
            Assert.DoesNotContain("AccountKey", s.Value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("SharedAccessSignature", s.Value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("listKeys", s.Value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("InstrumentationKey", s.Key, StringComparison.OrdinalIgnoreCase);
        });
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", settings.Keys);
        Assert.DoesNotContain("FUNCTIONS_EXTENSION_VERSION", settings.Keys);
        Assert.Equal("[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]",
            settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING", settings.Keys);
    }

    [Fact]
    public void Identity_UserAssigned_AlsoAuthenticatesTheDeploymentPackage()
    {
        var storage = Site.Properties["functionAppConfig"]!["deployment"]!["storage"]!;

        Assert.Equal("UserAssigned", (string?)Site.Node["identity"]!["type"]);
        Assert.Equal("blobContainer", (string?)storage["type"]);
        Assert.Equal("UserAssignedIdentity", (string?)storage["authentication"]!["type"]);
        Assert.Equal("[parameters('identityId')]", (string?)storage["authentication"]!["userAssignedIdentityResourceId"]);
        Assert.Contains("parameters('deploymentContainerName')", (string?)storage["value"]);
        Assert.True((bool)Site.Properties["httpsOnly"]!);
    }

    [Fact]
    public void ManagedIdentities_FunctionsTrainingAndViewer_Exist()
    {
        var identities = Template.OfType("Microsoft.ManagedIdentity/userAssignedIdentities").Select(r => r.Name).Order();

        Assert.Equal(["[variables('names').functionIdentity]", "[variables('names').trainingIdentity]", "[variables('names').viewerIdentity]"], identities);
    }
}
