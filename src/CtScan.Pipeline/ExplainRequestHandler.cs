using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Blobs.Models;
using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Nifti;
using CtScan.Scoring;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>Queues explain requests after scoring, when <see cref="PipelineOptions.Explain"/> is on.</summary>
public static class ExplainQueue
{
    /// <summary>Queues an <see cref="ExplainRequest"/> for <paramref name="result"/> if it is scored and explanations are on; otherwise nothing.</summary>
    public static async Task EnqueueIfEnabledAsync(PipelineClients clients, ScanResult? result, string sha256, TimeProvider time,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clients);
        if (!clients.Options.Explain || result is not { Status: ScanStatus.Scored, Model: { } model }) return;
        var request = new ExplainRequest(result.Scan, sha256, model, time.GetUtcNow());
        await clients.ExplainRequests.SendMessageAsync(ContractsJson.Serialize(request), cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>What <see cref="ExplainRequestHandler.HandleAsync"/> did.</summary>
/// <param name="Explanation">The explanation linked in the result; null when the request was dropped.</param>
/// <param name="Dropped">Why nothing was written (stale or invalid request), or null.</param>
/// <param name="Note">How the map was made and what it cost.</param>
public sealed record ExplainOutcome(ScanExplanation? Explanation, string? Dropped, string? Note = null);

/// <summary>
/// The ExplainScan step: an explain-requests message in; <c>results/&lt;scan&gt;.saliency.nii.gz</c> (the map on the
/// scan's own grid and affine) and <c>results/&lt;scan&gt;.saliency.png</c> (the overlay montage) out, and the
/// result's <c>explanation</c> set. The map explains the model version that scored the scan (downloaded from the
/// registry when it is no longer current). Requests for content or results that changed meanwhile are dropped; the
/// result is updated with an ETag condition, so a newer result is never overwritten. The maps are made by
/// <see cref="PipelineOptions.ExplainMethod"/>: occlusion through ONNX Runtime here, (Guided) Grad-CAM through the
/// <see cref="GradCamOpener"/> a host with TorchSharp passes in (<c>ctscan up</c>; the Functions app does not carry it),
/// on the checkpoint published with the model (occlusion, with a note, for a model published without one).
/// </summary>
public sealed class ExplainRequestHandler : IDisposable
{
    private readonly PipelineClients _clients;
    private readonly ModelRegistryClient _registry;
    private readonly InferenceGate _inferences;
    private readonly ILogger _logger;
    private readonly GradCamOpener? _gradCam;
    private readonly ConcurrentDictionary<string, Lazy<Task<LoadedMethod>>> _methods = new();
    private readonly SemaphoreSlim _loading = new(1, 1);

    /// <param name="gradCam">Opens (Guided) Grad-CAM; required when <see cref="PipelineOptions.ExplainMethod"/> is one of them.</param>
    /// <exception cref="PipelineConfigurationException">A Grad-CAM method is configured and no <paramref name="gradCam"/> is given.</exception>
    public ExplainRequestHandler(PipelineClients clients, ModelRegistryClient registry, InferenceGate inferences, ILogger<ExplainRequestHandler>? logger = null,
        GradCamOpener? gradCam = null)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _inferences = inferences ?? throw new ArgumentNullException(nameof(inferences));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _gradCam = gradCam;
        if (clients.Options.Explain && clients.Options.ExplainMethod != ExplanationMethods.Occlusion && gradCam is null)
            throw new PipelineConfigurationException(
                $"CtScan__ExplainMethod {clients.Options.ExplainMethod} needs TorchSharp, which this host does not load; use {ExplanationMethods.Occlusion} here (`ctscan up` runs Grad-CAM)");
    }

    /// <summary>A model version's saliency method, loaded once, and the manifest the explainer reads its grid and window from.</summary>
    private sealed record LoadedMethod(ISaliencyMethod Method, ModelManifest Manifest);

    /// <summary>Explains the scan in <paramref name="message"/> (the queue message text, a JSON <see cref="ExplainRequest"/>).</summary>
    public async Task<ExplainOutcome> HandleAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ExplainRequest request;
        try
        {
            request = ContractsJson.DeserializeExplainRequest(message);
            if (string.IsNullOrEmpty(request.Scan) || !Sha256Hex.IsValid(request.Sha256) || request.Model is null || !Sha256Hex.IsValid(request.Model.Sha256))
                throw new InvalidDataException("scan, a 64-hex-digit sha256 and model {version, sha256} are required");
            if (ScanNames.UnsafeReason(request.Scan) is { } unsafeReason) throw new InvalidDataException(unsafeReason);
        }
        catch (InvalidDataException error)
        {
            // Retrying cannot fix a malformed request, and it names no result to mark: log and drop.
            _logger.LogWarning("Dropped an invalid explain request: {Error}", error.Message);
            return new ExplainOutcome(null, $"invalid explain request: {error.Message}");
        }
        string logName = ScanLogName.Of(_clients.Options, request.Scan, request.Sha256);
        string resultName = ScanNames.ResultBlobName(request.Scan);

        if (await ReadResultAsync(resultName, cancellationToken).ConfigureAwait(false) is not { } current || StaleReason(current.Result, request) is { } before)
            return Drop(logName, "the result no longer describes this content and model");

        // The scan's bytes, checked against the request's hash (the blob may have been replaced since scoring).
        Stream content;
        try
        {
            content = (await _clients.Scans.GetBlobClient(request.Scan).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.Content;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return Drop(logName, "the scan is no longer in " + _clients.Scans.Name);
        }
        ExplainedScan explained;
        NiftiHeader header;
        string note;
        await using (content)
        {
            await using var spool = await ScanSpool.CreateAsync(content, _clients.Options.EffectiveSpoolDirectory, _clients.Options.MaxScanBytes, cancellationToken).ConfigureAwait(false);
            if (spool is null || spool.Sha256 != request.Sha256) return Drop(logName, "the scan blob holds other content now");
            var loaded = await MethodForAsync(request.Model, cancellationToken).ConfigureAwait(false);
            using var image = NiftiImage.Open(spool.Path, _clients.Options.NiftiReadOptions);
            header = image.Header;
            using (await _inferences.EnterAsync(cancellationToken).ConfigureAwait(false))
                explained = new ScanExplainer(loaded.Method, loaded.Manifest).Explain(image, cancellationToken);
            note = explained.Saliency.Note;
        }

        var (mapName, montageName) = ScanExplainer.NamesFor(request.Scan);
        await UploadAsync(mapName, "application/gzip", stream => ScanExplainer.WriteMap(stream, explained, header), cancellationToken).ConfigureAwait(false);
        await UploadAsync(montageName, "image/png", stream => ScanExplainer.WriteMontage(stream, explained), cancellationToken).ConfigureAwait(false);
        var explanation = new ScanExplanation(explained.Saliency.Method, mapName, montageName);
        if (!await LinkAsync(resultName, request, explanation, cancellationToken).ConfigureAwait(false))
            return Drop(logName, "the result changed while the map was made");
        _logger.LogInformation("Explained {Scan}: {Note}", logName, note);
        return new ExplainOutcome(explanation, null, note);
    }

    /// <summary>Sets the result's explanation if the result still describes the request's content and model (If-Match its ETag).</summary>
    private async Task<bool> LinkAsync(string resultName, ExplainRequest request, ScanExplanation explanation, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            if (await ReadResultAsync(resultName, cancellationToken).ConfigureAwait(false) is not { } current || StaleReason(current.Result, request) is not null)
                return false;
            try
            {
                await _clients.Results.GetBlobClient(resultName).UploadAsync(
                    BinaryData.FromString(ContractsJson.Serialize(current.Result with { Explanation = explanation })),
                    new BlobUploadOptions
                    {
                        Conditions = new BlobRequestConditions { IfMatch = current.ETag },
                        Metadata = current.Metadata, // the freshness metadata the score step wrote
                        HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                    }, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException error) when (error.Status is 409 or 412)
            {
                // Written meanwhile: read it again and decide again.
            }
        }
        return false;
    }

    private static string? StaleReason(ScanResult result, ExplainRequest request) =>
        result.Status != ScanStatus.Scored ? "not scored"
        : result.Input?.Sha256 != request.Sha256 ? "other content"
        : result.Model != request.Model ? "another model" : null;

    private sealed record StoredResult(ScanResult Result, ETag ETag, IDictionary<string, string> Metadata);

    private async Task<StoredResult?> ReadResultAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var download = (await _clients.Results.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
            try { return new StoredResult(ContractsJson.DeserializeResult(download.Content.ToString()), download.Details.ETag, download.Details.Metadata); }
            catch (InvalidDataException) { return null; }
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return null;
        }
    }

