using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CtScan.Training;

namespace CtScan.Retraining;

/// <summary>What <see cref="TrainingDataSync.MirrorAsync"/> found and did.</summary>
/// <param name="Layout">"folders" (CT-0/, CT-23/) or "labels.csv".</param>
public sealed record TrainingDataMirror(string Folder, string Layout, int Scans, int Normal, int Abnormal, int Downloaded, int Skipped, int Removed, long BytesDownloaded);

/// <summary>
/// Mirrors the labelled scans of the <c>training</c> container into a local folder in the layout
/// <see cref="ScanCatalog"/> reads: <c>CT-0/*.nii[.gz]</c> (label 0) and <c>CT-23/*.nii[.gz]</c> (label 1) directly under
/// the container root, or a root <c>labels.csv</c> (scan,label; scan = blob name) and the blobs it names. Files already
/// there with the blob's size and Content-MD5 (or, for blobs without one, the ETag recorded when they were downloaded)
/// are kept; local files the container no longer has are removed, so the folder is exactly the container's data.
/// </summary>
public static class TrainingDataSync
{
    public const string StateFileName = ".sync-state.json";
    private const int Parallelism = 4;

    /// <exception cref="InvalidDataException">The container is missing or empty, has one class only, or labels.csv is malformed or names a missing blob.</exception>
    public static async Task<TrainingDataMirror> MirrorAsync(BlobContainerClient container, string folder, CancellationToken cancellationToken = default)
    {
        string where = $"the training container '{container.Name}' ({container.Uri})";
        string expected = $"expected {ScanCatalog.NormalFolder}/ (normal) and {ScanCatalog.AbnormalFolder}/ (abnormal) folders of *.nii or *.nii.gz, or a {ScanCatalog.LabelsFileName} (scan,label)";
        if (!await container.ExistsAsync(cancellationToken).ConfigureAwait(false))
            throw new InvalidDataException($"{where} does not exist: {expected}");

        var blobs = new Dictionary<string, BlobItem>(StringComparer.Ordinal);
        await foreach (var item in container.GetBlobsAsync(new GetBlobsOptions(), cancellationToken).ConfigureAwait(false))
            blobs[item.Name] = item;

        string layout;
        var wanted = new List<(string Name, int Label)>();
        if (blobs.ContainsKey(ScanCatalog.LabelsFileName))
        {
            layout = ScanCatalog.LabelsFileName;
            var csv = (await container.GetBlobClient(ScanCatalog.LabelsFileName).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToString();
            wanted.AddRange(ParseLabels(csv, where, blobs));
        }
        else
        {
            layout = "folders";
            foreach (var (prefix, label) in new[] { (ScanCatalog.NormalFolder, LabeledScan.Normal), (ScanCatalog.AbnormalFolder, LabeledScan.Abnormal) })
                wanted.AddRange(blobs.Keys
                    .Where(name => name.StartsWith(prefix + "/", StringComparison.Ordinal) && name.IndexOf('/', prefix.Length + 1) < 0 && ScanCatalog.IsNifti(name))
                    .Select(name => (name, label)));
        }

        int normal = wanted.Count(w => w.Label == LabeledScan.Normal), abnormal = wanted.Count - normal;
        if (wanted.Count == 0)
            throw new InvalidDataException($"{where} has no training scans: {expected}");
        if (normal == 0 || abnormal == 0)
            throw new InvalidDataException(
                $"{where} has scans of one class only ({normal} normal, {abnormal} abnormal): training needs both, {ScanCatalog.NormalFolder}/ (label 0) and {ScanCatalog.AbnormalFolder}/ (label 1)");

        Directory.CreateDirectory(folder);
        string statePath = Path.Combine(folder, StateFileName);
        var state = ReadState(statePath);
        var names = wanted.Select(w => w.Name).ToList();
        if (layout == ScanCatalog.LabelsFileName) names.Add(ScanCatalog.LabelsFileName);
        var keep = new HashSet<string>(names.Select(n => Path.GetFullPath(Path.Combine(folder, n))), StringComparer.Ordinal);

        int downloaded = 0, skipped = 0;
        long bytes = 0;
        var newState = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (name, ct) =>
        {
            var item = blobs[name];
            string local = LocalPath(folder, name, where);
            string etag = item.Properties.ETag?.ToString() ?? "";
            if (await IsCurrentAsync(local, item, state.GetValueOrDefault(name), ct).ConfigureAwait(false))
            {
                Interlocked.Increment(ref skipped);
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                string temporary = $"{local}.{Guid.NewGuid():N}.tmp";
                var response = await container.GetBlobClient(name).DownloadToAsync(temporary, ct).ConfigureAwait(false);
                File.Move(temporary, local, overwrite: true);
                etag = response.Headers.ETag?.ToString() ?? etag;
                Interlocked.Increment(ref downloaded);
                Interlocked.Add(ref bytes, new FileInfo(local).Length);
            }
            newState[name] = etag;
        }).ConfigureAwait(false);

        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) == StateFileName || keep.Contains(Path.GetFullPath(file))) continue;
            File.Delete(file);
            removed++;
        }
        await File.WriteAllTextAsync(statePath, JsonSerializer.Serialize(new SortedDictionary<string, string>(newState, StringComparer.Ordinal)), cancellationToken).ConfigureAwait(false);
        return new TrainingDataMirror(Path.GetFullPath(folder), layout, wanted.Count, normal, abnormal, downloaded, skipped, removed, bytes);
    }

    /// <summary>labels.csv rows (header optional): blob name, label 0 or 1; every named blob must exist.</summary>
    private static IEnumerable<(string Name, int Label)> ParseLabels(string csv, string where, IReadOnlyDictionary<string, BlobItem> blobs)
    {
        string[] lines = csv.Split('\n');
        var rows = new List<(string, int)>();
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0) continue;
            string[] fields = line.Split(',');
            if (fields.Length != 2)
                throw new InvalidDataException($"{where}: {ScanCatalog.LabelsFileName} line {n + 1}: expected 'scan,label'; got '{line}'");
            string name = fields[0].Trim().TrimStart('/'), label = fields[1].Trim();
            if (rows.Count == 0 && name.Equals("scan", StringComparison.OrdinalIgnoreCase)) continue;
            if (label is not ("0" or "1"))
                throw new InvalidDataException($"{where}: {ScanCatalog.LabelsFileName} line {n + 1}: label must be 0 (normal) or 1 (abnormal); got '{label}'");
            if (!blobs.ContainsKey(name))
                throw new InvalidDataException($"{where}: {ScanCatalog.LabelsFileName} line {n + 1}: no blob named '{name}'");
            rows.Add((name, label == "1" ? LabeledScan.Abnormal : LabeledScan.Normal));
        }
        return rows;
    }

    private static string LocalPath(string folder, string name, string where)
    {
        string root = Path.GetFullPath(folder);
        string path = Path.GetFullPath(Path.Combine(root, name));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"{where}: blob name '{name}' leaves the data folder");
        return path;
    }

    /// <summary>The local file has the blob's size and MD5 (or, without one, the ETag it was downloaded at).</summary>
    private static async Task<bool> IsCurrentAsync(string local, BlobItem item, string? recordedEtag, CancellationToken cancellationToken)
    {
        var file = new FileInfo(local);
        if (!file.Exists || file.Length != (item.Properties.ContentLength ?? -1)) return false;
        if (item.Properties.ContentHash is { Length: > 0 } md5)
        {
            await using var stream = file.OpenRead();
            return (await MD5.HashDataAsync(stream, cancellationToken).ConfigureAwait(false)).AsSpan().SequenceEqual(md5);
        }
        return recordedEtag is not null && recordedEtag == item.Properties.ETag?.ToString();
    }

    private static Dictionary<string, string> ReadState(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [] : [];
        }
        catch (JsonException)
        {
            return []; // a damaged state file only costs downloads
        }
    }

    /// <summary>Turns a transport failure (DNS, refused connection, retries exhausted) into one clear storage error.</summary>
    public static Exception Unreachable(Uri endpoint, Exception error) =>
        new RequestFailedException($"storage unreachable: cannot read {endpoint}: {(error is AggregateException aggregate ? aggregate.InnerExceptions[^1].Message : error.Message)}", error);
}
