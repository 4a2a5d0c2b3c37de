using System.Text.Json.Nodes;

namespace CtScan.Infra.Tests;

/// <summary>A resource of a compiled ARM template, with the module (nested deployment) that holds it.</summary>
public sealed record ArmResource(string Module, JsonObject Node, JsonObject Template)
{
    public string Type => (string)Node["type"]!;

    public string Name => (string)Node["name"]!;

    public JsonObject Properties => Node["properties"]!.AsObject();

    public bool IsExisting => Node["existing"]?.GetValue<bool>() ?? false;

    public string? Condition => (string?)Node["condition"];
}

/// <summary>
/// The JSON that `bicep build` emits, walked through its nested deployments (one per Bicep module). Works with both
/// layouts (resources as an array, or as an object keyed by symbolic name with languageVersion 2.0).
/// </summary>
public sealed class ArmTemplate
{
    public ArmTemplate(string json)
    {
        Root = JsonNode.Parse(json)!.AsObject();
        Resources = Walk("", Root).ToList();
    }

    public JsonObject Root { get; }

    public IReadOnlyList<ArmResource> Resources { get; }

    /// <summary>Resources actually deployed (not `existing` references).</summary>
    public IEnumerable<ArmResource> Deployed => Resources.Where(r => !r.IsExisting);

    public IEnumerable<ArmResource> OfType(string type) =>
        Deployed.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase));

    public ArmResource Single(string type)
    {
        var matches = OfType(type).ToList();
        Assert.True(matches.Count == 1, $"expected one {type}, found {matches.Count}");
        return matches[0];
    }

    /// <summary>The one resource of a type inside one module (the Functions app and the viewer are both Microsoft.Web/sites).</summary>
    public ArmResource Single(string type, string module)
    {
        var matches = OfType(type).Where(r => r.Module == module).ToList();
        Assert.True(matches.Count == 1, $"expected one {type} in module {module}, found {matches.Count}");
        return matches[0];
    }

    public JsonObject Module(string name) =>
        Resources.Single(r => r.Type == "Microsoft.Resources/deployments" && r.Name == name).Node;

    /// <summary>The parameter values main.bicep passes to a module (expressions or literals, as compiled).</summary>
    public JsonObject ModuleParameters(string name) => Module(name)["properties"]!["parameters"]!.AsObject();

    /// <summary>The default value of a parameter of the top-level template.</summary>
    public JsonNode? DefaultOf(string parameter) => Root["parameters"]![parameter]!["defaultValue"];

    private static IEnumerable<ArmResource> Walk(string module, JsonObject template)
    {
        var resources = template["resources"] switch
        {
            JsonArray array => array.Select(n => n!.AsObject()),
            JsonObject map => map.Select(p => p.Value!.AsObject()),
            _ => [],
        };
        foreach (var resource in resources)
        {
            yield return new ArmResource(module, resource, template);
            if ((string?)resource["type"] == "Microsoft.Resources/deployments"
                && resource["properties"]?["template"] is JsonObject nested)
            {
                foreach (var inner in Walk((string)resource["name"]!, nested))
                {
                    yield return inner;
                }
            }
        }
    }
}

/// <summary>Compiles infra/main.bicep once for every test that inspects the result.</summary>
public sealed class MainTemplateFixture
{
    public MainTemplateFixture()
    {
        Build = BicepCli.Build(BicepCli.MainTemplate);
        Template = Build.ExitCode == 0 ? new ArmTemplate(Build.StandardOutput) : null;
    }

    public BicepResult Build { get; }

    public ArmTemplate? Template { get; }

    public ArmTemplate Compiled => Template ?? throw new InvalidOperationException($"main.bicep did not compile: {Build}");
}

[CollectionDefinition(Name)]
public sealed class MainTemplateCollection : ICollectionFixture<MainTemplateFixture>
{
    public const string Name = "main.bicep";
}
