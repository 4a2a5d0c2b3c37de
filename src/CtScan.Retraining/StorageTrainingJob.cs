using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CtScan.Contracts;
using CtScan.Pipeline;
using CtScan.Scoring;
using CtScan.Training;
using CtScan.Training.Onnx;

namespace CtScan.Retraining;

/// <summary>Settings of a <see cref="StorageTrainingJob"/>.</summary>
public sealed record StorageTrainingOptions
{
    /// <summary>Local work folder: data/ (the mirrored scans), .tensor-cache/, run/ (the training run), candidate/ and current/ (model folders).</summary>
    public required string WorkFolder { get; init; }

    public required ModelOptions Model { get; init; }

    public required TrainingOptions Training { get; init; }

    public string Device { get; init; } = "cpu";

    /// <summary>Promote even if the candidate's validation AUC is lower than the current model's.</summary>
    public bool Force { get; init; }

    /// <summary>false: upload the candidate only, never make it current.</summary>
    public bool Promote { get; init; } = true;

    public double Threshold { get; init; } = ModelManifest.DefaultThreshold;

    /// <summary>The run's id (its folder under <c>models/runs/</c>); null: UTC time + random suffix.</summary>
    public string? RunId { get; init; }
}

/// <summary>The decision of a run, as written in report.json.</summary>
public static class RetrainingDecision
{
    public const string Promoted = "promoted";
    public const string KeptCurrent = "kept-current";
    public const string AlreadyCurrent = "already-current";
    public const string UploadedOnly = "uploaded-only";
}

/// <summary>What a <see cref="StorageTrainingJob"/> run did: its report (also in storage) and the evaluations behind it.</summary>
/// <param name="ReportBlobPrefix">Where the run's files are in the models container: <c>runs/&lt;run id&gt;/</c>.</param>
public sealed record StorageTrainingResult(RetrainingReport Report, ModelEvaluation Candidate, ModelEvaluation? Current, string ReportBlobPrefix)
{
    public string RunId => Report.RunId;
    public string Decision => Report.Decision;
    public string CurrentVersionAfter => Report.CurrentAfter;
}

/// <summary>Follows a retraining run: the training's progress, then its summary (the command line prints both).</summary>
public interface IRetrainingObserver : ITrainingRunObserver
{
    void TrainingFinished(TrainingResult result, TrainingRun run, TrainingRunPaths paths);
}

/// <summary>
/// The scheduled retraining job (<c>ctscan train --from-storage</c>):
/// <list type="number">
/// <item>mirror the <c>training</c> container into WORK/data (<see cref="TrainingDataSync"/>);</item>
/// <item>seed the local tensor cache from the pipeline's <c>tensors/</c> blobs (<see cref="TensorSeeder"/>);</item>
/// <item>train with <see cref="TrainingRun"/> into WORK/run;</item>
/// <item>export the best checkpoint to WORK/candidate (ONNX + manifest, default version scheme);</item>
/// <item>score the candidate and the current model (downloaded from the registry, preprocessed as its own manifest says)
/// with ONNX Runtime on the same validation scans;</item>
/// <item>publish the candidate through <see cref="ModelRegistryClient.PublishAsync"/> with both AUCs
/// (<see cref="GateComparison"/>): it becomes current only if its AUC is not lower than the current model's on that
/// validation set (no current model: it becomes current; <c>--force</c> overrides; <c>--no-promote</c> uploads only);</item>
/// <item>write the run report to <c>models/runs/&lt;run id&gt;/</c>: report.json, history.json, metrics.json, split.json, curves.png.</item>
/// </list>
/// The candidate manifest's trainingMetrics.valAuc (and valAccuracy, valLoss, valSensitivity, valSpecificity, valCount)
/// are the ONNX evaluation's, so the registry's manifest-based gate and this job agree on what the number means.
/// </summary>
/// <param name="output">Where the run's progress lines go (the job's log).</param>
/// <param name="observer">Follows the training itself (null: only the run's own lines are written).</param>
public sealed class StorageTrainingJob(PipelineClients clients, StorageTrainingOptions options, TextWriter output, IRetrainingObserver? observer = null, TimeProvider? clock = null)
{
    public const string RunsPrefix = "runs/";
    public const string ReportFileName = "report.json";
    public const string GateRule =
        "the candidate becomes current only if its validation AUC is not lower than the current model's, both scored with ONNX Runtime on this run's validation split; with no current model it becomes current; --force promotes regardless; --no-promote only uploads";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<StorageTrainingResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var started = _clock.GetUtcNow();
        string runId = options.RunId ?? $"{started.UtcDateTime:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..22];
        var timings = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var watch = Stopwatch.StartNew();
        void Lap(string step)
        {
            timings[step] = Math.Round(watch.Elapsed.TotalSeconds, 3);
            watch.Restart();
        }

