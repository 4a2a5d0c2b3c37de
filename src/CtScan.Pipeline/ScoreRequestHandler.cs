using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Storage.Blobs.Models;
using CtScan.Contracts;
using CtScan.Scoring;
using CtScan.Tensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>What <see cref="ScoreRequestHandler.HandleAsync"/> did: the result written (null when the scan was replaced meanwhile).</summary>
public sealed record ScoreOutcome(ScanResult? Result, string? ResultBlobName, bool TensorRebuilt);

/// <summary>
/// The ScoreScan step: a score-requests message in, <c>results/&lt;scan&gt;.json</c> out, scored by the current
/// model. Input facts (source shape, spacing, datatype, preprocessing time) travel as metadata on the cached tensor
/// blob, since one tensor serves every scan name with the same bytes. A missing tensor, or one made with other
/// preprocessing than the current model's, is rebuilt from the scan blob. Malformed messages and scans that are gone
/// get a result at once; storage errors and model-loading problems propagate so the host retries (and finally
/// moves the message to the poison queue, where <see cref="PoisonHandler"/> records the failure).
/// </summary>
public class ScoreRequestHandler
{
    private readonly PipelineClients _clients;
    private readonly ModelProvider _models;
    private readonly ScanIngestor _ingestor;
    private readonly ResultStore _results;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ScanFreshness _freshness;

    private readonly InferenceBatcher _inferences;

    protected ScoreRequestHandler()
    {
        _freshness = null!;
        _inferences = new InferenceBatcher(new InferenceGate(1), 1);
        _clients = null!;
        _models = null!;
        _ingestor = null!;
        _results = null!;
        _logger = NullLogger.Instance;
        _time = TimeProvider.System;
    }

