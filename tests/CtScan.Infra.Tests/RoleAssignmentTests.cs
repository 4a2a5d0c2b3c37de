namespace CtScan.Infra.Tests;

/// <summary>Exactly the role assignments each identity needs, at the expected scopes, and nothing else.</summary>
[Collection(MainTemplateCollection.Name)]
public sealed class RoleAssignmentTests(MainTemplateFixture main)
{
    private const string BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string QueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

    private sealed record Assignment(string Principal, string Role, string Scope);

    private List<Assignment> Assignments =>
        main.Compiled.OfType("Microsoft.Authorization/roleAssignments").Select(r =>
        {
            var principalId = (string)r.Properties["principalId"]!;
            var principal = principalId.Contains("parameters('functionIdentityName')", StringComparison.Ordinal) ? "functions"
                : principalId.Contains("parameters('trainingIdentityName')", StringComparison.Ordinal) ? "training"
                : principalId;
            var roleDefinitionId = (string)r.Properties["roleDefinitionId"]!;
            var role = roleDefinitionId.Split('\'')[^2];
            Assert.Equal($"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{role}')]", roleDefinitionId);
            Assert.Equal("ServicePrincipal", (string?)r.Properties["principalType"]);
            var scope = (string?)r.Node["scope"] ?? "resourceGroup";
            return new Assignment(principal, role, scope);
        }).ToList();

    [Fact]
    public void Functions_GetsBlobOwnerAndQueueContributorOnTheAccount_MetricsPublisherOnAppInsights()
    {
        var functions = Assignments.Where(a => a.Principal == "functions").OrderBy(a => a.Role).ToList();

        Assert.Equal(
            [
                new Assignment("functions", MonitoringMetricsPublisher, "[resourceId('Microsoft.Insights/components', parameters('appInsightsName'))]"),
                new Assignment("functions", QueueDataContributor, "[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]"),
                new Assignment("functions", BlobDataOwner, "[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]"),
            ],
            functions);
    }

    [Fact]
    public void Training_GetsBlobContributorOnTrainingAndModelsOnly_AndAcrPull()
    {
        var training = Assignments.Where(a => a.Principal == "training").OrderBy(a => a.Scope).ToList();

        Assert.Equal(
            [
                new Assignment("training", AcrPull, "[resourceId('Microsoft.ContainerRegistry/registries', parameters('registryName'))]"),
                new Assignment("training", BlobDataContributor, "[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('storageAccountName'), 'default', parameters('modelsContainerName'))]"),
                new Assignment("training", BlobDataContributor, "[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('storageAccountName'), 'default', parameters('trainingContainerName'))]"),
            ],
            training);
        var roles = main.Compiled.ModuleParameters("roles");
        Assert.Equal("[variables('containers').training]", (string?)roles["trainingContainerName"]!["value"]);
        Assert.Equal("[variables('containers').models]", (string?)roles["modelsContainerName"]!["value"]);
    }

    [Fact]
    public void EveryAssignment_BelongsToOneOfTheTwoIdentities()
    {
        var assignments = Assignments;

        Assert.Equal(6, assignments.Count);
        Assert.All(assignments, a => Assert.Contains(a.Principal, new[] { "functions", "training" }));
        Assert.Equal("[variables('names').functionIdentity]", (string?)main.Compiled.ModuleParameters("roles")["functionIdentityName"]!["value"]);
        Assert.Equal("[variables('names').trainingIdentity]", (string?)main.Compiled.ModuleParameters("roles")["trainingIdentityName"]!["value"]);
    }
}
