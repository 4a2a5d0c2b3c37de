namespace CtScan.Infra.Tests;

/// <summary>The storage account: Entra-only, private, TLS 1.2, HTTPS, soft delete; the contract's containers and queues.</summary>
[Collection(MainTemplateCollection.Name)]
public sealed class StorageTests(MainTemplateFixture main)
{
    private ArmTemplate Template => main.Compiled;

    [Fact]
    public void StorageAccount_Security_SharedKeyOffPublicAccessOffTls12HttpsOnly()
    {
        var account = Template.Single("Microsoft.Storage/storageAccounts").Properties;

        Assert.False((bool)account["allowSharedKeyAccess"]!);
        Assert.False((bool)account["allowBlobPublicAccess"]!);
        Assert.Equal("TLS1_2", (string?)account["minimumTlsVersion"]);
        Assert.True((bool)account["supportsHttpsTrafficOnly"]!);
        Assert.True((bool)account["defaultToOAuthAuthentication"]!);
    }

    [Fact]
    public void BlobService_SoftDelete_OnForBlobsAndContainers()
    {
        var blobService = Template.Single("Microsoft.Storage/storageAccounts/blobServices").Properties;

        Assert.True((bool)blobService["deleteRetentionPolicy"]!["enabled"]!);
        Assert.True((bool)blobService["containerDeleteRetentionPolicy"]!["enabled"]!);
        Assert.Equal("[parameters('softDeleteDays')]", (string?)blobService["deleteRetentionPolicy"]!["days"]);
        Assert.Equal("[parameters('softDeleteDays')]", (string?)blobService["containerDeleteRetentionPolicy"]!["days"]);
        Assert.InRange(Template.DefaultOf("softDeleteDays")!.GetValue<int>(), 7, 365);
    }

    [Fact]
    public void Containers_AreTheContractsAndTheDeploymentPackage_AllPrivate()
    {
        var names = Template.Root["variables"]!["containers"]!.AsObject().Select(p => (string)p.Value!).Order();
        var container = Template.Single("Microsoft.Storage/storageAccounts/blobServices/containers");

        Assert.Equal(["app-package", "models", "results", "scans", "tensors", "training"], names);
        Assert.Equal("None", (string?)container.Properties["publicAccess"]);
        Assert.Equal("[map(items(variables('containers')), lambda('c', lambdaVariables('c').value))]",
            (string?)Template.ModuleParameters("storage")["containerNames"]!["value"]);
    }

    [Fact]
    public void Queues_AreScoreRequestsAndBothPoisonQueues()
    {
        var names = Template.Root["variables"]!["queues"]!.AsArray().Select(n => (string)n!).Order();

        Assert.Equal(["score-requests", "score-requests-poison", "webjobs-blobtrigger-poison"], names);
        Assert.Equal("[variables('queues')]", (string?)Template.ModuleParameters("storage")["queueNames"]!["value"]);
        Assert.Single(Template.OfType("Microsoft.Storage/storageAccounts/queueServices/queues"));
    }

    [Fact]
    public void Monitoring_AppInsights_LocalAuthDisabled_WorkspaceBased()
    {
        var appInsights = Template.Single("Microsoft.Insights/components").Properties;

        Assert.True((bool)appInsights["DisableLocalAuth"]!);
        Assert.NotNull(appInsights["WorkspaceResourceId"]);
        Assert.Single(Template.OfType("Microsoft.OperationalInsights/workspaces"));
    }
}
