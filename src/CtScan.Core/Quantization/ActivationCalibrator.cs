using CtScan.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CtScan.Quantization;

/// <summary>
/// Collects activation ranges for static quantization: runs the float32 graph, with the tensors to calibrate added as
/// graph outputs, on each calibration scan and keeps each tensor's minimum and maximum over all of them (min/max,
/// not a percentile: the seed network's ReLU activations have few outliers and min/max met the accuracy target).
/// </summary>
public sealed class ActivationCalibrator : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly long[] _inputShape;
    private readonly string[] _tensors;
    private readonly Dictionary<string, ActivationRange> _ranges = [];

    /// <param name="model">The float32 model.</param>
    /// <param name="tensors">The tensors to observe (<see cref="QdqQuantizer.TensorsToCalibrate"/>).</param>
    /// <param name="inputShape">The input shape of one scan including the batch axis of 1.</param>
    /// <param name="intraOpThreads">ONNX Runtime's intra-op threads (0: one per core).</param>
    public ActivationCalibrator(OnnxModel model, IReadOnlyList<string> tensors, long[] inputShape, int intraOpThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        if (model.Graph.Inputs.Count != 1)
            throw new NotSupportedException($"calibration feeds one input; the graph has [{string.Join(", ", model.Graph.Inputs.Select(i => i.Name))}]");
        _inputName = model.Graph.Inputs[0].Name;
        _inputShape = inputShape;
        var existing = model.Graph.Outputs.Select(o => o.Name).ToHashSet();
        _tensors = [.. tensors];
        var extra = tensors.Where(t => !existing.Contains(t)).Select(t => new OnnxValueInfo(t, []) { HasShape = false });
        var observed = model with { Graph = model.Graph with { Outputs = [.. model.Graph.Outputs, .. extra] } };
        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            // Basic only: fusions must not swallow the tensors we observe.
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
        };
        _session = new InferenceSession(OnnxWriter.ToBytes(observed), options);
    }

    /// <summary>How many scans were observed.</summary>
    public int Count { get; private set; }

    /// <summary>Runs one scan (float32, the model's input layout, C order) and widens each tensor's range.</summary>
    public void Observe(float[] scan, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var input = OrtValue.CreateTensorValueFromMemory(scan, _inputShape);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [_inputName], [input], _tensors);
        for (int t = 0; t < _tensors.Length; t++)
        {
            var values = outputs[t].GetTensorDataAsSpan<float>();
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (float v in values)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            _ranges[_tensors[t]] = _ranges.TryGetValue(_tensors[t], out var r) ? new ActivationRange(Math.Min(r.Min, min), Math.Max(r.Max, max)) : new ActivationRange(min, max);
        }
        Count++;
    }

    /// <summary>The ranges so far; every tensor once at least one scan was observed.</summary>
    public IReadOnlyDictionary<string, ActivationRange> Ranges => _ranges;

    public void Dispose() => _session.Dispose();
}
