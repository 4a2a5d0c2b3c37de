using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Storage.Blobs.Models;
using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Tensors;
using CtScan.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>What <see cref="ScanIngestor.IngestAsync"/> did with a scan.</summary>
/// <param name="Queued">A score request was enqueued (false: rejected, and <see cref="ResultBlobName"/> holds why).</param>
/// <param name="TensorCreated">This call preprocessed the scan (false: the tensor was already cached).</param>
public sealed record IngestResult(string Scan, bool Queued, string? Sha256, string? Tensor, bool TensorCreated, ScoreRequest? Request,
    string? ResultBlobName, ScanError? Error, IReadOnlyDictionary<string, double> TimingsMs);

/// <summary>Which blob version an ingest's content is, when the caller knows it.</summary>
/// <param name="ETag">The scan blob's ETag when the content was read; null: unknown.</param>
/// <param name="TaggedSha256">The blob's <see cref="ContentMetadata.Sha256"/> tag at that version, when it had one.</param>
/// <param name="Requeue">Queue a request even when the tag says this content was ingested already (the pending-scan sweep).</param>
public sealed record IngestSource(ETag? ETag, string? TaggedSha256, bool Requeue)
{
    public static IngestSource Unversioned { get; } = new(null, null, false);
}

/// <summary>Metadata keys on cached tensor blobs: what the scorer reports about the input, and how it was made.</summary>
public static class TensorMetadata
{
    public const string Sha256 = "sha256";
    public const string SourceShape = "source_shape";
    public const string SpacingMm = "spacing_mm";
    public const string Datatype = "datatype";
    public const string PreprocessMs = "preprocess_ms";
    public const string HuWindow = "hu_window";
    public const string TargetShape = "target_shape";
    public const string NonFiniteVoxels = "nonfinite_voxels";
    /// <summary>Axis codes of the scan's affine (e.g. LPS), absent when the header has none.</summary>
    public const string Orientation = "orientation";
    /// <summary>The input gate's warnings: <c>code:base64(UTF-8 message)</c>, comma-separated (metadata values must be ASCII).</summary>
    public const string GateWarnings = "gate_warnings";

    /// <summary>Encodes warnings for <see cref="GateWarnings"/>.</summary>
    public static string EncodeWarnings(IEnumerable<ScanWarning> warnings) =>
        string.Join(",", warnings.Select(w => $"{w.Code}:{Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(w.Message))}"));

    /// <summary>Decodes <see cref="GateWarnings"/>; null when there are none.</summary>
    public static IReadOnlyList<ScanWarning>? DecodeWarnings(IDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(GateWarnings, out var text) || string.IsNullOrEmpty(text)) return null;
        return [.. text.Split(',').Select(item => item.Split(':', 2)).Select(parts =>
            new ScanWarning(parts[0], parts.Length > 1 ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(parts[1])) : parts[0]))];
    }
    public const string PreprocessingVersion = "preprocessing_version";
    public const string PreprocessingKey = "preprocessing_key";
}

/// <summary>
/// The PreprocessScan step: a scan blob in, a cached tensor (<c>tensors/</c>, named by <see cref="TensorNames"/>) and a score request
/// out. Bad scans get a <c>rejected</c> result at once and return normally (no retry); storage and network errors
/// propagate so the host retries.
/// </summary>
public class ScanIngestor
{
    private readonly PipelineClients _clients;
    private readonly ModelProvider _models;
    private readonly ResultStore _results;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ScanFreshness _freshness;

    protected ScanIngestor()
    {
        _freshness = null!;
        _clients = null!;
        _models = null!;
        _results = null!;
        _logger = NullLogger.Instance;
        _time = TimeProvider.System;
    }

