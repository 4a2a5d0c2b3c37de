using CtScan.Scoring;
using CtScan.Training;

namespace CtScan.Cli.Evaluation;

/// <summary>
/// The float32 model and its int8 copy scored on the same labelled scans: the int8 copy is kept only when its AUC there
/// is not lower and it gives the same label for at least <see cref="MinimumSameLabelFraction"/> of the scans. The
/// registry's gate reads the valAuc the int8 manifest carries over from its source, so this check is what makes that
/// figure true of the int8 model too.
/// </summary>
internal static class QuantizedModelCheck
{
    public const double MinimumSameLabelFraction = 0.99;

    public sealed record Outcome(EvaluationResult Float32, EvaluationResult Int8)
    {
        public bool AucHolds => !double.IsNaN(Int8.Metrics.Auc) && Int8.Metrics.Auc >= Float32.Metrics.Auc;

        public bool LabelsHold => Float32.Scans.Count - DifferentLabels >= MinimumSameLabelFraction * Float32.Scans.Count;

        public bool Passed => AucHolds && LabelsHold;

        /// <summary>Why the copy fails, naming the figure; null when it passes.</summary>
        public string? Failure =>
            !AucHolds ? $"it scores a lower AUC ({Int8.Metrics.Auc:F4} < {Float32.Metrics.Auc:F4})"
            : !LabelsHold ? $"it gives a different label for {DifferentLabels} of {Float32.Scans.Count} scans (at most {1 - MinimumSameLabelFraction:P0} may differ)"
            : null;

        public string Summary =>
            $"validation on {Float32.Metrics.Count} labelled scans ({Float32.Data}): AUC float32 {Float32.Metrics.Auc:F4}, int8 {Int8.Metrics.Auc:F4}; " +
            $"accuracy float32 {Float32.Metrics.Accuracy:F4}, int8 {Int8.Metrics.Accuracy:F4}; " +
            $"largest |Δp| {LargestProbabilityChange:F4}; labels that differ {DifferentLabels}";

        public double LargestProbabilityChange =>
            Float32.Scans.Zip(Int8.Scans).Max(pair => Math.Abs(pair.First.ProbabilityAbnormal - pair.Second.ProbabilityAbnormal));

        public int DifferentLabels =>
            Float32.Scans.Zip(Int8.Scans).Count(pair => pair.First.ProbabilityAbnormal >= Float32.Metrics.Threshold != pair.Second.ProbabilityAbnormal >= Int8.Metrics.Threshold);
    }

    /// <exception cref="InvalidDataException">The folder holds no labelled scans of both kinds (AUC undefined), or a scan could not be scored.</exception>
    public static async Task<Outcome> RunAsync(string float32Folder, string int8Folder, string data, int threads, CancellationToken cancellationToken)
    {
        var scans = ScanCatalog.Discover(data);
        var float32 = await EvaluateAsync(float32Folder, data, scans, threads, cancellationToken);
        if (double.IsNaN(float32.Metrics.Auc))
            throw new InvalidDataException($"--validation {data}: AUC needs both normal and abnormal scans; found {float32.Metrics.Count} scans of one kind");
        var int8 = await EvaluateAsync(int8Folder, data, scans, threads, cancellationToken);
        return new Outcome(float32, int8);
    }

    private static async Task<EvaluationResult> EvaluateAsync(string folder, string data, IReadOnlyList<LabeledScan> scans, int threads, CancellationToken cancellationToken)
    {
        using var scorer = OnnxScorer.Open(folder, new OnnxScorerOptions { IntraOpThreads = threads });
        return await LabelledSetEvaluation.RunAsync(new FileScorer(scorer), data, scans, scoredSoFar: null, cancellationToken);
    }
}
