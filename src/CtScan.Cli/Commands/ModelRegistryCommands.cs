using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using CtScan.Pipeline;

namespace CtScan.Cli.Commands;

/// <summary><c>ctscan model publish|promote|rollback|list</c>: the model registry in the <c>models</c> container.</summary>
internal static class ModelRegistryCommands
{
    public static Command CreatePublish()
    {
        var directory = new Argument<DirectoryInfo>("dir") { Description = "A model folder: model.onnx + manifest.json (from ctscan export)" };
        var force = new Option<bool>("--force") { Description = "Promote even if its validation AUC is lower than the current model's" };
        var noPromote = new Option<bool>("--no-promote") { Description = "Upload only; leave the current model as it is" };
        var storage = new StorageOptions();
        var command = new Command("publish", "Upload a model version to the registry and make it current if its validation AUC is not lower") { directory, force, noPromote };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var dir = parse.GetRequiredValue(directory);
            if (!dir.Exists) throw new DirectoryNotFoundException($"model folder {dir.FullName} does not exist");
            var registry = await OpenAsync(storage, parse, ct);
            var result = await registry.PublishAsync(dir.FullName, new PublishOptions { Force = parse.GetValue(force), Promote = !parse.GetValue(noPromote) }, ct);
            string outcome = result.Outcome switch
            {
                PublishOutcome.Promoted => "promoted (now current)",
                PublishOutcome.AlreadyCurrent => "already current",
                _ => $"kept current {result.CurrentVersion}",
            };
            stdout.WriteLine($"{(result.Uploaded ? "published" : "already published")} {result.Version} (sha256 {result.Sha256}): {outcome}; {result.Reason}");
        }, cancellationToken));
        return command;
    }

    public static Command CreatePromote()
    {
        var version = new Argument<string>("version") { Description = "A published version" };
        var storage = new StorageOptions();
        var command = new Command("promote", "Make a published version current (no AUC gate)") { version };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var pointer = await (await OpenAsync(storage, parse, ct)).PromoteAsync(parse.GetRequiredValue(version), ct);
            stdout.WriteLine($"current: {pointer.Version} (sha256 {pointer.Sha256}){Previous(pointer)}");
        }, cancellationToken));
        return command;
    }

    public static Command CreateRollback()
    {
        var storage = new StorageOptions();
        var command = new Command("rollback", "Make the previously current version current again");
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var pointer = await (await OpenAsync(storage, parse, ct)).RollbackAsync(ct);
            stdout.WriteLine($"current: {pointer.Version} (sha256 {pointer.Sha256}); {pointer.Reason}");
        }, cancellationToken));
        return command;
    }

    public static Command CreateList()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var storage = new StorageOptions();
        var command = new Command("list", "List the registry's versions; * marks the current one") { json };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var models = await (await OpenAsync(storage, parse, ct)).ListAsync(ct);
            if (parse.GetValue(json))
            {
                stdout.WriteLine(new JsonArray([.. models.Select(m => (JsonNode)new JsonObject
                {
                    ["version"] = m.Version,
                    ["sha256"] = m.Sha256,
                    ["created"] = m.Created.ToString("O", CultureInfo.InvariantCulture),
                    ["valAuc"] = m.ValAuc,
                    ["threshold"] = m.Threshold,
                    ["inputShape"] = CliJson.Array(m.InputShape.Select(n => (long)n)),
                    ["current"] = m.IsCurrent,
                })]).ToJsonString(CliJson.Indented));
                return;
            }
            if (models.Count == 0)
            {
                stdout.WriteLine("no models published");
                return;
            }
            stdout.WriteLine($"  {"version",-28} {"created (UTC)",-17} {"valAuc",6} {"threshold",9}  input        sha256");
            foreach (var m in models)
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(m.IsCurrent ? "*" : " ")} {m.Version,-28} {m.Created.UtcDateTime,-17:yyyy-MM-dd HH:mm} {(m.ValAuc is { } auc ? auc.ToString("0.000", CultureInfo.InvariantCulture) : "-"),6} {m.Threshold,9:0.###}  {string.Join("x", m.InputShape),-12} {m.Sha256[..12]}"));
        }, cancellationToken));
        return command;
    }

    private static async Task<ModelRegistryClient> OpenAsync(StorageOptions storage, ParseResult parse, CancellationToken cancellationToken)
    {
        var clients = new PipelineClients(storage.Resolve(parse));
        await clients.Models.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        return new ModelRegistryClient(clients.Models);
    }

    private static string Previous(ModelPointer pointer) =>
        pointer.Previous.Count > 0 ? $"; previous: {string.Join(", ", pointer.Previous.Take(3).Select(p => p.Version))}" : "";
}
