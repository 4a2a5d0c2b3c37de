using CtScan.Onnx;
using CtScan.Contracts;
using CtScan.Training;
using CtScan.Training.Onnx;
using CtScan.Training.Tests.Onnx;

namespace CtScan.Cli.Tests;

/// <summary>
/// A small exported network (46×46×46, seeded) with one more node after its output, <c>score = probability (op)
/// constant</c>: 2 + p, p − 1.5 or p × NaN is no probability, p × 0.5 still is. The tests of <c>model import</c> and of
/// the registry's publish/promote probe build their broken models here.
/// </summary>
internal sealed class ScoreChangingModel : IDisposable
{
    public static readonly VolumeShape Volume = new(46, 46, 46);

    private readonly CtScanNet _model = TrainedLookingModel.Create(new ModelOptions { Input = Volume, WidthMultiplier = 0.25 }, seed: 37);

    /// <summary>Writes the ONNX file to <paramref name="path"/> and returns its bytes.</summary>
    public byte[] Write(string op, float constant, string path)
    {
        var model = CtScanOnnxExporter.Build(CtScanNetWeights.From(_model));
        var graph = model.Graph;
        string last = graph.Outputs.Single().Name;
        var node = new OnnxNode(op, "not_a_probability", [last, "constant"], ["score"]);
        model = model with
        {
            Graph = graph with
            {
                Nodes = [.. graph.Nodes, node],
                Initializers = [.. graph.Initializers, new OnnxInitializer("constant", [1], [constant])],
                Outputs = [new OnnxValueInfo("score", [OnnxDimension.Symbol("N"), 1])],
            },
        };
        OnnxWriter.Write(model, path);
        return File.ReadAllBytes(path);
    }

    public void Dispose() => _model.Dispose();
}
