using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using CtScan.Contracts;

namespace CtScan.Cli.Commands;

/// <summary><c>ctscan results [--prefix P] [--json]</c>: the pipeline's results with status, label and probability.</summary>
internal static class ResultsCommand
{
    public static Command Create()
    {
        var prefix = new Option<string?>("--prefix") { Description = "Only scans whose name starts with this (e.g. ward-3/)" };
        var json = new Option<bool>("--json") { Description = "Print the result documents as a JSON array" };
        var storage = new StorageOptions();
        var command = new Command("results", "List results: scan, status, label, probability, model") { prefix, json };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var clients = new Pipeline.PipelineClients(storage.Resolve(parse));
            var store = new Pipeline.ResultStore(clients);
            var rows = new List<(string Blob, ScanResult? Result)>();
            if (await clients.Results.ExistsAsync(ct))
                await foreach (var blob in clients.Results.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, parse.GetValue(prefix), ct))
                    rows.Add((blob.Name, (await store.TryReadAsync(blob.Name, ct))?.Result));

            if (parse.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var (_, result) in rows)
                    if (result is not null) array.Add(JsonNode.Parse(ContractsJson.Serialize(result)));
                stdout.WriteLine(array.ToJsonString(CliJson.Indented));
                return;
            }
            if (rows.Count == 0)
            {
                stdout.WriteLine("no results");
                return;
            }
            int width = Math.Max(4, rows.Max(r => (r.Result?.Scan ?? r.Blob).Length));
            stdout.WriteLine($"{"scan".PadRight(width)}  {"status",-8} {"label",-8} {"p",7}  model / error");
            foreach (var (blob, result) in rows)
            {
                if (result is null)
                {
                    stdout.WriteLine($"{blob.PadRight(width)}  {"?",-8} (unreadable result document)");
                    continue;
                }
                string status = result.Status.ToString().ToLowerInvariant();
                string p = result.ProbabilityAbnormal?.ToString("0.0000", CultureInfo.InvariantCulture) ?? "-";
                string detail = result.Model is { } model ? model.Version : result.Error is { } error ? $"{error.Code}: {error.Message}" : "";
                stdout.WriteLine($"{result.Scan.PadRight(width)}  {status,-8} {result.Label ?? "-",-8} {p,7}  {detail}");
            }
            var counts = rows.Where(r => r.Result is not null).GroupBy(r => r.Result!.Status).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
            stdout.WriteLine($"{rows.Count} result(s): {string.Join(", ", counts)}");
        }, cancellationToken));
        return command;
    }
}