        string work = Path.GetFullPath(options.WorkFolder);
        var paths = new TrainingRunPaths(Path.Combine(work, "data"), Path.Combine(work, "run"), Path.Combine(work, ".tensor-cache"));
        output.WriteLine($"retraining run {runId}: work folder {work}");

        // 1. The data.
        TrainingDataMirror mirror;
        try
        {
            mirror = await TrainingDataSync.MirrorAsync(clients.Training, paths.DataFolder, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (IsTransportFailure(error))
        {
            throw TrainingDataSync.Unreachable(clients.Training.Uri, error);
        }
        output.WriteLine($"training data ({mirror.Layout}): {mirror.Scans} scans ({mirror.Normal} normal, {mirror.Abnormal} abnormal); " +
                         $"{mirror.Downloaded} downloaded, {mirror.Skipped} already here, {mirror.Removed} removed");
        Lap("download");

        // 2. The split TrainingRun will make (deterministic: the same scans and seed give the same split).
        var run = new TrainingRun(options.Model, options.Training);
        var scans = ScanCatalog.Discover(paths.DataFolder);
        var split = DataSplit.Create(scans, run.Training.ValidationFraction, run.Training.Seed);
        var seeding = await TensorSeeder.SeedAsync(clients.Tensors, new TensorCache(paths.Cache, run.Preprocessing), scans.Select(s => s.Path), cancellationToken).ConfigureAwait(false);
        output.WriteLine($"tensors from storage ({seeding.Preprocessing} preprocessing): {seeding.Seeded} seeded, {seeding.AlreadyCached} already cached, {seeding.NotInStorage} not in {clients.Tensors.Name}/");
        Lap("tensorSeeding");

        // 3. Training.
        var result = await run.RunAsync(paths, options.Device, observer, cancellationToken).ConfigureAwait(false);
        observer?.TrainingFinished(result, run, paths);
        cancellationToken.ThrowIfCancellationRequested();
        if (result.BestEpoch is null || !File.Exists(Path.Combine(paths.Checkpoint, "model.json")))
            throw new InvalidDataException("training completed no epoch: no checkpoint to export, nothing published");
        Lap("training");

        // 4. Export.
        string candidateFolder = Path.Combine(work, "candidate");
        if (Directory.Exists(candidateFolder)) Directory.Delete(candidateFolder, recursive: true);
        var exported = ModelExport.FromCheckpoint(paths.Checkpoint, candidateFolder, new ModelExportOptions { Threshold = options.Threshold });
        output.WriteLine($"candidate {exported.Version} (sha256 {exported.Sha256})");
        Lap("export");

        // 5. Both models on the same validation scans.
        var (candidate, _) = await ModelEvaluator.EvaluateAsync(candidateFolder, split.Validation, paths.Cache, null, cancellationToken).ConfigureAwait(false);
        var registry = new ModelRegistryClient(clients.Models);
        await clients.Models.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var pointer = await registry.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        ModelEvaluation? current = null;
        TensorSeeding? currentSeeding = null;
        string? currentError = null;
        if (pointer is not null)
        {
            try
            {
                string currentFolder = Path.Combine(work, "current", pointer.Version);
                if (!File.Exists(Path.Combine(currentFolder, ModelFolder.ManifestFileName)))
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(currentFolder)!);
                    await registry.DownloadAsync(pointer.Version, currentFolder, cancellationToken).ConfigureAwait(false);
                }
                (current, currentSeeding) = await ModelEvaluator.EvaluateAsync(currentFolder, split.Validation, paths.Cache, clients.Tensors, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error) when (error is ModelLoadException or ModelRegistryException or InvalidDataException)
            {
                // A current model that cannot be scored has no AUC: the gate treats it as unknown and lets the candidate in.
                currentError = error.Message;
            }
        }
        output.WriteLine($"validation ({candidate.Count} scans): candidate {Describe(candidate)}");
        output.WriteLine(current is not null ? $"validation ({current.Count} scans): current {current.Version} {Describe(current)}"
            : pointer is null ? "no current model" : $"current {pointer.Version} could not be scored: {currentError}");
        Lap("evaluation");

        // The manifest records the evaluation: the registry's manifest gate and this run then mean the same valAuc.
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in exported.TrainingMetrics ?? new Dictionary<string, double>()) metrics[key] = value;
        void Set(string key, double value) { if (double.IsFinite(value)) metrics[key] = value; else metrics.Remove(key); }
        Set(TrainingRunMetadata.ValAuc, candidate.Auc);
        Set(TrainingRunMetadata.ValAccuracy, candidate.Accuracy);
        Set(TrainingRunMetadata.ValLoss, candidate.Loss);
        Set(TrainingRunMetadata.ValSensitivity, candidate.Sensitivity);
        Set(TrainingRunMetadata.ValSpecificity, candidate.Specificity);
        Set("valCount", candidate.Count);
        var manifest = exported with { TrainingMetrics = metrics };
        ModelFolder.Write(candidateFolder, File.ReadAllBytes(Path.Combine(candidateFolder, exported.ModelFile)), manifest);

