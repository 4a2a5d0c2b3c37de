using Xunit.Abstractions;
using CtScan.Contracts;
using CtScan.Onnx;
using CtScan.Training.Onnx;

namespace CtScan.Training.Tests.Onnx;

public sealed class CtScanOnnxExporterTests(ITestOutputHelper log)
{
    /// <summary>The issue's bound on |ONNX Runtime − TorchSharp| for probabilities.</summary>
    private const float ProbabilityTolerance = 1e-4f;

    private static readonly ModelOptions Small = ModelTestShapes.Small;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Export_SmallModel_MatchesTorchSharpEval(bool foldBatchNorm)
    {
        using var model = TrainedLookingModel.Create(Small, seed: 5);
        var input = Small.Input;
        var batch = OnnxTestInputs.Concat(OnnxTestInputs.Random(input, 1), OnnxTestInputs.Random(input, 2), OnnxTestInputs.Phantom(input, 3));
        long[] shape = [3, 1, input.Width, input.Height, input.Depth];

        var expected = TrainedLookingModel.Forward(model, batch, 3);
        var actual = OrtRunner.Run(CtScanOnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = foldBatchNorm }), batch, shape);

        log.WriteLine($"small, folded={foldBatchNorm}: max |ORT − TorchSharp| = {OrtRunner.MaxAbsDifference(expected, actual):E2} over [{string.Join(", ", expected)}]");
        Assert.InRange(OrtRunner.MaxAbsDifference(expected, actual), 0, ProbabilityTolerance);
        // The three inputs must give different outputs, or the comparison above proves little.
        Assert.True(expected.Distinct().Count() == 3, $"outputs {string.Join(", ", expected)} should differ");
    }

    [Fact]
    public void Export_LogitOutput_IsTheLogitOfTheProbability()
    {
        using var model = TrainedLookingModel.Create(Small, seed: 6);
        var input = Small.Input;
        var scan = OnnxTestInputs.Random(input, 4);
        long[] shape = [1, 1, input.Width, input.Height, input.Depth];

        float probability = TrainedLookingModel.Forward(model, scan, 1)[0];
        float logit = OrtRunner.Run(CtScanOnnxExporter.Export(model, new OnnxExportOptions { Output = OutputKind.Logit }), scan, shape)[0];

        Assert.Equal(probability, 1 / (1 + Math.Exp(-logit)), 1e-5);
    }

    [Fact]
    public void Export_FullSizeSeedModel_MatchesTorchSharpEval()
    {
        using var model = TrainedLookingModel.Create(ModelOptions.Seed, seed: 7);
        var input = ModelOptions.Seed.Input;
        var batch = OnnxTestInputs.Concat(OnnxTestInputs.Random(input, 8), OnnxTestInputs.Phantom(input, 9));
        long[] shape = [2, 1, input.Width, input.Height, input.Depth];

        var expected = TrainedLookingModel.Forward(model, batch, 2);
        var probabilities = OrtRunner.Run(CtScanOnnxExporter.Export(model), batch, shape);
        var logits = OrtRunner.Run(CtScanOnnxExporter.Export(model, new OnnxExportOptions { Output = OutputKind.Logit }), batch, shape);

        var expectedLogits = expected.Select(p => (float)Math.Log(p / (1 - p))).ToArray();
        log.WriteLine($"full size: max |ORT − TorchSharp| = {OrtRunner.MaxAbsDifference(expected, probabilities):E2} (probabilities [{string.Join(", ", expected)}]), " +
                      $"logits {OrtRunner.MaxAbsDifference(expectedLogits, logits):E2}");
        Assert.InRange(OrtRunner.MaxAbsDifference(expected, probabilities), 0, ProbabilityTolerance);
        Assert.InRange(OrtRunner.MaxAbsDifference(expectedLogits, logits), 0, 1e-3f);
    }

    [Fact]
    public void Export_Graph_HasOpsetNamesDynamicBatchAndNoTrainingNodes()
    {
        using var model = TrainedLookingModel.Create(Small, seed: 10);
        var bytes = CtScanOnnxExporter.Export(model);

        var read = OnnxReader.Read(bytes);
        var (ir, opset, opTypes) = (read.IrVersion, (long)read.Opset, read.Graph.Nodes.Select(n => n.OpType).ToList());
        var (inputs, outputs) = OrtRunner.Metadata(bytes);

        Assert.Equal((8L, 17L), (ir, opset));
        Assert.Equal(
            ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool",
             "GlobalAveragePool", "Flatten", "Gemm", "Relu", "Gemm", "Sigmoid"], opTypes);
        var input = Assert.Single(inputs);
        Assert.Equal("scan", input.Key);
        Assert.Equal([-1, 1, 46, 46, 46], input.Value.Dimensions);
        var output = Assert.Single(outputs);
        Assert.Equal("probability", output.Key);
        Assert.Equal([-1, 1], output.Value.Dimensions);
    }

    [Fact]
    public void Export_UnfoldedAndNdhwc_AddTheirNodes()
    {
        using var model = TrainedLookingModel.Create(Small, seed: 10);
        var bytes = CtScanOnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = false, Layout = TensorLayout.Ndhwc, Opset = 13 });

        var read = OnnxReader.Read(bytes);
        var (opset, opTypes) = (read.Opset, read.Graph.Nodes.Select(n => n.OpType).ToList());
        var (inputs, _) = OrtRunner.Metadata(bytes);

        Assert.Equal(13, opset);
        Assert.Equal("Transpose", opTypes[0]);
        Assert.Equal(4, opTypes.Count(op => op == "BatchNormalization"));
        Assert.Equal([-1, 46, 46, 46, 1], inputs["scan"].Dimensions);
    }

    [Fact]
    public void Export_BatchOfTwo_EqualsTwoSingles()
    {
        using var model = TrainedLookingModel.Create(Small, seed: 12);
        var bytes = CtScanOnnxExporter.Export(model);
        var input = Small.Input;
        var first = OnnxTestInputs.Random(input, 13);
        var second = OnnxTestInputs.Phantom(input, 14);
        long[] single = [1, 1, input.Width, input.Height, input.Depth];

        var batch = OrtRunner.Run(bytes, OnnxTestInputs.Concat(first, second), [2, 1, input.Width, input.Height, input.Depth]);

        Assert.Equal(2, batch.Length);
        Assert.Equal(OrtRunner.Run(bytes, first, single)[0], batch[0], 1e-6f);
        Assert.Equal(OrtRunner.Run(bytes, second, single)[0], batch[1], 1e-6f);
        Assert.NotEqual(batch[0], batch[1]);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(22)]
    public void Options_OpsetOutsideRange_IsRefusedNamingIt(int opset)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxExportOptions { Opset = opset }.Validated());
        Assert.Contains($"got {opset}", error.Message);
    }
}
