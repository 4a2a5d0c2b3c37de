using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CtScan.Contracts;
using CtScan.Scoring;

namespace CtScan.Pipeline;

/// <summary>
/// The model registry in the <c>models</c> container: <c>&lt;version&gt;/model.onnx</c> + <c>&lt;version&gt;/manifest.json</c>
/// (+ <c>&lt;version&gt;/checkpoint/</c> for a model published with its TorchSharp checkpoint)
/// (immutable once published) and <c>current.json</c> (a <see cref="ModelPointer"/>), which is only ever replaced by
/// an ETag-conditional write: If-Match the ETag read, or If-None-Match * when there is none. A conflicting write
/// (412/409) re-reads the pointer and decides again, so concurrent promotions are serialised, never lost. Publish,
/// promote and rollback run <see cref="ModelProbe"/> on the model before the pointer moves, so a model that cannot
/// score never becomes current through this client.
/// </summary>
public class ModelRegistryClient
{
    public const string PointerBlobName = "current.json";

    private readonly BlobContainerClient _container;
    private readonly ModelRegistryClientOptions _options;

    /// <summary>For mocking.</summary>
    protected ModelRegistryClient()
    {
        _container = null!;
        _options = new ModelRegistryClientOptions();
    }

    public ModelRegistryClient(BlobContainerClient modelsContainer) : this(modelsContainer, new ModelRegistryClientOptions()) { }

