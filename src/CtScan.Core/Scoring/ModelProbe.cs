using System.Globalization;
using CtScan.Contracts;
using Microsoft.ML.OnnxRuntime;

namespace CtScan.Scoring;

/// <summary>
/// The check every model passes before it may serve: opened as the scorer opens it (hash, names and shape checked
/// against the manifest) and run once on a zero scan of the manifest's input shape, it must answer one probability in
/// [0, 1] (a logit that is not NaN for <see cref="OutputKind.Logit"/>). <c>ctscan model import</c>, the registry's
/// publish, promote and rollback, and the scoring hosts' <c>ModelProvider</c> all run this one check, so a model that
/// loads but cannot score fails there, not on a patient's scan.
/// </summary>
public static class ModelProbe
{
    /// <summary>Opens <paramref name="modelPath"/> with <paramref name="manifest"/> and runs the probe.</summary>
    /// <exception cref="ModelLoadException">The model does not load, does not match its manifest, or gives no usable score.</exception>
    public static void Check(string modelPath, ModelManifest manifest, OnnxScorerOptions? options = null)
    {
        using var scorer = new OnnxScorer(modelPath, manifest, options ?? new OnnxScorerOptions());
        Check(scorer, modelPath);
    }

    /// <summary>Runs the probe on an open scorer; <paramref name="source"/> names the model in the error.</summary>
    /// <exception cref="ModelLoadException">The model fails to run on the zero scan or answers something that is no score.</exception>
    public static void Check(OnnxScorer scorer, string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        var manifest = scorer.Manifest;
        string expected = $"its manifest's output kind is {ContractNames.Of(manifest.Output.Kind)}, so it must be " +
                          (manifest.Output.Kind == OutputKind.Logit ? "a logit, not NaN" : "a probability in [0, 1]");
        double probability;
        try
        {
            probability = scorer.Score(new float[scorer.VoxelsPerScan], cancellationToken).ProbabilityAbnormal;
        }
        catch (OnnxRuntimeException error)
        {
            throw new ModelLoadException($"{source} loads but fails to run on a zero scan of {manifest.InputVolume}: {error.Message}", error);
        }
        catch (InvalidModelOutputException error)
        {
            // The scorer's own output check (the one every scan goes through) refused the answer.
            throw new ModelLoadException($"{source} gave no usable score for a zero scan of {manifest.InputVolume} ({error.Message}); {expected}", error);
        }
        // A logit output goes through a sigmoid first, so only a sigmoid output can land outside [0, 1].
        if (!double.IsFinite(probability) || probability is < 0 or > 1)
            throw new ModelLoadException(
                $"{source} answered {probability.ToString("R", CultureInfo.InvariantCulture)} for a zero scan of {manifest.InputVolume}; {expected}");
    }
}
