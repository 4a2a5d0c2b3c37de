using Microsoft.ML.OnnxRuntime;

namespace CtScan.Training.Tests.Onnx;

/// <summary>Runs a serialized model once with plain ONNX Runtime (no manifest), for parity and structure tests.</summary>
internal static class OrtRunner
{
    public static float[] Run(byte[] model, float[] input, long[] shape, string inputName = "scan", string outputName = "probability")
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2 };
        using var session = new InferenceSession(model, options);
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var results = session.Run(new RunOptions(), [inputName], [value], [outputName]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public static (IReadOnlyDictionary<string, NodeMetadata> Inputs, IReadOnlyDictionary<string, NodeMetadata> Outputs) Metadata(byte[] model)
    {
        using var session = new InferenceSession(model);
        return (session.InputMetadata, session.OutputMetadata);
    }

    public static float MaxAbsDifference(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float max = 0;
        for (int n = 0; n < expected.Length; n++) max = Math.Max(max, Math.Abs(expected[n] - actual[n]));
        return max;
    }
}
