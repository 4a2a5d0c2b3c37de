using System.CommandLine;
using System.Diagnostics;
using Azure.Storage.Blobs.Models;
using CtScan.Contracts;
using CtScan.Pipeline;

namespace CtScan.Cli.Commands;

/// <summary><c>ctscan submit SCAN... [--wait]</c>: uploads scans to the <c>scans</c> container (the pipeline takes it from there).</summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var scans = new Argument<FileInfo[]>("scans") { Description = "NIfTI scans (.nii, .nii.gz)", Arity = ArgumentArity.OneOrMore };
        var wait = new Option<bool>("--wait") { Description = "Wait for each result and print it (JSON)" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for results with --wait", DefaultValueFactory = _ => 300 };
        var prefix = new Option<string?>("--prefix") { Description = "Folder in the scans container to upload into (e.g. ward-3/2026-11-29)" };
        var poll = new Option<double>("--poll") { Description = "Seconds between result checks with --wait", DefaultValueFactory = _ => 1 };
        var storage = new StorageOptions();
        var command = new Command("submit", "Upload scans for scoring; --wait prints each result as it arrives") { scans, wait, timeout, prefix, poll };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var files = parse.GetRequiredValue(scans);
            foreach (var file in files)
                if (!file.Exists) throw new FileNotFoundException($"{file.FullName} does not exist", file.FullName);
            string folder = parse.GetValue(prefix)?.Trim('/') is { Length: > 0 } p ? p + "/" : "";
            var names = files.Select(f => folder + f.Name).ToList();
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
                throw new ArgumentException($"two files would get the same blob name: {string.Join(", ", names.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key))}");
            foreach (var name in names)
                if (ScanNames.UnsafeReason(name) is { } reason) throw new ArgumentException($"{name}: {reason}");

            var services = new PipelineServices(storage.Resolve(parse));
            await services.Storage.EnsureCreatedAsync(ct);
            for (int i = 0; i < files.Length; i++)
            {
                // A result left by an earlier upload of the same name would be mistaken for this one's.
                await services.Results.Container.DeleteBlobIfExistsAsync(ScanNames.ResultBlobName(names[i]), cancellationToken: ct);
                await using var content = files[i].OpenRead();
                await services.Clients.Scans.GetBlobClient(names[i]).UploadAsync(content, new BlobUploadOptions(), ct);
                stdout.WriteLine($"uploaded {services.Clients.Scans.Name}/{names[i]} ({files[i].Length} bytes)");
            }
            if (!parse.GetValue(wait)) return;

            var limit = TimeSpan.FromSeconds(parse.GetValue(timeout));
            var interval = TimeSpan.FromSeconds(Math.Max(0.05, parse.GetValue(poll)));
            var pending = new List<string>(names);
            var clock = Stopwatch.StartNew();
            while (pending.Count > 0)
            {
                foreach (var name in pending.ToList())
                {
                    if ((await services.Results.TryReadAsync(ScanNames.ResultBlobName(name), ct))?.Result is not { } result) continue;
                    stdout.WriteLine(ContractsJson.Serialize(result));
                    pending.Remove(name);
                }
                if (pending.Count == 0) break;
                if (clock.Elapsed > limit)
                    throw new TimeoutException($"no result after {limit.TotalSeconds:0.#} s for: {string.Join(", ", pending)} (is the pipeline host running?)");
                await Task.Delay(interval, ct);
            }
        }, cancellationToken));
        return command;
    }
}
