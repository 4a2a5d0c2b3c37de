using System.CommandLine;
using System.Globalization;
using CtScan.Cli.Datasets;
using CtScan.Cli.Progress;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan dataset download mosmed DIR [--base-url URL] [--force] [--sha256 NAME=HEX]… [--retries N] [--timeout S]</c>:
/// the seed's CT-0.zip and CT-23.zip, resumable and verified, extracted into DIR/CT-0/ and DIR/CT-23/.
/// </summary>
internal static class DatasetCommand
{
    public static Command Create() => new("dataset", "Download training datasets")
    {
        new Command("download", "Download and extract a dataset into the training-data layout")
        {
            CreateMosMed(),
        },
    };

    private static Command CreateMosMed()
    {
        var directory = new Argument<DirectoryInfo>("dir") { Description = "Folder to fill with CT-0/ (normal) and CT-23/ (abnormal); created if missing" };
        var baseUrl = new Option<Uri>("--base-url")
        {
            Description = "Folder URL holding CT-0.zip and CT-23.zip (a mirror)",
            DefaultValueFactory = _ => MosMedDataset.DefaultBaseUri,
            CustomParser = result =>
            {
                string text = result.Tokens.Single().Value;
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return uri;
                result.AddError($"--base-url must be an absolute http(s) URL; got '{text}'");
                return null;
            },
        };
        var force = new Option<bool>("--force") { Description = "Download and extract again even when finished archives or folders exist" };
        var sha256 = new Option<string[]>("--sha256")
        {
            Description = "Pin an archive's SHA-256, e.g. --sha256 CT-0.zip=<64 hex digits>; repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var retries = new Option<int>("--retries") { Description = "Retries after a transient failure (connection lost, timeout, HTTP 5xx)", DefaultValueFactory = _ => 3 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for a response or for more data before retrying", DefaultValueFactory = _ => 100 };
        var command = new Command("mosmed", "MosMedData subset of the Keras example: CT-0.zip (normal) and CT-23.zip (viral pneumonia), ~2 GB")
        {
            directory, baseUrl, force, sha256, retries, timeout,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var options = new DatasetDownloadOptions
            {
                BaseUri = parse.GetRequiredValue(baseUrl),
                Force = parse.GetValue(force),
                MaxRetries = parse.GetValue(retries),
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
            };
            foreach (var (name, hash) in ParsePins(parse.GetValue(sha256) ?? []))
            {
                options.Sha256[name] = hash;
            }
            string root = parse.GetRequiredValue(directory).FullName;
            Directory.CreateDirectory(root);

            using var downloader = new DatasetDownloader(options);
            var progress = ProgressDisplay.Create(stdout);
            foreach (var archive in MosMedDataset.Archives)
            {
                var result = await downloader.FetchAsync(archive, root, progress, stdout, ct);
                stdout.WriteLine(Describe(result, downloader.GetExpectedSha256(archive) is not null));
            }
        }, cancellationToken));
        return command;
    }

    /// <summary>Parses <c>NAME=HEX</c> pins; the name must be one of the dataset's archives.</summary>
    internal static IEnumerable<(string Name, string Hash)> ParsePins(IEnumerable<string> pins)
    {
        var names = MosMedDataset.Archives.Select(a => a.Name).ToList();
        foreach (var pin in pins)
        {
            int equals = pin.IndexOf('=');
            string name = equals > 0 ? pin[..equals] : "";
            string hash = equals > 0 ? pin[(equals + 1)..] : "";
            if (!names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"--sha256 takes NAME=HEX with NAME one of {{{string.Join(", ", names)}}}; got '{pin}'");
            }
            if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
            {
                throw new ArgumentException($"--sha256 {name}= needs 64 hex digits; got '{hash}' ({hash.Length} characters)");
            }
            yield return (names.First(n => n.Equals(name, StringComparison.OrdinalIgnoreCase)), hash.ToLowerInvariant());
        }
    }

    private static string Describe(DatasetArchiveResult result, bool pinned)
    {
        string files = string.Create(CultureInfo.InvariantCulture, $"{result.Files} file{(result.Files == 1 ? "" : "s")}");
        if (!result.Extracted)
        {
            return $"{result.Archive.Folder}: already in {result.Folder} ({files}); nothing to do (--force starts over)";
        }
        string how = result.Downloaded ? "downloaded and extracted" : "extracted from the archive already downloaded";
        string hash = result.Sha256 is null ? "" : $"; sha256 {result.Sha256}{(pinned ? " (matches the pinned value)" : $" (pin it with --sha256 {result.Archive.Name}={result.Sha256})")}";
        return $"{result.Archive.Folder}: {files} {how} into {result.Folder}{hash}";
    }
}
