using CtScan.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CtScan.Quantization;

/// <summary>
/// Picks which convs to quantize so that the model's output stays close to float32 on the calibration scans: starts
/// with every eligible conv and, while the largest |Δlogit| exceeds the tolerance, keeps float the conv whose removal
/// helps most. Outputs are compared as logits (a probability is turned back into one, clamped to ±<see cref="LogitClamp"/>)
/// because a saturated probability hides large errors. On the demo model, int8 in both of its eligible convs moved
/// logits by up to 0.9; its third conv kept float, by 0.16 (docs/quantization.md).
/// </summary>
internal sealed class LayerSelection(OnnxModel model, IReadOnlyList<float[]> scans, long[] inputShape, bool probabilityOutput, int intraOpThreads)
{
    public const double LogitClamp = 16;

    private float[]? _reference;

    public (OnnxModel Model, IReadOnlySet<string> KeptFloat, double MaxLogitError) Select(
        Func<QdqQuantizerOptions, OnnxModel> quantize, QdqQuantizerOptions options, double tolerance, CancellationToken cancellationToken)
    {
        _reference ??= Logits(model, cancellationToken);
        var keep = new HashSet<string>(options.KeepFloat);
        var current = quantize(options with { KeepFloat = keep });
        double error = MaxError(current, cancellationToken);
        while (error > tolerance)
        {
            var candidates = QdqQuantizer.QuantizedConvs(model, options with { KeepFloat = keep });
            if (candidates.Count <= 1) break; // the last one stays: a model with no int8 layer is no quantized model
            (OnnxModel Model, string Conv, double Error)? best = null;
            foreach (string conv in candidates)
            {
                var trial = quantize(options with { KeepFloat = new HashSet<string>(keep) { conv } });
                double trialError = MaxError(trial, cancellationToken);
                if (best is null || trialError < best.Value.Error) best = (trial, conv, trialError);
            }
            keep.Add(best!.Value.Conv);
            (current, error) = (best.Value.Model, best.Value.Error);
        }
        return (current, keep, error);
    }

    private double MaxError(OnnxModel candidate, CancellationToken cancellationToken)
    {
        var logits = Logits(candidate, cancellationToken);
        double max = 0;
        for (int n = 0; n < logits.Length; n++) max = Math.Max(max, Math.Abs(logits[n] - _reference![n]));
        return max;
    }

    private float[] Logits(OnnxModel candidate, CancellationToken cancellationToken)
    {
        using var options = new SessionOptions { IntraOpNumThreads = intraOpThreads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(OnnxWriter.ToBytes(candidate), options);
        string input = candidate.Graph.Inputs[0].Name, output = candidate.Graph.Outputs[0].Name;
        var logits = new float[scans.Count];
        for (int n = 0; n < scans.Count; n++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var value = OrtValue.CreateTensorValueFromMemory(scans[n], inputShape);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, [input], [value], [output]);
            double y = outputs[0].GetTensorDataAsSpan<float>()[0];
            if (probabilityOutput) y = Math.Log(y / (1 - y));
            logits[n] = (float)Math.Clamp(double.IsNaN(y) ? 0 : y, -LogitClamp, LogitClamp);
        }
        return logits;
    }
}
