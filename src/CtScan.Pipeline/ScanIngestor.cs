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
}

/// <summary>
/// The PreprocessScan step: a scan blob in, a cached tensor (<c>tensors/&lt;sha256&gt;.npy</c>) and a score request
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

    protected ScanIngestor()
    {
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
    }

    private PipelineOptions Options => _clients.Options;

    private const int SeenLimit = 100_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);

    /// <summary>Whether this ingestor was asked to ingest <paramref name="scanName"/> since it was created (the pending-scan sweep asks).</summary>
    public bool HasSeen(string scanName) => _seen.ContainsKey(scanName);

    /// <summary>
    /// Hashes the scan while spooling it, preprocesses it with the current model's preprocessing parameters (the
    /// seed's when no model is current) unless that tensor is cached, and enqueues a <see cref="ScoreRequest"/>.
    /// </summary>
    /// <param name="scanName">The blob name in <c>scans</c>.</param>
    /// <param name="content">The blob's content (read once, to the end).</param>
    public virtual async Task<IngestResult> IngestAsync(string scanName, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scanName);
        ArgumentNullException.ThrowIfNull(content);
        var total = Stopwatch.StartNew();
        var timings = new Dictionary<string, double>();
        if (_seen.Count >= SeenLimit) _seen.Clear(); // a bound, not a cache: forgetting only makes the sweep re-check
        _seen.TryAdd(scanName, 0);

        if (ScanNames.UnsafeReason(scanName) is { } unsafeReason)
            return await RejectAsync(scanName, PipelineErrorCodes.UnsafeName, $"{scanName}: {unsafeReason}; its result is stored under {ScanNames.ResultBlobName(scanName)}", timings, total, cancellationToken).ConfigureAwait(false);
        if (!ScanNames.HasNiftiSuffix(scanName))
            return await RejectAsync(scanName, ScanErrorCodes.UnsupportedFormat,
                $"{scanName}: unsupported file type; expected a NIfTI scan named *.nii or *.nii.gz", timings, total, cancellationToken).ConfigureAwait(false);

        var step = Stopwatch.StartNew();
        await using var spool = await ScanSpool.CreateAsync(content, Options.EffectiveSpoolDirectory, Options.MaxScanBytes, cancellationToken).ConfigureAwait(false);
        timings["read"] = step.Elapsed.TotalMilliseconds;
        if (spool is null)
            return await RejectAsync(scanName, PipelineErrorCodes.ScanTooLarge,
                $"{scanName}: the scan is larger than the limit of {Options.MaxScanBytes} bytes", timings, total, cancellationToken).ConfigureAwait(false);

        var manifest = await _models.GetCurrentManifestAsync(cancellationToken).ConfigureAwait(false);
        var preprocessing = manifest?.Preprocessing ?? ScanNames.SeedPreprocessing;
        var tensor = await EnsureTensorAsync(scanName, spool, preprocessing, cancellationToken, manifest?.InputGate).ConfigureAwait(false);
        foreach (var (key, value) in tensor.TimingsMs) timings[key] = value;
        if (tensor.Error is { } error)
            return await RejectAsync(scanName, error.Code, error.Message, timings, total, cancellationToken, spool.Sha256, tensor.Warnings).ConfigureAwait(false);

        var request = new ScoreRequest(scanName, tensor.TensorName!, spool.Sha256, _time.GetUtcNow());
        step.Restart();
        await _clients.ScoreRequests.SendMessageAsync(ContractsJson.Serialize(request), cancellationToken).ConfigureAwait(false);
        timings["enqueue"] = step.Elapsed.TotalMilliseconds;
        timings["total"] = total.Elapsed.TotalMilliseconds;
        _logger.LogInformation("Queued {Scan} ({Sha256}) as {Tensor}; preprocessed: {Created}", ScanLogName.Of(Options, scanName, spool.Sha256), spool.Sha256, tensor.TensorName, tensor.Created);
        return new IngestResult(scanName, true, spool.Sha256, tensor.TensorName, tensor.Created, request, null, null, timings);
    }

    internal sealed record TensorOutcome(string? TensorName, bool Created, ScanError? Error, IReadOnlyDictionary<string, double> TimingsMs,
        IReadOnlyList<ScanWarning>? Warnings = null);

    /// <summary>
    /// Makes sure the tensor for this scan and preprocessing exists in <c>tensors</c>; preprocesses the spooled scan
    /// only when it does not. A file the reader cannot handle, or the input gate (<see cref="ScanIntake"/>, the same as
    /// <c>ctscan score</c>'s) rejects, gives an error (the caller rejects).
    /// </summary>
    internal async Task<TensorOutcome> EnsureTensorAsync(string scanName, ScanSpool spool, PreprocessingSpec preprocessing, CancellationToken cancellationToken,
        InputGateSpec? gate = null)
    {
        var timings = new Dictionary<string, double>();
        string tensorName = ScanNames.TensorBlobName(spool.Sha256, preprocessing);
        var blob = _clients.Tensors.GetBlobClient(tensorName);
        var step = Stopwatch.StartNew();
        bool exists = await blob.ExistsAsync(cancellationToken).ConfigureAwait(false);
        timings["cacheLookup"] = step.Elapsed.TotalMilliseconds;
        if (exists) return new TensorOutcome(tensorName, false, null, timings);

        step.Restart();
        IntakeResult intake;
        NiftiHeader header;
        try
        {
            await using var file = spool.OpenRead();
            using var image = NiftiImage.Read(file, scanName, Options.NiftiReadOptions, leaveOpen: true);
            header = image.Header;
            intake = ScanIntake.For(preprocessing, gate).Process(image, cancellationToken);
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
        };
        if (intake.Orientation is { } orientation) metadata[TensorMetadata.Orientation] = orientation;
        if (intake.ResultWarnings is { } warnings) metadata[TensorMetadata.GateWarnings] = TensorMetadata.EncodeWarnings(warnings);
        bool created;
        try
        {
            // If-None-Match *: two names with the same bytes racing each other write the tensor once.
            await blob.UploadAsync(npy, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
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

    private async Task<IngestResult> RejectAsync(string scanName, string code, string message, Dictionary<string, double> timings,
        Stopwatch total, CancellationToken cancellationToken, string? sha256 = null, IReadOnlyList<ScanWarning>? warnings = null)
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
        string blobName = await _results.WriteAsync(result, cancellationToken).ConfigureAwait(false);
        _logger.LogWarning("Rejected {Scan}: {Code}: {Message}", ScanLogName.Of(Options, scanName, sha256), code, ScanLogName.Redact(Options, message, scanName, sha256));
        return new IngestResult(scanName, false, sha256, null, false, null, blobName, result.Error, timings);
    }
}