    private async Task UploadAsync(string name, string contentType, Action<Stream> write, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        write(buffer);
        buffer.Position = 0;
        await _clients.Results.GetBlobClient(name).UploadAsync(buffer, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The saliency method for a model version, loaded once (downloaded into the model cache when needed).</summary>
    private async Task<LoadedMethod> MethodForAsync(ModelReference model, CancellationToken cancellationToken)
    {
        string key = $"{model.Version}/{model.Sha256}";
        var lazy = _methods.GetOrAdd(key, _ => new Lazy<Task<LoadedMethod>>(() => LoadAsync(model, CancellationToken.None)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _methods.TryRemove(key, out _); // let the next message try again
            throw;
        }
    }

    private async Task<LoadedMethod> LoadAsync(ModelReference model, CancellationToken cancellationToken)
    {
        await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The same cache folder the scoring step's ModelProvider uses for this version.
            var (directory, manifest) = await _registry.GetCachedAsync(model.Version, model.Sha256, _clients.Options.EffectiveModelCacheDirectory, cancellationToken).ConfigureAwait(false);
            string method = _clients.Options.ExplainMethod;
            if (method != ExplanationMethods.Occlusion && _gradCam is not null)
            {
                if (await _registry.DownloadCheckpointAsync(model.Version, directory, cancellationToken).ConfigureAwait(false))
                    return new LoadedMethod(_gradCam(directory, guided: method == ExplanationMethods.GuidedGradCam), manifest);
                _logger.LogWarning("Model {Version} was published without its TorchSharp checkpoint, which {Method} needs: its scans are explained by occlusion",
                    model.Version, method);
            }
            // No arena: an occlusion session's peak would otherwise stay for good beside the scorer's.
            var occlusion = OcclusionSensitivity.Open(directory, _clients.Options.Occlusion, _clients.Options.OnnxScorerOptions with { EnableCpuMemArena = false });
            return new LoadedMethod(occlusion, occlusion.Manifest);
        }
        finally
        {
            _loading.Release();
        }
    }

    private ExplainOutcome Drop(string logName, string reason)
    {
        _logger.LogInformation("Dropped an explain request for {Scan}: {Reason}", logName, reason);
        return new ExplainOutcome(null, reason);
    }

    public void Dispose()
    {
        foreach (var lazy in _methods.Values)
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully) lazy.Value.Result.Method.Dispose();
        _loading.Dispose();
    }
}
