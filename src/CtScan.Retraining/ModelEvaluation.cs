using Azure;
using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.Pipeline;
using CtScan.Preprocessing;
using CtScan.Scoring;
using CtScan.Tensors;
using CtScan.Training;

namespace CtScan.Retraining;

/// <summary>One model's metrics on a validation set, scored with ONNX Runtime exactly as it is served.</summary>
public sealed record ModelEvaluation(string Version, string Sha256, int Count, double Auc, double Accuracy, double Loss,
    double Sensitivity, double Specificity, double Threshold, IReadOnlyList<int> InputShape);

/// <summary>Scores model folders on labelled scans, each preprocessed as its own manifest says (through the tensor cache).</summary>
public static class ModelEvaluator
{
    /// <param name="cacheFolder">The local tensor cache shared with training (keyed by scan hash and preprocessing).</param>
    /// <param name="tensors">The pipeline's tensors container, to seed the cache from (null: do not).</param>
    public static async Task<(ModelEvaluation Evaluation, TensorSeeding Seeding)> EvaluateAsync(string modelDirectory, IReadOnlyList<LabeledScan> scans,
        string cacheFolder, BlobContainerClient? tensors, CancellationToken cancellationToken = default)
    {
        var manifest = ModelFolder.ReadManifest(modelDirectory);
        var cache = new TensorCache(cacheFolder, PreprocessingSpecs.ToOptions(manifest.Preprocessing));
        var seeding = tensors is null ? TensorSeeding.None : await TensorSeeder.SeedAsync(tensors, cache, scans.Select(s => s.Path), cancellationToken).ConfigureAwait(false);
        var data = await ScanDataset.LoadAsync(scans, cache, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var scorer = OnnxScorer.Open(modelDirectory);
        var probabilities = new float[data.Count];
        for (int n = 0; n < data.Count; n++)
            probabilities[n] = (float)scorer.Score(data.Volume(n).ToArray(), cancellationToken).ProbabilityAbnormal;
        var metrics = BinaryMetrics.Compute(probabilities, data.Labels, manifest.Threshold);
        seeding = seeding with { Preprocessed = cache.PreprocessedCount, CacheHits = cache.HitCount };
        return (new ModelEvaluation(manifest.Version, manifest.Sha256, metrics.Count, metrics.Auc, metrics.Accuracy, metrics.Loss,
            metrics.Sensitivity, metrics.Specificity, manifest.Threshold, manifest.Input.Shape), seeding);
    }
}

/// <summary>Scans whose tensor was copied from the pipeline's <c>tensors</c> container; and, after loading, how the cache fared.</summary>
public sealed record TensorSeeding(string Preprocessing, int Scans, int AlreadyCached, int Seeded, int NotInStorage, int Preprocessed = 0, int CacheHits = 0)
{
    public static TensorSeeding None { get; } = new("", 0, 0, 0, 0);
}

/// <summary>
/// Seeds a local <see cref="TensorCache"/> from the pipeline's tensor cache: the ingest step and the cache name a tensor
/// alike (<see cref="TensorNames"/>: scan hash, preprocessing version and options key).
/// Both are made by the same <see cref="ScanPreprocessor"/> the cache uses, so a blob for the cache's preprocessing
/// is the tensor the cache would compute. A blob that is not a .npy of the cache's shape is ignored (the cache then
/// preprocesses the scan itself).
/// </summary>
public static class TensorSeeder
{
    public static async Task<TensorSeeding> SeedAsync(BlobContainerClient tensors, TensorCache cache, IEnumerable<string> scanPaths, CancellationToken cancellationToken = default)
    {
        var spec = PreprocessingSpecs.ToSpec(cache.Options);
        var shape = cache.Options.TargetShape;
        int scans = 0, already = 0, seeded = 0, missing = 0;
        bool containerMissing = false;
        await Parallel.ForEachAsync(scanPaths.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (path, ct) =>
        {
            Interlocked.Increment(ref scans);
            string sha256 = await Sha256Hex.OfFileAsync(path, ct).ConfigureAwait(false);
            string entry = cache.EntryPath(sha256);
            if (File.Exists(entry))
            {
                Interlocked.Increment(ref already);
                return;
            }
            if (Volatile.Read(ref containerMissing))
            {
                Interlocked.Increment(ref missing);
                return;
            }
            Directory.CreateDirectory(cache.Folder);
            string temporary = $"{entry}.{Guid.NewGuid():N}.seed.tmp";
            try
            {
                await tensors.GetBlobClient(TensorNames.For(sha256, cache.Options)).DownloadToAsync(temporary, ct).ConfigureAwait(false);
                var tensor = await NpyFile.ReadAsync(temporary, cancellationToken: ct).ConfigureAwait(false);
                if (tensor.Shape.SequenceEqual([shape.Width, shape.Height, shape.Depth]))
                {
                    File.Move(temporary, entry, overwrite: true);
                    Interlocked.Increment(ref seeded);
                }
                else Interlocked.Increment(ref missing);
            }
            catch (RequestFailedException error) when (error.Status == 404)
            {
                if (error.ErrorCode == "ContainerNotFound") Volatile.Write(ref containerMissing, true);
                Interlocked.Increment(ref missing);
            }
            catch (NpyFormatException)
            {
                Interlocked.Increment(ref missing);
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
        }).ConfigureAwait(false);
        return new TensorSeeding(ScanNames.IsSeed(spec) ? "seed" : $"{shape} HU [{spec.WindowMinimumHu}, {spec.WindowMaximumHu}]", scans, already, seeded, missing);
    }
}
