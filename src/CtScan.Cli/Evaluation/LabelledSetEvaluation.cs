using CtScan.Contracts;
using CtScan.Scoring;
using CtScan.Training;

namespace CtScan.Cli.Evaluation;

/// <summary>One labelled scan and the probability the model gave it.</summary>
internal sealed record EvaluatedScan(string Path, int Label, float ProbabilityAbnormal);

/// <summary>A model's figures on a labelled set: per-scan probabilities, the metrics at the model's threshold, the ROC curve.</summary>
internal sealed record EvaluationResult(ModelReference Model, string Data, IReadOnlyList<EvaluatedScan> Scans, BinaryMetrics Metrics, IReadOnlyList<RocPoint>? Roc);

/// <summary>
/// Scores every scan of a labelled folder with <see cref="FileScorer"/> (ONNX Runtime, the serving path: no TorchSharp)
/// and computes the metrics with the training code's <see cref="BinaryMetrics"/>, so the figures mean the same thing
/// as a training run's validation figures.
/// </summary>
internal static class LabelledSetEvaluation
{
    /// <exception cref="InvalidDataException">A scan could not be scored (the message names it and why, and how many failed).</exception>
    /// <param name="scorer">The model's file scorer (with the work budget to hold each scan to).</param>
    public static async Task<EvaluationResult> RunAsync(FileScorer scorer, string data, IReadOnlyList<LabeledScan> scans,
        Action<int>? scoredSoFar, CancellationToken cancellationToken)
    {
        var model = scorer.Model;
        var scored = new List<EvaluatedScan>(scans.Count);
        var failures = new List<string>();
        foreach (var scan in scans)
        {
            var result = await scorer.ScoreAsync(scan.Path, scan.Path, cancellationToken);
            if (result is { Status: ScanStatus.Scored, ProbabilityAbnormal: { } p })
                scored.Add(new EvaluatedScan(scan.Path, scan.Label, (float)p));
            else
                failures.Add($"{scan.Path}: {result.Error?.Code ?? result.Status.ToString()}: {result.Error?.Message}");
            scoredSoFar?.Invoke(scored.Count + failures.Count);
        }
        // Metrics over the scans that happened to be readable would be figures about a different set: refuse instead.
        if (failures.Count > 0)
            throw new InvalidDataException($"{failures.Count} of {scans.Count} scans could not be scored; first: {failures[0]}");

        float[] probabilities = [.. scored.Select(s => s.ProbabilityAbnormal)];
        int[] labels = [.. scored.Select(s => s.Label)];
        var metrics = BinaryMetrics.Compute(probabilities, labels, model.Manifest.Threshold);
        var roc = double.IsNaN(metrics.Auc) ? null : RocCurve.Compute(probabilities, labels);
        return new EvaluationResult(new ModelReference(model.Manifest.Version, model.Manifest.Sha256), data, scored, metrics, roc);
    }
}
