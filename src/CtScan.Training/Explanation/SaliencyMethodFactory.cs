using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Scoring;

namespace CtScan.Training.Explanation;

/// <summary>Opens the saliency method asked for, falling back to occlusion (with a note saying why) when Grad-CAM cannot run.</summary>
public static class SaliencyMethodFactory
{
    /// <param name="modelDirectory">A model folder (model.onnx + manifest.json; for (Guided) Grad-CAM also the TorchSharp checkpoint).</param>
    /// <param name="method">A <see cref="ExplanationMethods"/> value.</param>
    /// <param name="sessionOptions">ONNX Runtime settings for occlusion.</param>
    /// <param name="note">Receives a line when the method differs from the one asked for.</param>
    public static ISaliencyMethod Open(string modelDirectory, string method, OnnxScorerOptions? sessionOptions = null, Action<string>? note = null)
    {
        switch (method)
        {
            case ExplanationMethods.Occlusion:
                return OcclusionSensitivity.Open(modelDirectory, sessionOptions: sessionOptions);
            case ExplanationMethods.GradCam or ExplanationMethods.GuidedGradCam:
                bool guided = method == ExplanationMethods.GuidedGradCam;
                if (GradCam.HasWeights(modelDirectory)) return GradCam.Open(modelDirectory, guided);
                note?.Invoke($"{modelDirectory} has no TorchSharp weights ({ModelCheckpoint.WeightsFileName} + {ModelCheckpoint.OptionsFileName}, as `ctscan train` writes in OUT/checkpoint): {(guided ? "Guided Grad-CAM" : "Grad-CAM")} needs them, so the map is made by occlusion");
                return OcclusionSensitivity.Open(modelDirectory, sessionOptions: sessionOptions);
            default:
                throw new ArgumentException($"unknown explanation method '{method}'; expected {ExplanationMethods.Occlusion}, {ExplanationMethods.GradCam} or {ExplanationMethods.GuidedGradCam}", nameof(method));
        }
    }
}
