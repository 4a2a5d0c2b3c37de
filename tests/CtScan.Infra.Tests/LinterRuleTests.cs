using System.Text.Json.Nodes;

namespace CtScan.Infra.Tests;

/// <summary>The check is able to fail: broken Bicep and each raised linter rule fail `bicep build`. Outside the
/// main.bicep collection, so these runs overlap with the fixture's.</summary>
public sealed class LinterRuleTests : IDisposable
{
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("ctscan-bicep-");

    public void Dispose() => scratch.Delete(recursive: true);

    [Fact]
    public void BrokenTemplate_Build_Fails()
    {
        var file = Write("broken.bicep", """
            param location string = resourceGroup().location
            resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
              name: 'stbroken'
              location: location
              sku: { name: 'Standard_LRS' }
              kind: 'StorageV2'
              properties: {
                allowSharedKeyAccess: 'no'
              }
            }
            output id string = account.idd
            """);

        var build = BicepCli.Build(file);

        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains(build.Diagnostics, d => d.Contains(" Error BCP", StringComparison.Ordinal));
    }

    /// <summary>Templates that are valid Bicep but break one raised linter rule: with infra/bicepconfig.json beside
    /// them, `bicep build` must fail (the default levels would only warn).</summary>
    [Theory]
    [InlineData("no-unused-params", "param unused string\noutput ok string = 'ok'\n")]
    [InlineData("no-unused-vars", "var unused = 'x'\noutput ok string = 'ok'\n")]
    [InlineData("no-hardcoded-env-urls", "output url string = 'https://management.azure.com/'\n")]
    [InlineData("secure-parameter-default", "@secure()\nparam pw string = 'hunter2'\noutput len int = length(pw)\n")]
    [InlineData("outputs-should-not-contain-secrets",
        "resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' existing = { name: 'st' }\n"
        + "output keys object = sa.listKeys()\n")]
    [InlineData("no-unnecessary-dependson",
        "resource a 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = { name: 'a', location: 'x' }\n"
        + "resource b 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {\n"
        + "  name: '${a.name}b'\n  location: 'x'\n  dependsOn: [ a ]\n}\n")]
    public void RaisedRule_Violated_FailsBuild(string rule, string template)
    {
        File.Copy(Path.Combine(BicepCli.InfraDirectory, "bicepconfig.json"), Path.Combine(scratch.FullName, "bicepconfig.json"));
        var file = Write($"{rule}.bicep", template);

        var build = BicepCli.Build(file);

        Assert.True(build.ExitCode != 0, $"{rule} did not fail the build: {build}");
        Assert.Contains(build.Diagnostics, d => d.Contains($" Error {rule}:", StringComparison.Ordinal));
    }

    [Fact]
    public void BicepConfig_RaisesSecurityAndHygieneRules_ToError()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "bicepconfig.json")))!;
        var rules = config["analyzers"]!["core"]!["rules"]!.AsObject();
        string[] required =
        [
            "no-hardcoded-env-urls", "secure-parameter-default", "outputs-should-not-contain-secrets", "no-unused-params",
            "no-unused-vars", "use-secure-value-for-secure-inputs", "protect-commandtoexecute-secrets",
            "adminusername-should-not-be-literal", "no-unnecessary-dependson", "use-resource-id-functions",
            "use-stable-resource-identifiers", "secure-secrets-in-params", "secure-params-in-nested-deploy",
            "no-hardcoded-location", "no-unused-existing-resources", "what-if-short-circuiting",
        ];

        Assert.True((bool)config["analyzers"]!["core"]!["enabled"]!);
        Assert.All(required, rule => Assert.Equal("error", (string?)rules[rule]?["level"]));
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(scratch.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }
}