    /// <param name="inferences">The instance's inference batches (default: batches of <see cref="PipelineOptions.MaxInferenceBatch"/> through a gate of <see cref="PipelineOptions.MaxConcurrentInferences"/> slots).</param>
    public ScoreRequestHandler(PipelineClients clients, ModelProvider models, ScanIngestor ingestor, ResultStore results,
        ILogger<ScoreRequestHandler>? logger = null, TimeProvider? timeProvider = null, InferenceBatcher? inferences = null)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _models = models ?? throw new ArgumentNullException(nameof(models));
        _ingestor = ingestor ?? throw new ArgumentNullException(nameof(ingestor));
        _results = results ?? throw new ArgumentNullException(nameof(results));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _freshness = new ScanFreshness(clients);
        _inferences = inferences ?? new InferenceBatcher(new InferenceGate(clients.Options.MaxConcurrentInferences), clients.Options.MaxInferenceBatch);
    }

    /// <summary>Scores the request in <paramref name="message"/> (the queue message text, a JSON <see cref="ScoreRequest"/>).</summary>
    public virtual async Task<ScoreOutcome> HandleAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var total = Stopwatch.StartNew();
        var now = _time.GetUtcNow();

        ScoreRequest request;
        try
        {
            request = ScoreRequestMessage.Parse(message);
        }
        catch (InvalidDataException error)
        {
            var invalid = new ScanResult
            {
                Scan = "(unreadable score request)",
                Status = ScanStatus.Rejected,
                Error = new ScanError(PipelineErrorCodes.InvalidRequest, $"{error.Message}; message: {Truncate(message, 300)}"),
                CreatedAt = now,
            };
            string name = ScanNames.InvalidMessageResultBlobName(message);
            await _results.WriteAsync(name, invalid, cancellationToken).ConfigureAwait(false);
            // The error quotes the message, which may carry a scan name: only where names may be logged.
            _logger.LogWarning("Rejected an invalid score request: {Error}", _clients.Options.LogScanNames ? error.Message : $"details in {_clients.Results.Name}/{name}");
            return new ScoreOutcome(invalid, name, false);
        }

        var timings = new Dictionary<string, double> { ["queueWait"] = Math.Max(0, (now - request.EnqueuedAt).TotalMilliseconds) };
        if (ScanNames.UnsafeReason(request.Scan) is { } unsafeReason)
            return await WriteAsync(Reject(request, PipelineErrorCodes.UnsafeName, $"{request.Scan}: {unsafeReason}", timings, total), false, cancellationToken).ConfigureAwait(false);

        var version = ScanVersion.Of(request);
        var (freshness, currentSha) = await _freshness.CheckAsync(request.Scan, version, cancellationToken).ConfigureAwait(false);
        if (IsStale(freshness, version))
        {
            _logger.LogInformation("Dropped a stale score request for {Scan}: it is for content {Sha256}, the blob now holds {Current}",
                ScanLogName.Of(_clients.Options, request.Scan, request.Sha256), request.Sha256, freshness == Freshness.Gone ? "nothing (deleted)" : currentSha ?? "new content not yet ingested");
            return new ScoreOutcome(null, null, false);
        }

        using var lease = await _models.AcquireAsync(cancellationToken).ConfigureAwait(false);
        var manifest = lease.Manifest;
        string tensorName = TensorNames.For(request.Sha256, manifest.Preprocessing);
        var expected = manifest.InputVolume;

        var step = Stopwatch.StartNew();
        var downloaded = await TryDownloadAsync(tensorName, request.Sha256, expected, cancellationToken).ConfigureAwait(false);
        bool rebuilt = false;
        if (downloaded.Tensor is null)
        {
            // The cache lost it, holds a damaged or foreign blob under this name, or the current model preprocesses
            // differently from the one at ingest: rebuild from the scan.
            if (downloaded.Problem is { } problem) _logger.LogWarning("Rebuilding tensor {Tensor} for {Scan}: {Problem}", tensorName, ScanLogName.Of(_clients.Options, request.Scan, request.Sha256), problem);
            var rebuild = await RebuildAsync(request, version, manifest, downloaded.ETag, timings, total, cancellationToken).ConfigureAwait(false);
            if (rebuild.Done) return rebuild.Outcome!;
            rebuilt = true;
            downloaded = await TryDownloadAsync(tensorName, request.Sha256, expected, cancellationToken).ConfigureAwait(false);
            if (downloaded.Tensor is null)
                return await WriteAsync(Fail(request, PipelineErrorCodes.TensorInvalid,
                    $"tensor {tensorName} for {request.Scan} is unusable right after it was rebuilt: {downloaded.Problem ?? "it vanished"}", timings, total), version, rebuilt, cancellationToken).ConfigureAwait(false);
        }
        timings["download"] = step.Elapsed.TotalMilliseconds;
        var tensor = downloaded.Tensor;
        var metadata = downloaded.Metadata!;

        if (!tensor.Shape.SequenceEqual([expected.Width, expected.Height, expected.Depth]))
            return await WriteAsync(Reject(request, ScanErrorCodes.ShapeMismatch,
                $"tensor {tensorName} has shape [{string.Join(", ", tensor.Shape)}]; model {manifest.Version} takes [{expected.Width}, {expected.Height}, {expected.Depth}]", timings, total), version, rebuilt, cancellationToken).ConfigureAwait(false);
        foreach (float v in tensor.Data)
            if (!float.IsFinite(v))
                return await WriteAsync(Reject(request, ScanErrorCodes.NonFiniteValues, $"tensor {tensorName} holds NaN or infinite values", timings, total), version, rebuilt, cancellationToken).ConfigureAwait(false);

        // Scored in a batch with the requests waiting beside it; the model's error for this scan is this scan's alone.
        var batched = await _inferences.ScoreAsync(lease.Scorer, tensor.Data, cancellationToken).ConfigureAwait(false);
        timings["inferenceWait"] = batched.Wait.TotalMilliseconds;
        timings["inference"] = batched.Inference.TotalMilliseconds;
        timings["inferenceBatch"] = batched.BatchSize;
        if (batched.Error is { } modelError)
        {
            // The model's fault and not transient: a failed result now, never a retry loop into the poison queue.
            _logger.LogError("Model {Version} gave no probability for {Scan}: {Error}", manifest.Version, ScanLogName.Of(_clients.Options, request.Scan, request.Sha256), modelError.Message);
            var failed = Fail(request, ScanErrorCodes.InvalidModelOutput, $"{request.Scan}: {modelError.Message}", timings, total) with
            {
                Model = lease.Reference,
                Input = DescribeInput(request.Sha256, metadata),
                Warnings = TensorMetadata.DecodeWarnings(metadata),
            };
            return await WriteAsync(failed, version, rebuilt, cancellationToken).ConfigureAwait(false);
        }
        var score = batched.Score;
        if (metadata.TryGetValue(TensorMetadata.PreprocessMs, out var preprocessMs)
            && double.TryParse(preprocessMs, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            timings["preprocess"] = ms;
        timings["total"] = total.Elapsed.TotalMilliseconds;

        var result = new ScanResult
        {
            Scan = request.Scan,
            Status = ScanStatus.Scored,
            ProbabilityAbnormal = score.ProbabilityAbnormal,
            Label = score.Label,
            Threshold = manifest.Threshold,
            Model = lease.Reference,
            Input = DescribeInput(request.Sha256, metadata),
            Warnings = TensorMetadata.DecodeWarnings(metadata),
            TimingsMs = timings,
            CreatedAt = _time.GetUtcNow(),
        };
        var outcome = await WriteAsync(result, version, rebuilt, cancellationToken).ConfigureAwait(false);
        await ExplainQueue.EnqueueIfEnabledAsync(_clients, outcome.Result, request.Sha256, _time, cancellationToken).ConfigureAwait(false);
        if (outcome.Result is not null)
            _logger.LogInformation("Scored {Scan}: {Label} p={Probability:F4} with {Version}", ScanLogName.Of(_clients.Options, request.Scan, request.Sha256), score.Label, score.ProbabilityAbnormal, manifest.Version);
        return outcome;
    }

    /// <summary>
    /// Work for a replaced scan is stale; so is work for a deleted one when the request names the blob version (a
    /// request without one comes from bytes handed over directly and is scored from its tensor).
    /// </summary>
    private static bool IsStale(Freshness freshness, ScanVersion version) =>
        freshness == Freshness.Stale || (freshness == Freshness.Gone && !version.Unversioned);

    private async Task<(ScoreOutcome? Outcome, bool Done)> RebuildAsync(ScoreRequest request, ScanVersion version, ModelManifest manifest,
        ETag? badTensor, Dictionary<string, double> timings, Stopwatch total, CancellationToken cancellationToken)
    {
        Stream content;
        try
        {
            content = (await _clients.Scans.GetBlobClient(request.Scan).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.Content;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            var failed = Fail(request, PipelineErrorCodes.TensorMissing,
                $"tensor {request.Tensor} is not usable in {_clients.Tensors.Name} and scan {request.Scan} is no longer in {_clients.Scans.Name}; upload the scan again", timings, total);
            return (await WriteAsync(failed, version, false, cancellationToken).ConfigureAwait(false), true);
        }
        await using (content)
        {
            await using var spool = await ScanSpool.CreateAsync(content, _clients.Options.EffectiveSpoolDirectory, _clients.Options.MaxScanBytes, cancellationToken).ConfigureAwait(false);
            if (spool is null || spool.Sha256 != request.Sha256)
            {
                // The blob was replaced after this request was queued; its new content has its own request.
                _logger.LogInformation("Dropped a stale score request for {Scan}: the blob changed since the request was queued", ScanLogName.Of(_clients.Options, request.Scan, request.Sha256));
                return (new ScoreOutcome(null, null, false), true);
            }
            var tensor = await _ingestor.EnsureTensorAsync(request.Scan, spool, manifest.Preprocessing, cancellationToken, manifest.InputGate, badTensor).ConfigureAwait(false);
            if (tensor.Error is { } error)
                return (await WriteAsync(Reject(request, error.Code, error.Message, timings, total) with { Warnings = tensor.Warnings }, version, true, cancellationToken).ConfigureAwait(false), true);
            return (null, false);
        }
    }

    /// <summary>A cached tensor and its metadata, or why it cannot be used (null Tensor; Problem null when absent).</summary>
    private sealed record TensorDownload(Float32Tensor? Tensor, IDictionary<string, string>? Metadata, ETag? ETag, string? Problem);

    /// <summary>
    /// Downloads the tensor and checks it describes this scan content: readable .npy, the recorded scan hash equal to
    /// the request's, the model's shape. Anything else is reported as a problem, so the caller rebuilds it.
    /// </summary>
    private async Task<TensorDownload> TryDownloadAsync(string tensorName, string sha256, VolumeShape shape, CancellationToken cancellationToken)
    {
        BlobDownloadResult download;
        try
        {
            download = (await _clients.Tensors.GetBlobClient(tensorName).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return new TensorDownload(null, null, null, null);
        }
        var metadata = download.Details.Metadata;
        var etag = download.Details.ETag;
        if (!metadata.TryGetValue(TensorMetadata.Sha256, out var recorded) || recorded != sha256)
            return new TensorDownload(null, metadata, etag, $"it records scan hash {recorded ?? "(none)"}, the request is for {sha256}");
        Float32Tensor tensor;
        try
        {
            using var stream = download.Content.ToStream();
            tensor = NpyFile.Read(stream);
        }
        catch (Exception error) when (error is NpyFormatException or EndOfStreamException or InvalidDataException)
        {
            return new TensorDownload(null, metadata, etag, $"it is not a readable .npy ({error.Message})");
        }
        if (!tensor.Shape.SequenceEqual([shape.Width, shape.Height, shape.Depth]))
            return new TensorDownload(null, metadata, etag, $"it has shape [{string.Join(", ", tensor.Shape)}], expected [{shape.Width}, {shape.Height}, {shape.Depth}]");
        return new TensorDownload(tensor, metadata, etag, null);
    }

    private static InputDescription? DescribeInput(string sha256, IDictionary<string, string> metadata)
    {
        int[] shape = metadata.TryGetValue(TensorMetadata.SourceShape, out var s)
            ? [.. s.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))]
            : [];
        double[]? spacing = metadata.TryGetValue(TensorMetadata.SpacingMm, out var sp)
            ? [.. sp.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture))]
            : null;
        return new InputDescription(Sha256: sha256, Shape: shape, Datatype: metadata.TryGetValue(TensorMetadata.Datatype, out var d) ? d : "unknown", SpacingMm: spacing,
            Orientation: metadata.TryGetValue(TensorMetadata.Orientation, out var o) ? o : null);
    }

    private ScanResult Reject(ScoreRequest request, string code, string message, Dictionary<string, double> timings, Stopwatch total) =>
        Unscored(request, ScanStatus.Rejected, code, message, timings, total);

    private ScanResult Fail(ScoreRequest request, string code, string message, Dictionary<string, double> timings, Stopwatch total) =>
        Unscored(request, ScanStatus.Failed, code, message, timings, total);

    private ScanResult Unscored(ScoreRequest request, ScanStatus status, string code, string message, Dictionary<string, double> timings, Stopwatch total)
    {
        timings["total"] = total.Elapsed.TotalMilliseconds;
        return new ScanResult { Scan = request.Scan, Status = status, Error = new ScanError(code, message), TimingsMs = timings, CreatedAt = _time.GetUtcNow() };
    }

    /// <summary>Writes a result unless the scan now holds other content (then nothing is written and the outcome is empty).</summary>
    private async Task<ScoreOutcome> WriteAsync(ScanResult result, ScanVersion version, bool rebuilt, CancellationToken cancellationToken)
    {
        string? name = await _results.WriteWhileCurrentAsync(result, version,
            async ct => !IsStale((await _freshness.CheckAsync(result.Scan, version, ct).ConfigureAwait(false)).Freshness, version), cancellationToken).ConfigureAwait(false);
        if (name is null)
        {
            _logger.LogInformation("Dropped the result for {Scan} ({Sha256}): the blob was replaced while it was scored", ScanLogName.Of(_clients.Options, result.Scan, version.Sha256), version.Sha256);
            return new ScoreOutcome(null, null, rebuilt);
        }
        return new ScoreOutcome(result, name, rebuilt);
    }

    private async Task<ScoreOutcome> WriteAsync(ScanResult result, bool rebuilt, CancellationToken cancellationToken)
    {
        string name = await _results.WriteAsync(result, cancellationToken).ConfigureAwait(false);
        return new ScoreOutcome(result, name, rebuilt);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";
}
