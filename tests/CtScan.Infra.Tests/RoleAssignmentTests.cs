using System.Text.RegularExpressions;
using CtScan.Pipeline;

namespace CtScan.Infra.Tests;

/// <summary>
/// The compiled role assignments grant each principal exactly what <see cref="StorageAccessMap"/> says, each at its
/// container (or, for the host's queues, the account), with no role broader than the access needs unless the map
/// says why.
/// </summary>
[Collection(MainTemplateCollection.Name)]
public sealed partial class RoleAssignmentTests(MainTemplateFixture main)
{
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private const string Account = "(account)";

    /// <summary>One compiled assignment: principal, role (a built-in GUID or "custom:scan-writer"), scope.</summary>
    private sealed record Assignment(string Principal, string Role, string Scope);

    private static readonly Dictionary<string, string> PrincipalExpressions = new()
    {
        ["[reference('functionIdentity').principalId]"] = nameof(StoragePrincipal.FunctionsApp),
        ["[reference('trainingIdentity').principalId]"] = nameof(StoragePrincipal.TrainingJob),
        ["[reference('systemTopic', '2025-02-15', 'full').identity.principalId]"] = nameof(StoragePrincipal.EventGrid),
        ["[parameters('uploaderPrincipalIds')[copyIndex()]]"] = nameof(StoragePrincipal.Uploader),
        ["[parameters('resultReaderPrincipalIds')[copyIndex()]]"] = nameof(StoragePrincipal.ResultReader),
        ["[parameters('adminPrincipalIds')[copyIndex()]]"] = nameof(StoragePrincipal.Admin),
        ["[reference('viewerIdentity').principalId]"] = nameof(StoragePrincipal.Viewer),
    };

    private const string ScanWriterRole = "custom:scan-writer";