        // 6. Publish through the gate.
        var comparison = pointer is null ? null : new GateComparison(pointer.Version, candidate.Auc, current?.Auc ?? double.NaN,
            $"both scored on the same {candidate.Count} validation scans of run {runId}");
        var published = await registry.PublishAsync(candidateFolder, new PublishOptions { Force = options.Force, Promote = options.Promote, Comparison = comparison }, cancellationToken).ConfigureAwait(false);
        string decision = published.Outcome switch
        {
            PublishOutcome.Promoted => RetrainingDecision.Promoted,
            PublishOutcome.AlreadyCurrent => RetrainingDecision.AlreadyCurrent,
            _ => options.Promote ? RetrainingDecision.KeptCurrent : RetrainingDecision.UploadedOnly,
        };
        Lap("publish");

        // 7. The report.
        string prefix = $"{RunsPrefix}{runId}/";
        timings["total"] = Math.Round((_clock.GetUtcNow() - started).TotalSeconds, 3);
        var report = new RetrainingReport
        {
            RunId = runId,
            StartedAt = started,
            FinishedAt = _clock.GetUtcNow(),
            Decision = decision,
            Reason = published.Reason,
            Gate = new GateReport(GateRule, TrainingRunMetadata.ValAuc, options.Force, options.Promote),
            CurrentBefore = pointer?.Version,
            CurrentAfter = published.CurrentVersion,
            Candidate = ModelReport.Of(candidate, published.Uploaded),
            Current = current is not null ? ModelReport.Of(current) : pointer is null ? null : new ModelReport { Version = pointer.Version, Error = currentError },
            Data = new DataReport(clients.Training.Name, mirror.Layout, mirror.Scans, mirror.Normal, mirror.Abnormal, split.Training.Count, split.Validation.Count,
                manifest.DataFingerprint, mirror.Downloaded, mirror.Skipped),
            Tensors = new TensorReport(seeding.Preprocessing, seeding.Seeded, seeding.AlreadyCached, seeding.NotInStorage, run.CacheCounts.Preprocessed,
                run.CacheCounts.CacheHits, currentSeeding?.Seeded, currentSeeding?.Preprocessed),
            Training = new TrainingSettingsReport(options.Device, result.History.Count, result.BestEpoch, result.StopReason.ToString(), result.Steps,
                run.Model.WidthMultiplier, [run.Model.Input.Width, run.Model.Input.Height, run.Model.Input.Depth], run.Training.InitialLearningRate,
                run.Training.BatchSize, run.Training.Seed),
            TimingsSeconds = timings,
        };
        await File.WriteAllTextAsync(Path.Combine(paths.Output, ReportFileName), report.ToJson(), cancellationToken).ConfigureAwait(false);
        await UploadReportAsync(prefix, paths, report, cancellationToken).ConfigureAwait(false);

