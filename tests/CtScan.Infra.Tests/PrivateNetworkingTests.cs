namespace CtScan.Infra.Tests;

/// <summary>
/// privateNetworking (off by default): storage refuses public networks, blob and queue get private endpoints with their
/// DNS zones, and the Functions app and the training environment join the virtual network.
/// </summary>
[Collection(MainTemplateCollection.Name)]
public sealed class PrivateNetworkingTests(MainTemplateFixture main) : IDisposable
{
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("ctscan-private-");

    private ArmTemplate Template => main.Compiled;

    public void Dispose() => scratch.Delete(recursive: true);

    [Fact]
    public void OffByDefault_NetworkModuleOnlyWhenOn()
    {
        Assert.False(Template.DefaultOf("privateNetworking")!.GetValue<bool>());
        Assert.Equal("[parameters('privateNetworking')]", (string?)Template.Module("network")["condition"]);
        Assert.Equal("[parameters('privateNetworking')]", (string?)Template.ModuleParameters("storage")["privateNetworking"]!["value"]);
    }

    [Fact]
    public void Storage_DeniesPublicNetworksWhenOn_KeepsTrustedServicesForDeadLetters()
    {
        var account = Template.Single("Microsoft.Storage/storageAccounts").Properties;

        Assert.Equal("[if(parameters('privateNetworking'), 'Deny', 'Allow')]", (string?)account["networkAcls"]!["defaultAction"]);
        Assert.Equal("AzureServices", (string?)account["networkAcls"]!["bypass"]);
        Assert.Null(account["networkAcls"]!["ipRules"]);
        Assert.Null(account["networkAcls"]!["virtualNetworkRules"]);
    }

    [Fact]
    public void PrivateEndpoints_BlobAndQueue_EachWithItsPrivateDnsZone()
    {
        var network = Template.Single("Microsoft.Network/virtualNetworks");
        var services = network.Template["variables"]!["services"]!.AsArray().Select(s => (string)s!);
        var endpoint = Template.Single("Microsoft.Network/privateEndpoints").Properties;
        var connection = endpoint["privateLinkServiceConnections"]!.AsArray().Single()!["properties"]!;

        Assert.Equal(["blob", "queue"], services);
        Assert.Equal("[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]", (string?)connection["privateLinkServiceId"]);
        Assert.Equal(["[variables('services')[copyIndex()]]"], connection["groupIds"]!.AsArray().Select(g => (string)g!));
        Assert.Equal("[format('privatelink.{0}.{1}', variables('services')[copyIndex()], environment().suffixes.storage)]",
            Template.Single("Microsoft.Network/privateDnsZones").Name);
        Assert.Single(Template.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks"));
        Assert.Single(Template.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups"));
    }

    [Fact]
    public void FunctionsAndTraining_JoinTheirDelegatedSubnets_OnlyWhenOn()
    {
        var site = Template.Single("Microsoft.Web/sites", "functions").Properties;
        var environment = Template.Single("Microsoft.App/managedEnvironments").Properties;
        var subnets = Template.Single("Microsoft.Network/virtualNetworks").Properties["subnets"]!.AsArray()
            .ToDictionary(s => (string)s!["name"]!, s => s!["properties"]!);

        Assert.Equal("[if(empty(parameters('subnetId')), null(), parameters('subnetId'))]", (string?)site["virtualNetworkSubnetId"]);
        Assert.Equal("[if(parameters('privateNetworking'), createObject('value', reference('network').outputs.functionsSubnetId.value), createObject('value', ''))]",
            (string?)Template.ModuleParameters("functions")["subnetId"]);
        Assert.Equal("[if(empty(parameters('subnetId')), null(), createObject('infrastructureSubnetId', parameters('subnetId'), 'internal', false()))]",
            (string?)environment["vnetConfiguration"]);
        Assert.Equal(["functions", "private-endpoints", "training"], subnets.Keys.Order());
        Assert.Equal("Microsoft.App/environments", (string?)subnets["functions"]["delegations"]![0]!["properties"]!["serviceName"]);
        Assert.Equal("Microsoft.App/environments", (string?)subnets["training"]["delegations"]![0]!["properties"]!["serviceName"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MainTemplate_AcceptsBothSettings(bool privateNetworking)
    {
        // A parameters file naming the template is type-checked against it by `bicep build-params`.
        var infra = Path.GetRelativePath(scratch.FullName, BicepCli.MainTemplate).Replace('\\', '/');
        var parameters = Path.Combine(scratch.FullName, "main.bicepparam");
        File.WriteAllText(parameters, $"using '{infra}'\nparam privateNetworking = {(privateNetworking ? "true" : "false")}\nparam vnetAddressPrefix = '10.50.0.0/16'\n");

        var values = BicepCli.EvaluateParameters(parameters);

        Assert.Equal(privateNetworking, values["privateNetworking"]!["value"]!.GetValue<bool>());
    }
}