    private List<Assignment> Assignments()
    {
        var roles = main.Compiled.Module("roles");
        var roleModule = roles["properties"]!["template"]!.AsObject();
        var roleIds = roleModule["variables"]!["roleIds"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
        var containerKeys = main.Compiled.Root["variables"]!["containers"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
        Assert.Equal("[variables('containers')]", (string?)main.Compiled.ModuleParameters("roles")["containerNames"]!["value"]);

        return main.Compiled.OfType("Microsoft.Authorization/roleAssignments").Select(r =>
        {
            var principalId = (string)r.Properties["principalId"]!;
            Assert.True(PrincipalExpressions.TryGetValue(principalId, out var principal), $"role assignment {r.Name} to an unknown principal {principalId}");
            var roleDefinitionId = (string)r.Properties["roleDefinitionId"]!;
            var builtIn = BuiltInRole().Match(roleDefinitionId);
            var role = builtIn.Success ? roleIds[builtIn.Groups[1].Value]
                : roleDefinitionId == "[resourceId('Microsoft.Authorization/roleDefinitions', guid(resourceGroup().id, 'ctscan-scan-writer'))]" ? ScanWriterRole
                : throw new InvalidOperationException($"role assignment {r.Name}: unexpected role {roleDefinitionId}");
            var scopeExpression = (string)r.Node["scope"]!;
            var container = ContainerScope().Match(scopeExpression);
            var scope = container.Success ? containerKeys[container.Groups[1].Value]
                : scopeExpression == "[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]" ? Account
                : scopeExpression;
            return new Assignment(principal, role, scope);
        }).ToList();
    }

    private static string RoleKey(StorageRole role) => StorageAccessMap.BuiltInRoleId(role) ?? ScanWriterRole;

    private static Assignment Expected(StorageGrant grant) =>
        new(grant.Principal.ToString(), RoleKey(grant.Role), grant.Resource.IsAccountScope ? Account : grant.Resource.Name!);

    [Fact]
    public void StorageAssignments_AreExactlyTheAccessMap()
    {
        var storage = Assignments().Where(a => a.Role is not (MonitoringMetricsPublisher or AcrPull))
            .OrderBy(a => a.Principal).ThenBy(a => a.Scope).ThenBy(a => a.Role).ToList();
        var expected = StorageAccessMap.Grants.Select(Expected)
            .OrderBy(a => a.Principal).ThenBy(a => a.Scope).ThenBy(a => a.Role).ToList();

        Assert.Equal(expected, storage);
    }

    [Fact]
    public void OtherAssignments_AreTelemetryForTheAppAndImagePullForTraining()
    {
        var other = Assignments().Where(a => a.Role is MonitoringMetricsPublisher or AcrPull).OrderBy(a => a.Role).ToList();

        Assert.Equal(
            [
                new Assignment("FunctionsApp", MonitoringMetricsPublisher, "[resourceId('Microsoft.Insights/components', parameters('appInsightsName'))]"),
                new Assignment("TrainingJob", AcrPull, "[resourceId('Microsoft.ContainerRegistry/registries', parameters('registryName'))]"),
            ],
            other);
    }

    [Fact]
    public void AccountScope_OnlyTheFunctionsHostsQueues()
    {
        var accountWide = Assignments().Where(a => a.Scope == Account).ToList();

        Assert.Equal([new Assignment("FunctionsApp", StorageAccessMap.BuiltInRoleId(StorageRole.QueueDataContributor)!, Account)], accountWide);
    }

    [Fact]
    public void Training_ReadsTensors_TheRetrainingJobsCache()
    {
        // Finding 2: `train --from-storage` reads tensors/; without a role there every scheduled run ends in 403.
        Assert.Contains(new Assignment("TrainingJob", StorageAccessMap.BuiltInRoleId(StorageRole.BlobDataReader)!, "tensors"), Assignments());
    }

    [Fact]
    public void Uploaders_WriteScansOnly_ReadersReadResultsOnly()
    {
        // Finding 3: uploaders used to be told to take Blob Data Contributor on the whole account.
        var assignments = Assignments();

        Assert.Equal([new Assignment("Uploader", ScanWriterRole, "scans")], assignments.Where(a => a.Principal == "Uploader"));
        Assert.Equal([new Assignment("ResultReader", StorageAccessMap.BuiltInRoleId(StorageRole.BlobDataReader)!, "results")],
            assignments.Where(a => a.Principal == "ResultReader"));
        foreach (var parameter in new[] { "uploaderPrincipalIds", "resultReaderPrincipalIds", "adminPrincipalIds" })
        {
            Assert.Empty(main.Compiled.DefaultOf(parameter)!.AsArray());
            Assert.Equal($"[parameters('{parameter}')]", (string?)main.Compiled.ModuleParameters("roles")[parameter]!["value"]);
        }
    }

    [Fact]
    public void ScanWriterRole_CreatesBlobsOnly_InThisResourceGroup()
    {
        var role = main.Compiled.Single("Microsoft.Authorization/roleDefinitions").Properties;
        var permissions = role["permissions"]!.AsArray().Single()!;

        Assert.Equal(
            ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"],
            permissions["dataActions"]!.AsArray().Select(a => (string)a!).Order());
        Assert.Empty(permissions["actions"]!.AsArray());
        Assert.Equal(["[resourceGroup().id]"], role["assignableScopes"]!.AsArray().Select(s => (string)s!));
        Assert.Equal("CustomRole", (string?)role["type"]);
        Assert.Equal("[format('CtScan scan writer ({0}, {1})', resourceGroup().name, uniqueString(resourceGroup().id))]", (string?)role["roleName"]);
    }

    [Fact]
    public void Models_WrittenOnlyByTrainingAndAdmins()
    {
        // Finding 6: the serving app (and anyone else) must not be able to replace a model or the pointer.
        var writers = StorageAccessMap.Grants
            .Where(g => g.Resource.Name == PipelineOptions.DefaultModelsContainer || g.Resource.IsAccountScope && g.Resource.Kind == StorageResourceKind.Container)
            .Where(g => (StorageAccessMap.AccessOf(g.Role) & StorageAccess.Write) != 0)
            .Select(g => g.Principal).Order();
        var templateWriters = Assignments()
            .Where(a => a.Scope is "models" or Account && a.Role != StorageAccessMap.BuiltInRoleId(StorageRole.QueueDataContributor))
            .Where(a => a.Role != StorageAccessMap.BuiltInRoleId(StorageRole.BlobDataReader))
            .Select(a => a.Principal).Order();

        Assert.Equal([StoragePrincipal.TrainingJob, StoragePrincipal.Admin], writers);
        Assert.Equal(["Admin", "TrainingJob"], templateWriters);
    }

    [Fact]
    public void AccessMap_EachRoleCoversItsAccess_AndIsTheNarrowestOrSaysWhyNot()
    {
        Assert.All(StorageAccessMap.Grants, grant =>
        {
            var granted = StorageAccessMap.AccessOf(grant.Role);
            Assert.True((granted & grant.Access) == grant.Access, $"{grant.Principal} on {grant.Resource}: {grant.Role} does not grant {grant.Access}");
            var narrower = Enum.GetValues<StorageRole>()
                .Where(r => r != grant.Role && IsQueueRole(r) == IsQueueRole(grant.Role))
                .Where(r => (StorageAccessMap.AccessOf(r) & grant.Access) == grant.Access && (StorageAccessMap.AccessOf(r) & ~granted) == 0)
                .ToList();
            // A narrower role that fits is used unless the map says why not (e.g. a service that documents a role).
            Assert.True(narrower.Count == 0 || !string.IsNullOrWhiteSpace(grant.BroaderBecause),
                $"{grant.Principal} on {grant.Resource}: {string.Join(", ", narrower)} would do");
            if (granted != grant.Access)
                Assert.False(string.IsNullOrWhiteSpace(grant.BroaderBecause), $"{grant.Principal} on {grant.Resource}: {grant.Role} grants {granted & ~grant.Access} beyond {grant.Access} and the map does not say why");
            Assert.Equal(grant.Role == StorageRole.QueueDataContributor, grant.Resource.Kind == StorageResourceKind.Queue);
        });
    }

    private static bool IsQueueRole(StorageRole role) => role == StorageRole.QueueDataContributor;

    [GeneratedRegex(@"^\[subscriptionResourceId\('Microsoft\.Authorization/roleDefinitions', variables\('roleIds'\)\.(\w+)\)\]$")]
    private static partial Regex BuiltInRole();

    [GeneratedRegex(@"^\[resourceId\('Microsoft\.Storage/storageAccounts/blobServices/containers', parameters\('storageAccountName'\), 'default', parameters\('containerNames'\)\.(\w+)\)\]$")]
    private static partial Regex ContainerScope();
}
