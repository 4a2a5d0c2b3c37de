using System.Text.Json.Nodes;
using CtScan.Pipeline;

namespace CtScan.Infra.Tests;

/// <summary>
/// The results viewer option (deployViewer, infra/modules/viewer.bicep) as compiled: off by default, App Service
/// Authentication with Entra ID on every request, no anonymous path in, no publishing passwords, and an identity that
/// only reads the two containers the page shows.
/// </summary>
[Collection(MainTemplateCollection.Name)]
public sealed class ViewerTemplateTests(MainTemplateFixture main)
{
    private const string ViewerPrincipal = "[reference('viewerIdentity').principalId]";
    private const string ViewerClientId = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
    private const string BlobEndpoint = "https://stctfuncx7k2.blob.core.windows.net/";

    private ArmTemplate Template => main.Compiled;

    private JsonObject Auth => Template.Single("Microsoft.Web/sites/config", "viewer").Properties;

    [Fact]
    public void Viewer_IsOffByDefault_AndEveryPartOfItHangsOnTheFlag()
    {
        Assert.False(Template.DefaultOf("deployViewer")!.GetValue<bool>());
        Assert.Equal("[parameters('deployViewer')]", (string?)Template.Module("viewer")["condition"]);
        Assert.Equal("[parameters('deployViewer')]", Template.Deployed.Single(r => r.Type == "Microsoft.ManagedIdentity/userAssignedIdentities" && r.Name.Contains("viewerIdentity")).Condition);
        Assert.All(ViewerAssignments(), a => Assert.Equal("[parameters('deployViewer')]", a.Condition));
    }

    [Fact]
    public void Authentication_EntraIdOnEveryRequest_NoAnonymousAccess()
    {
        Assert.Contains("'authsettingsV2'", Template.Single("Microsoft.Web/sites/config", "viewer").Name);
        Assert.True((bool)Auth["platform"]!["enabled"]!);
        var global = Auth["globalValidation"]!;
        Assert.True((bool)global["requireAuthentication"]!);
        Assert.Equal("RedirectToLoginPage", (string?)global["unauthenticatedClientAction"]);
        Assert.Null(global["excludedPaths"]); // no path skips sign-in
        Assert.True((bool)Auth["httpSettings"]!["requireHttps"]!);
        var entra = Auth["identityProviders"]!["azureActiveDirectory"]!;
        Assert.True((bool)entra["enabled"]!);
        Assert.Equal("[parameters('clientId')]", (string?)entra["registration"]!["clientId"]);
        // Only this tenant's users: the issuer is the deployment's own tenant.
        Assert.Contains("tenant().tenantId", (string?)entra["registration"]!["openIdIssuer"]);
        Assert.Null(entra["registration"]!["clientSecretSettingName"]); // no secret to leak

        var site = Template.Single("Microsoft.Web/sites", "viewer").Properties;
        Assert.True((bool)site["httpsOnly"]!);
        Assert.Equal("Disabled", (string?)site["siteConfig"]!["ftpsState"]);
        var publishing = Template.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").Where(r => r.Module == "viewer").ToList();
        Assert.Equal(2, publishing.Count);
        Assert.All(publishing, p => Assert.False((bool)p.Properties["allow"]!));
    }

    [Fact]
    public void RoleAssignments_ReadOnly_OnResultsAndScansOnly()
    {
        var assignments = ViewerAssignments().ToList();

        Assert.Equal(["results", "scans"], assignments.Select(ContainerOf).Order());
        Assert.All(assignments, a => Assert.Equal(
            $"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('roleIds').blobDataReader)]", (string?)a.Properties["roleDefinitionId"]));
        Assert.Equal("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", (string?)main.Compiled.Module("roles")["properties"]!["template"]!["variables"]!["roleIds"]!["blobDataReader"]);
        // The map says the same, and Storage Blob Data Reader grants nothing beyond read and list.
        Assert.Equal(
            [(PipelineOptions.DefaultResultsContainer, StorageRole.BlobDataReader), (PipelineOptions.DefaultScansContainer, StorageRole.BlobDataReader)],
            StorageAccessMap.For(StoragePrincipal.Viewer).Select(g => (g.Resource.Name!, g.Role)).Order());
        Assert.Equal(StorageAccess.Read | StorageAccess.List, StorageAccessMap.AccessOf(StorageRole.BlobDataReader));
    }

    [Fact]
    public void AppSettings_FedToPipelineOptions_SignInAsTheViewersIdentity_NoKeys_NoUpload()
    {
        var values = new Dictionary<string, string>
        {
            ["[parameters('blobEndpoint')]"] = BlobEndpoint,
            ["[parameters('identityClientId')]"] = ViewerClientId,
        };
        var settings = Template.Single("Microsoft.Web/sites", "viewer").Properties["siteConfig"]!["appSettings"]!.AsArray()
            .ToDictionary(s => (string)s!["name"]!, s => (string)s!["value"]! is var v && v.StartsWith('[') ? values[v] : v);

        // src/CtScan.Viewer/Program.cs reads the connection named CtScanStorage.
        var options = PipelineOptions.FromSettings(key => settings.GetValueOrDefault(key), "CtScanStorage");

        Assert.Equal(StorageSignIn.ForManagedIdentity(ViewerClientId), options.SignIn);
        Assert.Null(options.ConnectionString);
        Assert.Equal(BlobEndpoint, options.BlobServiceUri!.AbsoluteUri);
        Assert.Equal("false", settings["CtScan__ViewerAllowUpload"]);
        Assert.DoesNotContain(settings.Values, v => v.Contains("AccountKey", StringComparison.OrdinalIgnoreCase) || v.Contains("sig=", StringComparison.Ordinal));
    }

    private IEnumerable<ArmResource> ViewerAssignments() =>
        Template.OfType("Microsoft.Authorization/roleAssignments").Where(r => (string?)r.Properties["principalId"] == ViewerPrincipal);

    private static string ContainerOf(ArmResource assignment)
    {
        var scope = (string)assignment.Node["scope"]!;
        var match = System.Text.RegularExpressions.Regex.Match(scope, @"parameters\('containerNames'\)\.(\w+)\)\]$");
        Assert.True(match.Success, $"viewer role assignment scoped to {scope}, not a container");
        return match.Groups[1].Value;
    }
}
