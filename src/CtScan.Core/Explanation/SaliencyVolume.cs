namespace CtScan.Explanation;

/// <summary>
/// A saliency map on the model's input grid (C order, index (i·H + j)·D + k), values in [0, 1] (1 at the strongest
/// evidence), and how it was made.
/// </summary>
/// <param name="Values">The map, C order on <paramref name="Grid"/>.</param>
/// <param name="Grid">The model input grid.</param>
/// <param name="Method">A <see cref="Contracts.ExplanationMethods"/> value.</param>
/// <param name="ProbabilityAbnormal">The model's probability for the unoccluded scan.</param>
/// <param name="Note">What the map measures and, for a fallback, why (e.g. "no TorchSharp weights: occlusion").</param>
/// <param name="Cost">The measured cost; null when not measured.</param>
public sealed record SaliencyVolume(float[] Values, VolumeShape Grid, string Method, double ProbabilityAbnormal, string Note, ExplanationCost? Cost = null);

/// <summary>What an explanation cost, measured in the same session.</summary>
/// <param name="OneInferenceMs">One single-scan inference (after a warm-up run).</param>
/// <param name="TotalMs">The whole explanation, the baseline inference included.</param>
/// <param name="Inferences">Model inputs evaluated (occluded scans plus the baseline).</param>
/// <param name="PatchGrid">Patches along (i, j, k) of the model grid; null for Grad-CAM.</param>
/// <param name="PatchesSkipped">Patches holding only the fill value (occluding them changes nothing, so they cost nothing).</param>
public sealed record ExplanationCost(double OneInferenceMs, double TotalMs, int Inferences, VolumeShape? PatchGrid = null, int PatchesSkipped = 0)
{
    /// <summary>The whole explanation in units of one inference.</summary>
    public double Ratio => OneInferenceMs > 0 ? TotalMs / OneInferenceMs : double.NaN;
}
