using CtScan.Pipeline;

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

        Assert.Equal(StorageAccessMap.Containers.Order(), names);
        Assert.Contains("eventgrid-deadletter", names);
        Assert.Equal("None", (string?)container.Properties["publicAccess"]);
        Assert.Equal("[map(items(variables('containers')), lambda('c', lambdaVariables('c').value))]",
            (string?)Template.ModuleParameters("storage")["containerNames"]!["value"]);
    }

    [Fact]
    public void Queues_AreScoreRequestsExplainRequestsAndBothPoisonQueues()
    {
        var names = Template.Root["variables"]!["queues"]!.AsArray().Select(n => (string)n!).Order();

        Assert.Equal(["explain-requests", "score-requests", "score-requests-poison", "webjobs-blobtrigger-poison"], names);
        Assert.Equal(StorageAccessMap.Queues.Order(), names);
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

    [Fact]
    public void BlobVersioning_OnForTheAccount()
    {
        var blobService = Template.Single("Microsoft.Storage/storageAccounts/blobServices").Properties;

        Assert.True((bool)blobService["isVersioningEnabled"]!);
    }

    [Fact]
    public void Models_VersionLevelImmutability_WithADefaultRetentionPolicy()
    {
        var container = Template.Single("Microsoft.Storage/storageAccounts/blobServices/containers");
        var policy = Template.Single("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies");
        var storage = Template.ModuleParameters("storage");

        // Only the container named immutableContainerName (models) gets version-level WORM support.
        Assert.Equal("[if(equals(parameters('containerNames')[copyIndex()], parameters('immutableContainerName')), createObject('enabled', true()), null())]",
            (string?)container.Properties["immutableStorageWithVersioning"]);
        Assert.Equal("[variables('containers').models]", (string?)storage["immutableContainerName"]!["value"]);
        Assert.Equal("[parameters('immutabilityDays')]", (string?)policy.Properties["immutabilityPeriodSinceCreationInDays"]);
        Assert.False((bool)policy.Properties["allowProtectedAppendWrites"]!);
        Assert.Contains("parameters('immutableContainerName')", policy.Name);
        Assert.Equal("[parameters('modelImmutabilityDays')]", (string?)storage["immutabilityDays"]!["value"]);
        Assert.Equal(365, Template.DefaultOf("modelImmutabilityDays")!.GetValue<int>());
    }

    [Theory]
    [InlineData("blobServices")]
    [InlineData("queueServices")]
    public void AuditLogs_ReadWriteDelete_GoToLogAnalytics(string service)
    {
        var settings = Template.OfType("Microsoft.Insights/diagnosticSettings")
            .Where(d => ((string?)d.Node["scope"])!.Contains($"Microsoft.Storage/storageAccounts/{service}", StringComparison.Ordinal))
            .ToList();

        var setting = Assert.Single(settings);
        var categories = setting.Properties["logs"]!.AsArray().Where(l => (bool)l!["enabled"]!).Select(l => (string)l!["category"]!).Order();
        Assert.Equal(["StorageDelete", "StorageRead", "StorageWrite"], categories);
        Assert.Equal("[resourceId('Microsoft.OperationalInsights/workspaces', parameters('logAnalyticsName'))]", (string?)setting.Properties["workspaceId"]);
        Assert.Equal("[variables('names').logAnalytics]", (string?)Template.ModuleParameters("storage")["logAnalyticsName"]!["value"]);
    }
}
