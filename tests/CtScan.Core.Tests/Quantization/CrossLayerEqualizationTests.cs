using CtScan.Onnx;
using CtScan.Quantization;
using Microsoft.ML.OnnxRuntime;

namespace CtScan.Tests.Quantization;

public sealed class CrossLayerEqualizationTests
{
    private static float[] Run(OnnxModel model, float[] input, long[] shape)
    {
        using var session = new InferenceSession(OnnxWriter.ToBytes(model));
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var outputs = session.Run(new RunOptions(), ["scan"], [value], ["probability"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void Apply_DemoModel_SameOutputsAndBalancedInputChannels()
    {
        var model = OnnxReader.Read(Fixtures.Path("..", "..", "models", "demo", "model.onnx"));
        var equalized = CrossLayerEqualization.Apply(model);

        // The float function is unchanged (up to float rounding): same logits on random scans.
        var random = new Random(5);
        var input = new float[2 * 64 * 64 * 46];
        for (int n = 0; n < input.Length; n++) input[n] = random.NextSingle();
        long[] shape = [2, 1, 64, 64, 46];
        var before = Run(model, input, shape);
        var after = Run(equalized, input, shape);
        for (int n = 0; n < 2; n++) Assert.Equal(before[n], after[n], 4);

        // block3's input channels: their largest |weight| spread ~540× before, far less after.
        static double Spread(OnnxModel m)
        {
            var w = m.Graph.Initializers.Single(i => i.Name == "block3.conv.weight");
            var v = w.Values;
            int outputs = (int)w.Dims[0], channels = (int)w.Dims[1], taps = v.Length / outputs / channels;
            var max = new double[channels];
            for (int o = 0; o < outputs; o++)
                for (int c = 0; c < channels; c++)
                    for (int k = 0; k < taps; k++) max[c] = Math.Max(max[c], Math.Abs(v[(o * channels + c) * taps + k]));
            return max.Max() / max.Min();
        }
        Assert.True(Spread(model) > 100, $"spread before {Spread(model):F0}");
        Assert.True(Spread(equalized) < Spread(model) / 10, $"spread {Spread(model):F0} → {Spread(equalized):F0}");
    }
}