    public ModelRegistryClient(BlobContainerClient modelsContainer, ModelRegistryClientOptions options)
    {
        _container = modelsContainer ?? throw new ArgumentNullException(nameof(modelsContainer));
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    public ModelRegistryClient(PipelineClients clients) : this(clients.Models) { }

    /// <summary>The container this registry lives in.</summary>
    public virtual BlobContainerClient Container => _container;

    /// <summary>
    /// Uploads the model folder (model.onnx, then manifest.json, after checking the file's SHA-256 against the
    /// manifest) and, when <see cref="PublishOptions.Promote"/>, makes it current if its validation AUC is not lower
    /// than the current model's (or <see cref="PublishOptions.Force"/>). Re-publishing identical bytes is a no-op
    /// upload; a version already published with different bytes is refused (versions are immutable). Before anything is
    /// uploaded the model must pass <see cref="ModelProbe"/> (it loads and answers a probability for a zero scan).
    /// </summary>
    /// <exception cref="ModelLoadException">The folder's manifest is missing/invalid, the file's hash differs from it, or the model fails the probe.</exception>
    /// <exception cref="ModelRegistryException">The version exists with a different SHA-256.</exception>
    public virtual async Task<PublishResult> PublishAsync(string modelDirectory, PublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        options ??= new PublishOptions();
        var manifest = ModelFolder.ReadManifest(modelDirectory);
        string modelPath = Path.Combine(modelDirectory, manifest.ModelFile);
        if (!File.Exists(modelPath)) throw new ModelLoadException($"model folder {modelDirectory} has no {manifest.ModelFile}");
        string actual = await Sha256Hex.OfFileAsync(modelPath, cancellationToken).ConfigureAwait(false);
        if (actual != manifest.Sha256)
            throw new ModelLoadException($"{modelPath} has SHA-256 {actual}; its manifest (version {manifest.Version}) says {manifest.Sha256}. Not publishing it.");
        Probe(modelPath, manifest, "publish");

        bool uploaded = false;
        var existing = await TryGetManifestAsync(manifest.Version, cancellationToken).ConfigureAwait(false);
        if (existing is not null && existing.Sha256 != manifest.Sha256)
            throw new ModelRegistryException(
                $"version {manifest.Version} is already published with SHA-256 {existing.Sha256}; this one is {manifest.Sha256}. Versions are immutable: export under a new version.");
        if (existing is null)
        {
            // The model first, the manifest last: a version with a manifest always has its model.
            var model = _container.GetBlobClient($"{manifest.Version}/{ModelManifest.DefaultModelFile}");
            await using (var file = File.OpenRead(modelPath))
                await model.UploadAsync(file, new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                    Metadata = new Dictionary<string, string> { ["sha256"] = manifest.Sha256 },
                }, cancellationToken).ConfigureAwait(false);
            await UploadCheckpointAsync(modelDirectory, manifest.Version, cancellationToken).ConfigureAwait(false);
            var stored = manifest with { ModelFile = ModelManifest.DefaultModelFile };
            await _container.GetBlobClient($"{manifest.Version}/{ModelFolder.ManifestFileName}").UploadAsync(
                BinaryData.FromString(ContractsJson.Serialize(stored)),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } },
                cancellationToken).ConfigureAwait(false);
            uploaded = true;
        }

        if (!options.Promote)
        {
            var current = (await GetCurrentAsync(cancellationToken).ConfigureAwait(false))?.Version ?? "(none)";
            return new PublishResult(manifest.Version, manifest.Sha256, uploaded, PublishOutcome.KeptCurrent, current, "promotion not requested (--no-promote)");
        }

        return await UpdatePointerAsync<PublishResult>(async current =>
        {
            if (current?.Version == manifest.Version)
                return (null, new PublishResult(manifest.Version, manifest.Sha256, uploaded, PublishOutcome.AlreadyCurrent, manifest.Version, "already the current version"));
            string reason;
            if (current is null) reason = "no model was current";
            else
            {
                double? candidate, serving;
                string metric = _options.GateMetric, basis = "";
                if (options.Comparison is { } measured && measured.CurrentVersion == current.Version)
                {
                    // Both models measured by the caller on the same data: compare those numbers, not the manifests'.
                    (candidate, serving) = (Finite(measured.Candidate), Finite(measured.Current));
                    basis = $" ({measured.Basis})";
                }
                else
                {
                    var currentManifest = await GetManifestAsync(current.Version, cancellationToken).ConfigureAwait(false);
                    (candidate, serving) = (MetricOf(manifest), MetricOf(currentManifest));
                    if (options.Comparison is { } stale)
                        basis = $" (manifests; the measured comparison was against {stale.CurrentVersion}, no longer current)";
                }
                bool better = serving is null || (candidate is { } c && c >= serving.Value);
                string comparison = $"{metric} {Format(candidate)} vs current {current.Version}'s {Format(serving)}{basis}";
                if (!better && !options.Force)
                    return (null, new PublishResult(manifest.Version, manifest.Sha256, uploaded, PublishOutcome.KeptCurrent, current.Version,
                        $"kept {current.Version}: {comparison} (lower or unknown; --force promotes anyway)"));
                reason = better ? $"gate passed: {comparison}" : $"forced: {comparison}";
            }
            return (Next(current, manifest.Version, manifest.Sha256, reason),
                new PublishResult(manifest.Version, manifest.Sha256, uploaded, PublishOutcome.Promoted, manifest.Version, reason));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes a published version current (no gate: an operator's explicit choice), once its stored model passes
    /// <see cref="ModelProbe"/> (downloaded, hash-checked, run on a zero scan).
    /// </summary>
    /// <exception cref="ModelRegistryException">The version is not in the registry.</exception>
    /// <exception cref="ModelLoadException">The stored model does not match its manifest or fails the probe; the pointer stays.</exception>
    public virtual async Task<ModelPointer> PromoteAsync(string version, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(version);
        var manifest = await GetManifestAsync(version, cancellationToken).ConfigureAwait(false);
        if ((await GetCurrentAsync(cancellationToken).ConfigureAwait(false))?.Version != version)
            await ProbeStoredAsync(version, "promote", cancellationToken).ConfigureAwait(false);
        return await UpdatePointerAsync<ModelPointer>(current => Task.FromResult(current?.Version == version
                ? ((ModelPointer?)null, current)
                : (Next(current, version, manifest.Sha256, "promoted"), Next(current, version, manifest.Sha256, "promoted"))),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes the previously current version current again (it leaves the history; the rolled-back one is dropped), once
    /// its stored model passes <see cref="ModelProbe"/>.
    /// </summary>
    /// <exception cref="ModelRegistryException">No model is current, or there is no earlier version.</exception>
    /// <exception cref="ModelLoadException">The earlier version's stored model fails the probe; the pointer stays.</exception>
    public virtual async Task<ModelPointer> RollbackAsync(CancellationToken cancellationToken = default)
    {
        string? probed = null; // a conflicting write decides again; the same target is not probed twice
        return await UpdatePointerAsync<ModelPointer>(async current =>
        {
            if (current is null) throw new ModelRegistryException("no model is current; nothing to roll back");
            if (current.Previous.Count == 0) throw new ModelRegistryException($"{current.Version} is current and no earlier version is recorded; nothing to roll back to");
            var target = current.Previous[0];
            _ = await GetManifestAsync(target.Version, cancellationToken).ConfigureAwait(false);
            if (probed != target.Version)
            {
                await ProbeStoredAsync(target.Version, "roll back to", cancellationToken).ConfigureAwait(false);
                probed = target.Version;
            }
            var next = new ModelPointer
            {
                Version = target.Version,
                Sha256 = target.Sha256,
                PromotedAt = _options.TimeProvider.GetUtcNow(),
                Reason = $"rollback from {current.Version}",
                Previous = [.. current.Previous.Skip(1)],
            };
            return (next, next);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every published version (those with a manifest), oldest first, marking the current one.</summary>
    public virtual async Task<IReadOnlyList<RegisteredModel>> ListAsync(CancellationToken cancellationToken = default)
    {
        var current = await GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        var models = new List<RegisteredModel>();
        await foreach (var item in _container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", null, cancellationToken).ConfigureAwait(false))
        {
            if (!item.IsPrefix) continue;
            var manifest = await TryGetManifestAsync(item.Prefix.TrimEnd('/'), cancellationToken).ConfigureAwait(false);
            if (manifest is not null) models.Add(RegisteredModel.From(manifest, manifest.Version == current?.Version));
        }
        return [.. models.OrderBy(m => m.Created).ThenBy(m => m.Version, StringComparer.Ordinal)];
    }

    /// <summary>The current pointer, or null when no model was ever promoted.</summary>
    public virtual async Task<ModelPointer?> GetCurrentAsync(CancellationToken cancellationToken = default) =>
        (await ReadPointerAsync(cancellationToken).ConfigureAwait(false)).Pointer;

    /// <summary>A published version's manifest.</summary>
    /// <exception cref="ModelRegistryException">The version is not in the registry.</exception>
    public virtual async Task<ModelManifest> GetManifestAsync(string version, CancellationToken cancellationToken = default) =>
        await TryGetManifestAsync(version, cancellationToken).ConfigureAwait(false)
        ?? throw new ModelRegistryException($"version '{version}' is not in the registry (no {_container.Name}/{version}/{ModelFolder.ManifestFileName})");

    /// <summary>
    /// The local copy of <paramref name="version"/> with SHA-256 <paramref name="sha256"/> in the model cache
    /// (<c>&lt;cacheRoot&gt;/&lt;version&gt;-&lt;sha256[..12]&gt;</c>, shared by scoring and the explain step): downloaded
    /// unless already there; a copy whose manifest names another hash is deleted and refused.
    /// </summary>
    /// <returns>The folder and its manifest.</returns>
    /// <exception cref="ModelLoadException"><paramref name="sha256"/> is not a SHA-256, or the copy is of other bytes.</exception>
    public virtual async Task<(string Directory, ModelManifest Manifest)> GetCachedAsync(string version, string sha256, string cacheRoot, CancellationToken cancellationToken = default)
    {
        if (!Sha256Hex.IsValid(sha256))
            throw new ModelLoadException($"model {version} is named with SHA-256 '{sha256}', which is not 64 hex digits");
        Directory.CreateDirectory(cacheRoot);
        string directory = Path.Combine(cacheRoot, $"{version}-{sha256[..12]}");
        if (!File.Exists(Path.Combine(directory, ModelFolder.ManifestFileName)))
            await DownloadAsync(version, directory, cancellationToken).ConfigureAwait(false);
        var manifest = ModelFolder.ReadManifest(directory);
        if (manifest.Sha256 != sha256)
        {
            Directory.Delete(directory, recursive: true);
            throw new ModelLoadException($"model {version} was named with SHA-256 {sha256}; its manifest in the registry says {manifest.Sha256}");
        }
        return (directory, manifest);
    }

    /// <summary>
    /// Downloads a version into <paramref name="directory"/> (model.onnx + manifest.json) and checks the file's SHA-256
    /// against the manifest; the folder is complete or absent (written under a temporary name, then moved).
    /// </summary>
    public virtual async Task<ModelManifest> DownloadAsync(string version, string directory, CancellationToken cancellationToken = default)
    {
        var manifest = await GetManifestAsync(version, cancellationToken).ConfigureAwait(false);
        string staging = StagingFolderFor(directory);
        Directory.CreateDirectory(staging);
        try
        {
            string modelPath = Path.Combine(staging, manifest.ModelFile);
            await _container.GetBlobClient($"{version}/{manifest.ModelFile}").DownloadToAsync(modelPath, cancellationToken).ConfigureAwait(false);
            string actual = await Sha256Hex.OfFileAsync(modelPath, cancellationToken).ConfigureAwait(false);
            if (actual != manifest.Sha256)
                throw new ModelLoadException($"{_container.Name}/{version}/{manifest.ModelFile} has SHA-256 {actual}; its manifest says {manifest.Sha256}. Refusing to serve it.");
            await File.WriteAllTextAsync(Path.Combine(staging, ModelFolder.ManifestFileName), ContractsJson.Serialize(manifest), cancellationToken).ConfigureAwait(false);
            MoveIntoPlace(staging, directory, () => File.Exists(Path.Combine(directory, ModelFolder.ManifestFileName)));
            return manifest;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Downloads the version's TorchSharp checkpoint, published with it when the model folder had one (Grad-CAM needs
    /// it; scoring does not), into <c>directory/checkpoint/</c>, each file checked against the SHA-256 stored with it;
    /// that folder is complete or absent.
    /// </summary>
    /// <returns>False when the version was published without a checkpoint.</returns>
    /// <exception cref="ModelLoadException">A stored file does not match the SHA-256 stored with it.</exception>
    public virtual async Task<bool> DownloadCheckpointAsync(string version, string directory, CancellationToken cancellationToken = default)
    {
        if (ModelFolder.FindCheckpoint(directory) is not null) return true;
        string target = Path.Combine(directory, ModelFolder.CheckpointFolderName);
        string staging = StagingFolderFor(target);
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var name in ModelFolder.CheckpointFiles)
            {
                string blobName = CheckpointBlobName(version, name);
                BlobDownloadStreamingResult download;
                try
                {
                    download = (await _container.GetBlobClient(blobName).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
                }
                catch (RequestFailedException error) when (error.Status == 404)
                {
                    return false;
                }
                string path = Path.Combine(staging, name);
                using (download)
                await using (var file = File.Create(path))
                    await download.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                download.Details.Metadata.TryGetValue("sha256", out var expected);
                string actual = await Sha256Hex.OfFileAsync(path, cancellationToken).ConfigureAwait(false);
                if (actual != expected)
                    throw new ModelLoadException($"{_container.Name}/{blobName} has SHA-256 {actual}; it was published with {expected ?? "none"}. Refusing to use it.");
            }
            MoveIntoPlace(staging, target, () => ModelFolder.FindCheckpoint(directory) is not null);
            return true;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>A unique sibling of <paramref name="folder"/> to download into, so that the folder itself is complete or absent.</summary>
    private static string StagingFolderFor(string folder) =>
        folder.TrimEnd(Path.DirectorySeparatorChar) + ".partial-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Moves a finished download into place; when another process finished the same download first (<paramref name="completedByAnother"/>), its folder is as good as ours.</summary>
    private static void MoveIntoPlace(string staging, string target, Func<bool> completedByAnother)
    {
        try
        {
            Directory.Move(staging, target);
        }
        catch (IOException) when (completedByAnother())
        {
        }
    }

    /// <summary>Uploads the folder's checkpoint, when it has one, as <c>&lt;version&gt;/checkpoint/…</c>, each blob with its SHA-256.</summary>
    private async Task UploadCheckpointAsync(string modelDirectory, string version, CancellationToken cancellationToken)
    {
        if (ModelFolder.FindCheckpoint(modelDirectory) is not { } folder) return;
        foreach (var name in ModelFolder.CheckpointFiles)
        {
            string path = Path.Combine(folder, name);
            string sha256 = await Sha256Hex.OfFileAsync(path, cancellationToken).ConfigureAwait(false);
            await using var file = File.OpenRead(path);
            await _container.GetBlobClient(CheckpointBlobName(version, name)).UploadAsync(file, new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                Metadata = new Dictionary<string, string> { ["sha256"] = sha256 },
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string CheckpointBlobName(string version, string file) => $"{version}/{ModelFolder.CheckpointFolderName}/{file}";

    /// <summary>Runs <see cref="ModelProbe"/> on a local model; a failure names the operation it refuses.</summary>
    private void Probe(string modelPath, ModelManifest manifest, string operation)
    {
        try
        {
            ModelProbe.Check(modelPath, manifest, _options.ProbeScorerOptions);
        }
        catch (ModelLoadException error)
        {
            throw new ModelLoadException($"refusing to {operation} {manifest.Version}: {error.Message}; {_container.Name}/{PointerBlobName} is unchanged", error);
        }
    }

    /// <summary>Downloads a stored version into a scratch folder (hash-checked) and probes it there.</summary>
    private async Task ProbeStoredAsync(string version, string operation, CancellationToken cancellationToken)
    {
        string scratch = Path.Combine(Path.GetTempPath(), $"ctscan-probe-{Guid.NewGuid():N}");
        try
        {
            ModelManifest manifest;
            try
            {
                manifest = await DownloadAsync(version, scratch, cancellationToken).ConfigureAwait(false);
            }
            catch (ModelLoadException error)
            {
                throw new ModelLoadException($"refusing to {operation} {version}: {error.Message}; {_container.Name}/{PointerBlobName} is unchanged", error);
            }
            Probe(Path.Combine(scratch, manifest.ModelFile), manifest, operation);
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>The pointer and its ETag; a known ETag that still matches gives (null, same ETag, Unchanged: true).</summary>
    internal virtual async Task<(ModelPointer? Pointer, ETag? ETag, bool Unchanged)> ReadPointerAsync(CancellationToken cancellationToken, ETag? ifNoneMatch = null)
    {
        var blob = _container.GetBlobClient(PointerBlobName);
        try
        {
            var options = ifNoneMatch is { } known ? new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = known } } : null;
            var response = await blob.DownloadContentAsync(options, cancellationToken).ConfigureAwait(false);
            if (response.GetRawResponse().Status == 304) return (null, ifNoneMatch, true);
            var pointer = JsonSerializer.Deserialize(response.Value.Content.ToString(), PipelineJsonContext.Default.ModelPointer)
                          ?? throw new ModelRegistryException($"{_container.Name}/{PointerBlobName} is JSON null");
            return (pointer, response.Value.Details.ETag, false);
        }
        catch (RequestFailedException error) when (error.Status == 304)
        {
            return (null, ifNoneMatch, true);
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return (null, null, false);
        }
        catch (JsonException error)
        {
            throw new ModelRegistryException($"{_container.Name}/{PointerBlobName} is not a valid model pointer: {error.Message}");
        }
    }

    internal async Task<ModelManifest?> TryGetManifestAsync(string version, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(version) || version.Contains('/') || version is "." or "..")
            throw new ModelRegistryException($"'{version}' is not a model version (a folder name without slashes)");
        try
        {
            var content = await _container.GetBlobClient($"{version}/{ModelFolder.ManifestFileName}").DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return ContractsJson.DeserializeManifest(content.Value.Content.ToString());
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Reads the pointer, lets <paramref name="decide"/> pick the next one (null: no change), and writes it only if the
    /// pointer has not changed since it was read; a conflict re-reads and decides again.
    /// </summary>
    private async Task<T> UpdatePointerAsync<T>(Func<ModelPointer?, Task<(ModelPointer? Next, T Result)>> decide, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient(PointerBlobName);
        for (int attempt = 1; attempt <= _options.MaxUpdateAttempts; attempt++)
        {
            var (current, etag, _) = await ReadPointerAsync(cancellationToken).ConfigureAwait(false);
            var (next, result) = await decide(current).ConfigureAwait(false);
            if (next is null) return result;
            var conditions = etag is { } e ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All };
            try
            {
                await blob.UploadAsync(BinaryData.FromString(JsonSerializer.Serialize(next, PipelineJsonContext.Default.ModelPointer)), new BlobUploadOptions
                {
                    Conditions = conditions,
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                }, cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (RequestFailedException error) when (error.Status is 412 or 409)
            {
                // Someone else replaced current.json since we read it: read it again and decide again.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * attempt)), cancellationToken).ConfigureAwait(false);
            }
        }
        throw new ModelRegistryException($"{_container.Name}/{PointerBlobName} kept changing; gave up after {_options.MaxUpdateAttempts} conflicting attempts");
    }

    private ModelPointer Next(ModelPointer? current, string version, string sha256, string reason) => new()
    {
        Version = version,
        Sha256 = sha256,
        PromotedAt = _options.TimeProvider.GetUtcNow(),
        Reason = reason,
        Previous = current is null
            ? []
            : [.. new[] { new ModelPointerEntry(current.Version, current.Sha256, current.PromotedAt) }.Concat(current.Previous)
                .Where(entry => entry.Version != version).Take(_options.HistoryLength)],
    };

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private double? MetricOf(ModelManifest manifest) =>
        manifest.TrainingMetrics is { } metrics && metrics.TryGetValue(_options.GateMetric, out var value) ? value : null;

    /// <summary>The manifest's trainingMetrics["valAuc"], when recorded.</summary>
    public static double? ValAucOf(ModelManifest manifest) =>
        manifest.TrainingMetrics is { } metrics && metrics.TryGetValue("valAuc", out var value) ? value : null;

    private static string Format(double? value) => value?.ToString("0.####", CultureInfo.InvariantCulture) ?? "unknown";
}
