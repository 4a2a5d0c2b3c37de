using System.Diagnostics;
using System.Globalization;
using Azure;
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

    private readonly InferenceGate _inferences;

    protected ScoreRequestHandler()
    {
        _inferences = new InferenceGate(1);
        _clients = null!;
        _models = null!;
        _ingestor = null!;
        _results = null!;
        _logger = NullLogger.Instance;
        _time = TimeProvider.System;
    }

    /// <param name="inferences">The instance's inference bound (default: a gate of <see cref="PipelineOptions.MaxConcurrentInferences"/> slots).</param>
    public ScoreRequestHandler(PipelineClients clients, ModelProvider models, ScanIngestor ingestor, ResultStore results,
        ILogger<ScoreRequestHandler>? logger = null, TimeProvider? timeProvider = null, InferenceGate? inferences = null)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _models = models ?? throw new ArgumentNullException(nameof(models));
        _ingestor = ingestor ?? throw new ArgumentNullException(nameof(ingestor));
        _results = results ?? throw new ArgumentNullException(nameof(results));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _inferences = inferences ?? new InferenceGate(clients.Options.MaxConcurrentInferences);
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
            request = ContractsJson.DeserializeScoreRequest(message);
            if (string.IsNullOrEmpty(request.Scan) || string.IsNullOrEmpty(request.Tensor) || !Sha256Hex.IsValid(request.Sha256))
                throw new InvalidDataException($"invalid score request: scan, tensor and a 64-hex-digit sha256 are required; got scan '{request.Scan}', tensor '{request.Tensor}', sha256 '{request.Sha256}'");
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
            _logger.LogWarning("Rejected an invalid score request: {Error}", error.Message);
            return new ScoreOutcome(invalid, name, false);
        }

        var timings = new Dictionary<string, double> { ["queueWait"] = Math.Max(0, (now - request.EnqueuedAt).TotalMilliseconds) };
        if (ScanNames.UnsafeReason(request.Scan) is { } unsafeReason)
            return await WriteAsync(Reject(request, PipelineErrorCodes.UnsafeName, $"{request.Scan}: {unsafeReason}", timings, total), false, cancellationToken).ConfigureAwait(false);

        using var lease = await _models.AcquireAsync(cancellationToken).ConfigureAwait(false);
        var manifest = lease.Manifest;
        string tensorName = ScanNames.TensorBlobName(request.Sha256, manifest.Preprocessing);

        var step = Stopwatch.StartNew();
        var downloaded = await TryDownloadAsync(tensorName, cancellationToken).ConfigureAwait(false);
        bool rebuilt = false;
        if (downloaded is null)
        {
            // The cache lost it, or the current model preprocesses differently from the one at ingest: rebuild from the scan.
            var rebuild = await RebuildAsync(request, manifest.Preprocessing, timings, total, cancellationToken).ConfigureAwait(false);
            if (rebuild.Outcome is { } final) return final;
            rebuilt = true;
            downloaded = await TryDownloadAsync(tensorName, cancellationToken).ConfigureAwait(false)
                         ?? throw new RequestFailedException(404, $"tensor {tensorName} vanished right after it was written");
        }
        timings["download"] = step.Elapsed.TotalMilliseconds;
        var (tensor, metadata) = downloaded.Value;

        var expected = manifest.InputVolume;
        if (!tensor.Shape.SequenceEqual([expected.Width, expected.Height, expected.Depth]))
            return await WriteAsync(Reject(request, ScanErrorCodes.ShapeMismatch,
                $"tensor {tensorName} has shape [{string.Join(", ", tensor.Shape)}]; model {manifest.Version} takes [{expected.Width}, {expected.Height}, {expected.Depth}]", timings, total), rebuilt, cancellationToken).ConfigureAwait(false);
        foreach (float v in tensor.Data)
            if (!float.IsFinite(v))
                return await WriteAsync(Reject(request, ScanErrorCodes.NonFiniteValues, $"tensor {tensorName} holds NaN or infinite values", timings, total), rebuilt, cancellationToken).ConfigureAwait(false);

        step.Restart();
        ScanScore score;
        using (await _inferences.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            timings["inferenceWait"] = step.Elapsed.TotalMilliseconds;
            step.Restart();
            score = lease.Scorer.Score(tensor.Data, cancellationToken);
        }
        timings["inference"] = step.Elapsed.TotalMilliseconds;
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
            TimingsMs = timings,
            CreatedAt = _time.GetUtcNow(),
        };
        var outcome = await WriteAsync(result, rebuilt, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Scored {Scan}: {Label} p={Probability:F4} with {Version}", request.Scan, score.Label, score.ProbabilityAbnormal, manifest.Version);
        return outcome;
    }

    private async Task<(ScoreOutcome? Outcome, bool Done)> RebuildAsync(ScoreRequest request, PreprocessingSpec preprocessing,
        Dictionary<string, double> timings, Stopwatch total, CancellationToken cancellationToken)
    {
        Stream content;
        try
        {
            content = (await _clients.Scans.GetBlobClient(request.Scan).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.Content;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            var failed = Fail(request, PipelineErrorCodes.TensorMissing,
                $"tensor {request.Tensor} is not in {_clients.Tensors.Name} and scan {request.Scan} is no longer in {_clients.Scans.Name}; upload the scan again", timings, total);
            return (await WriteAsync(failed, false, cancellationToken).ConfigureAwait(false), true);
        }
        await using (content)
        {
            await using var spool = await ScanSpool.CreateAsync(content, _clients.Options.EffectiveSpoolDirectory, _clients.Options.MaxScanBytes, cancellationToken).ConfigureAwait(false);
            if (spool is null || spool.Sha256 != request.Sha256)
            {
                // The blob was replaced after this request was queued; its new content has its own request.
                _logger.LogInformation("Skipped {Scan}: the blob changed since the request was queued", request.Scan);
                return (new ScoreOutcome(null, null, false), true);
            }
            var tensor = await _ingestor.EnsureTensorAsync(request.Scan, spool, preprocessing, cancellationToken).ConfigureAwait(false);
            if (tensor.Error is { } error)
                return (await WriteAsync(Reject(request, error.Code, error.Message, timings, total), true, cancellationToken).ConfigureAwait(false), true);
            return (null, false);
        }
    }

    private async Task<(Float32Tensor Tensor, IDictionary<string, string> Metadata)?> TryDownloadAsync(string tensorName, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _clients.Tensors.GetBlobClient(tensorName).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            using var stream = response.Value.Content.ToStream();
            return (NpyFile.Read(stream), response.Value.Details.Metadata);
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return null;
        }
    }

    private static InputDescription? DescribeInput(string sha256, IDictionary<string, string> metadata)
    {
        int[] shape = metadata.TryGetValue(TensorMetadata.SourceShape, out var s)
            ? [.. s.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))]
            : [];
        double[]? spacing = metadata.TryGetValue(TensorMetadata.SpacingMm, out var sp)
            ? [.. sp.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture))]
            : null;
        return new InputDescription(Sha256: sha256, Shape: shape, Datatype: metadata.TryGetValue(TensorMetadata.Datatype, out var d) ? d : "unknown", SpacingMm: spacing);
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

    private async Task<ScoreOutcome> WriteAsync(ScanResult result, bool rebuilt, CancellationToken cancellationToken)
    {
        string name = await _results.WriteAsync(result, cancellationToken).ConfigureAwait(false);
        return new ScoreOutcome(result, name, rebuilt);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";
}