        output.WriteLine($"decision: {decision} ({published.Reason}); current model: {published.CurrentVersion}");
        output.WriteLine($"report: {clients.Models.Name}/{prefix}{ReportFileName}");
        return new StorageTrainingResult(report, candidate, current, prefix);
    }

    private async Task UploadReportAsync(string prefix, TrainingRunPaths paths, RetrainingReport report, CancellationToken cancellationToken)
    {
        async Task Upload(string name, BinaryData content, string contentType) =>
            await clients.Models.GetBlobClient(prefix + name).UploadAsync(content,
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, cancellationToken).ConfigureAwait(false);

        foreach (string name in new[] { TrainingReport.HistoryFileName, TrainingReport.MetricsFileName })
            await Upload(name, BinaryData.FromBytes(await File.ReadAllBytesAsync(Path.Combine(paths.Output, name), cancellationToken).ConfigureAwait(false)), "application/json").ConfigureAwait(false);
        // split.json names the scans by blob name in the training container, not by this machine's paths.
        var split = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(paths.Output, TrainingReport.SplitFileName), cancellationToken).ConfigureAwait(false))!;
        foreach (string side in new[] { "training", "validation" })
            foreach (var entry in split[side]!.AsArray())
                entry!["scan"] = Path.GetRelativePath(paths.DataFolder, (string)entry["scan"]!).Replace(Path.DirectorySeparatorChar, '/');
        await Upload(TrainingReport.SplitFileName, BinaryData.FromString(split.ToJsonString(RetrainingReport.Json)), "application/json").ConfigureAwait(false);
        string curves = Path.Combine(paths.Output, TrainingRunPaths.CurvesFileName);
        if (File.Exists(curves))
            await Upload(TrainingRunPaths.CurvesFileName, BinaryData.FromBytes(await File.ReadAllBytesAsync(curves, cancellationToken).ConfigureAwait(false)), "image/png").ConfigureAwait(false);
        // The report last: its presence means the run's files are all there.
        await Upload(ReportFileName, BinaryData.FromString(report.ToJson()), "application/json").ConfigureAwait(false);
    }

    private static string Describe(ModelEvaluation e) => string.Create(CultureInfo.InvariantCulture,
        $"AUC {e.Auc:0.0000}, accuracy {e.Accuracy:0.0000}, loss {e.Loss:0.0000}, sensitivity {e.Sensitivity:0.0000}, specificity {e.Specificity:0.0000}");

    /// <summary>The account could not be reached (DNS, refused connection, TLS, retries exhausted), as opposed to an answer.</summary>
    private static bool IsTransportFailure(Exception error) => error switch
    {
        RequestFailedException r => r.Status == 0,
        AggregateException a => a.InnerExceptions.All(IsTransportFailure),
        HttpRequestException or TimeoutException or System.Net.Sockets.SocketException => true,
        _ => false,
    };
}
