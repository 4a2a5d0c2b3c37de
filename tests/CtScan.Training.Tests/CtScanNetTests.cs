using TorchSharp;
using static TorchSharp.torch;

namespace CtScan.Training.Tests;

public sealed class CtScanNetTests
{
    [Fact]
    public void Parameters_Seed_MatchKerasCounts()
    {
        using var model = new CtScanNet(ModelOptions.Seed);

        var counts = ParameterCounts.Of(model);

        Assert.Equal(1_351_873, counts.Trainable);
        Assert.Equal(1_024, counts.NonTrainable);
        Assert.Equal(1_352_897, counts.Total);
    }

    [Theory]
    [InlineData(0.25)]
    [InlineData(0.5)]
    [InlineData(1.5)]
    public void Parameters_AnyWidth_MatchSummary(double width)
    {
        var options = ModelTestShapes.Small with { WidthMultiplier = width };
        using var model = new CtScanNet(options);

        var counts = ParameterCounts.Of(model);
        var summary = ModelSummary.Describe(options);

        Assert.Equal((summary.TrainableParameters, summary.NonTrainableParameters), (counts.Trainable, counts.NonTrainable));
    }

    [Fact]
    public void Blocks_SmallInput_MatchSummaryShapes()
    {
        var options = ModelTestShapes.Small with { Input = new VolumeShape(50, 47, 61) };
        using var model = new CtScanNet(options);
        model.eval();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var normLayers = ModelSummary.Describe(options).Layers.Where(l => l.Type == "BatchNormalization").ToList();

        var features = torch.zeros([1, 1, 50, 47, 61]);
        for (int block = 0; block < 4; block++)
        {
            features = model.Blocks[block].call(features);
            var keras = normLayers[block].OutputShape;
            Assert.Equal(new long[] { 1, keras[3], keras[0], keras[1], keras[2] }, features.shape);
        }
    }

    [Fact]
    public void Forward_SmallBatchOfTwo_ReturnsProbabilities()
    {
        using var model = new CtScanNet(ModelTestShapes.Small);
        KerasInitializer.Apply(model, seed: 7);
        model.eval();
        using var noGrad = torch.no_grad();
        using var input = torch.rand([2, 1, 46, 46, 46], generator: new torch.Generator(3));

        using var output = model.call(input);

        Assert.Equal([2, 1], output.shape);
        foreach (float probability in output.data<float>().ToArray())
            Assert.InRange(probability, float.Epsilon, 1f - float.Epsilon);
    }

    [Fact]
    public void Backward_SmallBatchOfTwoInTraining_ReachesFirstConvolution()
    {
        using var model = new CtScanNet(ModelTestShapes.Small);
        KerasInitializer.Apply(model);
        model.train();
        using var scope = torch.NewDisposeScope();
        var input = torch.rand([2, 1, 46, 46, 46], generator: new torch.Generator(5));
        var labels = torch.tensor(new float[] { 0, 1 }).reshape(2, 1);

        var loss = nn.functional.binary_cross_entropy(model.call(input), labels);
        loss.backward();

        var firstKernel = model.named_parameters().First(p => p.name == "block1.0.weight").parameter;
        Assert.NotNull(firstKernel.grad);
        Assert.True(firstKernel.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void StateDictionary_UsesThePyTorchTwinsNames()
    {
        using var model = new CtScanNet(ModelTestShapes.Small);

        var names = model.state_dict().Keys.ToHashSet();

        Assert.Contains("block1.0.weight", names);
        Assert.Contains("block4.3.running_var", names);
        Assert.Contains("dense.weight", names);
        Assert.Contains("out.bias", names);
    }
}