    public ScanIngestor(PipelineClients clients, ModelProvider models, ResultStore results, ILogger<ScanIngestor>? logger = null, TimeProvider? timeProvider = null)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _models = models ?? throw new ArgumentNullException(nameof(models));
        _results = results ?? throw new ArgumentNullException(nameof(results));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _freshness = new ScanFreshness(clients);
    }

    private PipelineOptions Options => _clients.Options;

    private const int SeenLimit = 100_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);

    /// <summary>Whether this ingestor was asked to ingest <paramref name="scanName"/> since it was created (the pending-scan sweep asks).</summary>
    public bool HasSeen(string scanName) => _seen.ContainsKey(scanName);

    /// <summary>The ETag each blob got from this ingestor's own content tag (bounded like <see cref="_seen"/>).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ETag> _tagged = new(StringComparer.Ordinal);

    /// <summary>
    /// Reads the blob <paramref name="scanName"/> from <c>scans</c> in one request (so its content and ETag belong
    /// together) and ingests it as that version: the score request carries the ETag, and the blob is tagged with the
    /// content's SHA-256 afterwards. A blob already tagged with the hash of what it holds was ingested before (the
    /// tag's own metadata write re-fires polling blob triggers) and is skipped unless <paramref name="requeue"/>.
    /// </summary>
    /// <returns>The outcome; null when the blob no longer exists (nothing to do).</returns>
    public virtual async Task<IngestResult?> IngestBlobAsync(string scanName, bool requeue = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scanName);
        // Storage refuses some unsafe names (".." segments) outright; their rejection does not depend on the content.
        if (ScanNames.UnsafeReason(scanName) is not null) return await IngestAsync(scanName, Stream.Null, IngestSource.Unversioned, cancellationToken).ConfigureAwait(false);
        if (!requeue && await TryOwnTagAsync(scanName, cancellationToken).ConfigureAwait(false) is { } skipped) return skipped;
        Response<BlobDownloadStreamingResult> download;
        try
        {
            download = await _clients.Scans.GetBlobClient(scanName).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            _logger.LogInformation("Skipped {Scan}: the blob is gone", ScanLogName.Of(Options, scanName, null));
            return null;
        }
        var details = download.Value.Details;
        string? tagged = details.Metadata.TryGetValue(ContentMetadata.Sha256, out var t) ? t : null;
        await using var content = download.Value.Content;
        return await IngestAsync(scanName, content, new IngestSource(details.ETag, tagged, requeue), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The trigger fired again for this ingestor's own tag write (the blob still has the ETag that write gave it, so
    /// nothing changed since): skipped with one properties request instead of reading and hashing the whole scan again,
    /// which would hold a blob trigger slot as long as ingesting it did. Null when that is not known to be so.
    /// </summary>
    private async Task<IngestResult?> TryOwnTagAsync(string scanName, CancellationToken cancellationToken)
    {
        if (!_tagged.TryGetValue(scanName, out var taggedETag)) return null;
        BlobProperties properties;
        try
        {
            properties = (await _clients.Scans.GetBlobClient(scanName).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            return null; // the full path reports it gone
        }
        if (properties.ETag != taggedETag || !properties.Metadata.TryGetValue(ContentMetadata.Sha256, out var sha)) return null;
        _logger.LogInformation("Skipped {Scan} ({Sha256}): already ingested (its blob carries the content tag)", ScanLogName.Of(Options, scanName, sha), sha);
        return new IngestResult(scanName, false, sha, null, false, null, null, null, new Dictionary<string, double>());
    }

    /// <summary>Ingests bytes handed over without a blob version (tests, tools): never judged stale, the blob is not tagged.</summary>
    public Task<IngestResult> IngestAsync(string scanName, Stream content, CancellationToken cancellationToken = default) =>
        IngestAsync(scanName, content, IngestSource.Unversioned, cancellationToken);

    /// <summary>
    /// Hashes the scan while spooling it, preprocesses it with the current model's preprocessing parameters (the
    /// seed's when no model is current) unless that tensor is cached, and enqueues a <see cref="ScoreRequest"/>.
    /// </summary>
    /// <param name="scanName">The blob name in <c>scans</c>.</param>
    /// <param name="content">The blob's content (read once, to the end).</param>
    /// <param name="source">Which blob version the content is, when known.</param>
    public virtual async Task<IngestResult> IngestAsync(string scanName, Stream content, IngestSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scanName);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(source);
        var total = Stopwatch.StartNew();
        var timings = new Dictionary<string, double>();
        if (_seen.Count >= SeenLimit) _seen.Clear(); // a bound, not a cache: forgetting only makes the sweep re-check
        _seen.TryAdd(scanName, 0);
        var unhashed = new ScanVersion(null, source.ETag);

        if (ScanNames.UnsafeReason(scanName) is { } unsafeReason)
            return await RejectAsync(scanName, PipelineErrorCodes.UnsafeName, $"{scanName}: {unsafeReason}; its result is stored under {ScanNames.ResultBlobName(scanName)}", unhashed, timings, total, cancellationToken).ConfigureAwait(false);
        if (!ScanNames.HasNiftiSuffix(scanName))
            return await RejectAsync(scanName, ScanErrorCodes.UnsupportedFormat,
                $"{scanName}: unsupported file type; expected a NIfTI scan named *.nii or *.nii.gz", unhashed, timings, total, cancellationToken).ConfigureAwait(false);

        var step = Stopwatch.StartNew();
        await using var spool = await ScanSpool.CreateAsync(content, Options.EffectiveSpoolDirectory, Options.MaxScanBytes, cancellationToken).ConfigureAwait(false);
        timings["read"] = step.Elapsed.TotalMilliseconds;
        if (spool is null)
            return await RejectAsync(scanName, PipelineErrorCodes.ScanTooLarge,
                $"{scanName}: the scan is larger than the limit of {Options.MaxScanBytes} bytes", unhashed, timings, total, cancellationToken).ConfigureAwait(false);
        var version = new ScanVersion(spool.Sha256, source.ETag);
        if (source.TaggedSha256 == spool.Sha256 && !source.Requeue)
        {
            // The tag is written after the request is queued (or the rejection written), so this content is in hand.
            _logger.LogInformation("Skipped {Scan} ({Sha256}): already ingested (its blob carries the content tag)", ScanLogName.Of(Options, scanName, spool.Sha256), spool.Sha256);
            return new IngestResult(scanName, false, spool.Sha256, null, false, null, null, null, timings);
        }

        var manifest = await _models.GetCurrentManifestAsync(cancellationToken).ConfigureAwait(false);
        var preprocessing = manifest?.Preprocessing ?? ScanNames.SeedPreprocessing;
        var tensor = await EnsureTensorAsync(scanName, spool, preprocessing, cancellationToken, manifest?.InputGate).ConfigureAwait(false);
        foreach (var (key, value) in tensor.TimingsMs) timings[key] = value;
        if (tensor.Error is { } error)
            return await RejectAsync(scanName, error.Code, error.Message, version, timings, total, cancellationToken, tensor.Warnings).ConfigureAwait(false);

        var request = new ScoreRequest(scanName, tensor.TensorName!, spool.Sha256, _time.GetUtcNow(),
            source.ETag is { } etag ? ContentMetadata.Text(etag) : null);
        step.Restart();
        await _clients.ScoreRequests.SendMessageAsync(ContractsJson.Serialize(request), cancellationToken).ConfigureAwait(false);
        timings["enqueue"] = step.Elapsed.TotalMilliseconds;
        await TagAsync(scanName, version, cancellationToken).ConfigureAwait(false);
        timings["total"] = total.Elapsed.TotalMilliseconds;
        _logger.LogInformation("Queued {Scan} ({Sha256}) as {Tensor}; preprocessed: {Created}", ScanLogName.Of(Options, scanName, spool.Sha256), spool.Sha256, tensor.TensorName, tensor.Created);
        return new IngestResult(scanName, true, spool.Sha256, tensor.TensorName, tensor.Created, request, null, null, timings);
    }

    /// <summary>
    /// Records the content's hash on the scan blob, on condition that it is still the version read. Done after the
    /// request is queued, so a tagged blob always has its work in hand; a blob replaced meanwhile keeps no tag.
    /// </summary>
    private async Task TagAsync(string scanName, ScanVersion version, CancellationToken cancellationToken)
    {
        if (version.ETag is not { } etag || version.Sha256 is not { } sha) return;
        var blob = _clients.Scans.GetBlobClient(scanName);
        try
        {
            var properties = (await blob.GetPropertiesAsync(new BlobRequestConditions { IfMatch = etag }, cancellationToken).ConfigureAwait(false)).Value;
            var metadata = new Dictionary<string, string>(properties.Metadata) { [ContentMetadata.Sha256] = sha };
            var tagged = await blob.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = etag }, cancellationToken).ConfigureAwait(false);
            if (_tagged.Count >= SeenLimit) _tagged.Clear(); // forgetting only costs a full read of a re-fired blob
            _tagged[scanName] = tagged.Value.ETag;
        }
        catch (RequestFailedException error) when (error.Status is 404 or 409 or 412)
        {
            _logger.LogInformation("{Scan} changed while it was ingested ({Sha256}); the new content is ingested on its own", ScanLogName.Of(Options, scanName, sha), sha);
        }
    }

    internal sealed record TensorOutcome(string? TensorName, bool Created, ScanError? Error, IReadOnlyDictionary<string, double> TimingsMs,
        IReadOnlyList<ScanWarning>? Warnings = null);

    /// <summary>
    /// Makes sure the tensor for this scan and preprocessing exists in <c>tensors</c>, recorded as made from this
    /// content; preprocesses the spooled scan only when it does not. A cached blob that records another scan hash, or
    /// that the score step found damaged (<paramref name="replace"/>: its ETag), is rebuilt and overwritten. A file
    /// the reader cannot handle, or the input gate (<see cref="ScanIntake"/>, the same as <c>ctscan score</c>'s)
    /// rejects, gives an error (the caller rejects).
    /// </summary>
    internal async Task<TensorOutcome> EnsureTensorAsync(string scanName, ScanSpool spool, PreprocessingSpec preprocessing, CancellationToken cancellationToken,
        InputGateSpec? gate = null, ETag? replace = null)
    {
        var timings = new Dictionary<string, double>();
        var options = PreprocessingSpecs.ToOptions(preprocessing);
        string tensorName = TensorNames.For(spool.Sha256, options);
        var blob = _clients.Tensors.GetBlobClient(tensorName);
        var step = Stopwatch.StartNew();
        if (replace is null)
        {
            try
            {
                var cached = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
                timings["cacheLookup"] = step.Elapsed.TotalMilliseconds;
                if (cached.Metadata.TryGetValue(TensorMetadata.Sha256, out var recorded) && recorded == spool.Sha256)
                    return new TensorOutcome(tensorName, false, null, timings);
                _logger.LogWarning("Rebuilding tensor {Tensor}: it records scan hash {Recorded}, not {Sha256}", tensorName, recorded ?? "(none)", spool.Sha256);
                replace = cached.ETag;
            }
            catch (RequestFailedException error) when (error.Status == 404)
            {
                timings["cacheLookup"] = step.Elapsed.TotalMilliseconds;
            }
        }

        step.Restart();
        IntakeResult intake;
        NiftiHeader header;
        try
        {
            await using var file = spool.OpenRead();
            using var image = NiftiImage.Read(file, scanName, Options.NiftiReadOptions, leaveOpen: true);
            header = image.Header;
            intake = ScanIntake.For(preprocessing, gate, Options.WorkBudget).Process(image, cancellationToken);
        }
        catch (NiftiLimitException error)
        {
            return new TensorOutcome(null, false, new ScanError(ScanErrorCodes.TooLarge, error.Message), timings);
        }
        catch (NiftiFormatException error)
        {
            return new TensorOutcome(null, false, new ScanError(ScanErrorCodes.UnreadableInput, error.Message), timings);
        }
        catch (Exception error) when (error is InvalidDataException or EndOfStreamException or ArgumentException or OverflowException)
        {
            // gzip damage surfaces as InvalidDataException; odd extents as ArgumentException from the transforms.
            return new TensorOutcome(null, false, new ScanError(ScanErrorCodes.UnreadableInput, $"{scanName}: {error.Message}"), timings);
        }
        double preprocessMs = step.Elapsed.TotalMilliseconds;
        timings["preprocess"] = preprocessMs;
        if (intake.Error is { } rejection)
            return new TensorOutcome(null, false, rejection with { Message = $"{scanName}: {rejection.Message}" }, timings, intake.ResultWarnings);
        var scan = intake.Scan!;

        step.Restart();
        using var npy = new MemoryStream(capacity: (int)Math.Min(int.MaxValue, scan.Tensor.Data.LongLength * 4 + 128));
        await NpyFile.WriteAsync(npy, scan.Tensor, cancellationToken).ConfigureAwait(false);
        npy.Position = 0;
        var spacing = header.SpacingMm;
        var metadata = new Dictionary<string, string>
        {
            [TensorMetadata.Sha256] = spool.Sha256,
            [TensorMetadata.SourceShape] = Join(scan.SourceShape.Width, scan.SourceShape.Height, scan.SourceShape.Depth),
            [TensorMetadata.SpacingMm] = string.Join(",", new[] { spacing.X, spacing.Y, spacing.Z }.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
            [TensorMetadata.Datatype] = header.DataType.Name(),
            [TensorMetadata.PreprocessMs] = preprocessMs.ToString("F1", CultureInfo.InvariantCulture),
            [TensorMetadata.HuWindow] = string.Create(CultureInfo.InvariantCulture, $"{preprocessing.WindowMinimumHu},{preprocessing.WindowMaximumHu}"),
            [TensorMetadata.TargetShape] = Join([.. preprocessing.TargetShape]),
            [TensorMetadata.NonFiniteVoxels] = scan.NonFinite.Total.ToString(CultureInfo.InvariantCulture),
            [TensorMetadata.PreprocessingVersion] = PreprocessingVersion.Current.ToString(CultureInfo.InvariantCulture),
            [TensorMetadata.PreprocessingKey] = TensorNames.PreprocessingKey(options),
        };
        if (intake.Orientation is { } orientation) metadata[TensorMetadata.Orientation] = orientation;
        if (intake.ResultWarnings is { } warnings) metadata[TensorMetadata.GateWarnings] = TensorMetadata.EncodeWarnings(warnings);
        bool created;
        try
        {
            // If-None-Match *: two names with the same bytes racing each other write the tensor once. If-Match on a
            // bad blob's ETag: it is replaced once, even when several requests found it bad at the same time.
            await blob.UploadAsync(npy, new BlobUploadOptions
            {
                Conditions = replace is { } bad ? new BlobRequestConditions { IfMatch = bad } : new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/x-npy" },
                Metadata = metadata,
            }, cancellationToken).ConfigureAwait(false);
            created = true;
        }
        catch (RequestFailedException error) when (error.Status is 409 or 412)
        {
            created = false;
        }
        timings["tensorUpload"] = step.Elapsed.TotalMilliseconds;
        return new TensorOutcome(tensorName, created, null, timings, intake.ResultWarnings);
    }

    private static string Join(params int[] values) => string.Join(",", values);

    private async Task<IngestResult> RejectAsync(string scanName, string code, string message, ScanVersion version, Dictionary<string, double> timings,
        Stopwatch total, CancellationToken cancellationToken, IReadOnlyList<ScanWarning>? warnings = null)
    {
        timings["total"] = total.Elapsed.TotalMilliseconds;
        var result = new ScanResult
        {
            Scan = scanName,
            Status = ScanStatus.Rejected,
            Error = new ScanError(code, message),
            Warnings = warnings,
            TimingsMs = timings,
            CreatedAt = _time.GetUtcNow(),
        };
        // A name-only rejection holds whatever the content; the others only for the content that was read.
        string? blobName = code == PipelineErrorCodes.UnsafeName
            ? await _results.WriteAsync(result, cancellationToken).ConfigureAwait(false)
            : await _results.WriteWhileCurrentAsync(result, version,
            async ct => (await _freshness.CheckAsync(scanName, version, ct).ConfigureAwait(false)).Freshness != Freshness.Stale, cancellationToken).ConfigureAwait(false);
        string logName = ScanLogName.Of(Options, scanName, version.Sha256);
        if (blobName is null)
        {
            _logger.LogInformation("Dropped the rejection of {Scan} ({Sha256}): the blob was replaced while it was read", logName, version.Sha256);
            return new IngestResult(scanName, false, version.Sha256, null, false, null, null, result.Error, timings);
        }
        await TagAsync(scanName, version, cancellationToken).ConfigureAwait(false);
        _logger.LogWarning("Rejected {Scan}: {Code}: {Message}", logName, code, ScanLogName.Redact(Options, message, scanName, version.Sha256));
        return new IngestResult(scanName, false, version.Sha256, null, false, null, blobName, result.Error, timings);
    }
}
