using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CtScan.Infra.Tests;

/// <summary>No secret leaves the deployment, and keys are read only where the platform leaves no other way.</summary>
[Collection(MainTemplateCollection.Name)]
public sealed class SecretsTests(MainTemplateFixture main)
{
    private ArmTemplate Template => main.Compiled;

    [Fact]
    public void Outputs_AreNamesEndpointsAndIds_NothingSecretLooking()
    {
        var outputs = Template.Root["outputs"]!.AsObject();
        string[] secretWords = ["key", "secret", "password", "connectionstring", "sas", "token", "credential"];

        Assert.NotEmpty(outputs);
        Assert.All(outputs, output =>
        {
            var name = output.Key.ToLowerInvariant();
            var value = output.Value!["value"]!.ToJsonString();
            Assert.DoesNotContain(secretWords, word => name.Contains(word, StringComparison.Ordinal));
            Assert.DoesNotContain("list", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("ConnectionString", value, StringComparison.OrdinalIgnoreCase);
            Assert.Equal("string", (string?)output.Value["type"]);
        });
        // Module outputs feed main's outputs: the same rules apply to them.
        Assert.All(Template.OfType("Microsoft.Resources/deployments"), module =>
        {
            var moduleOutputs = module.Properties["template"]!["outputs"]?.AsObject() ?? [];
            Assert.All(moduleOutputs, o => Assert.DoesNotContain("list", o.Value!["value"]!.ToJsonString(), StringComparison.OrdinalIgnoreCase));
        });
    }

    [Fact]
    public void CompiledTemplate_HasNoAccountKeysOrSas_ListKeysOnlyForTheWebhookAndLogAnalytics()
    {
        var json = Template.Root.ToJsonString();
        var listCalls = Template.Deployed
            .Where(r => r.Type != "Microsoft.Resources/deployments")
            .Where(r => Regex.IsMatch(r.Node.ToJsonString(), @"\blist[A-Za-z]*\("))
            .Select(r => r.Type)
            .Order();

        Assert.DoesNotContain("AccountKey", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SharedAccessSignature", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("listAccountSas", json, StringComparison.OrdinalIgnoreCase);
        // The blobs_extension key (Event Grid's webhook must carry it) and the Log Analytics key the Container Apps
        // environment ships logs with; both go straight into ARM properties, never into settings or outputs.
        Assert.Equal(["Microsoft.App/managedEnvironments", "Microsoft.EventGrid/systemTopics/eventSubscriptions"], listCalls);
    }

    [Fact]
    public void ParametersFile_NamesOnlyTemplateParameters_AndDeploysInfraFirst()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "main.parameters.json")))!;
        var values = file["parameters"]!.AsObject();
        var declared = Template.Root["parameters"]!.AsObject().Select(p => p.Key).ToHashSet();

        Assert.All(values, p => Assert.Contains(p.Key, declared));
        Assert.False((bool)values["deployEventSubscription"]!["value"]!);
        Assert.False((bool)values["deployTrainingJob"]!["value"]!);
        Assert.DoesNotContain(values, p => p.Value!["reference"] is not null);
    }
}
