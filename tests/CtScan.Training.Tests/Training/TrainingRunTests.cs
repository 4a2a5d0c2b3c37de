using System.Text.Json.Nodes;

namespace CtScan.Training.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class TrainingRunTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 3, BatchSize = 2, InitialLearningRate = 1e-3, Seed = 7 };

    [Fact]
    public async Task RunAsync_SameSeedTwice_WritesIdenticalHistories()
    {
        using var data = new PhantomData(8);
        var first = await new TrainingRun(ModelTestShapes.Small, Quick).RunAsync(new TrainingRunPaths(data.Data, data.Output("a")));
        var second = await new TrainingRun(ModelTestShapes.Small, Quick).RunAsync(new TrainingRunPaths(data.Data, data.Output("b")));

        Assert.Equal(3, first.History.Count);
        Assert.Equal(first.History.Select(r => r.Loss), second.History.Select(r => r.Loss));
        Assert.Equal(first.History.Select(r => r.ValidationLoss), second.History.Select(r => r.ValidationLoss));
        Assert.Equal(Losses(data.Output("a")), Losses(data.Output("b")));
        Assert.All(first.History, r => Assert.True(double.IsFinite(r.Loss) && r.Loss > 0, $"loss {r.Loss}"));
    }

    [Fact]
    public async Task RunAsync_DifferentSeeds_TrainDifferently()
    {
        using var data = new PhantomData(8);
        var first = await new TrainingRun(ModelTestShapes.Small, Quick with { Epochs = 1 }).RunAsync(new TrainingRunPaths(data.Data, data.Output("a")));
        var second = await new TrainingRun(ModelTestShapes.Small, Quick with { Epochs = 1, Seed = 8 }).RunAsync(new TrainingRunPaths(data.Data, data.Output("b")));

        Assert.NotEqual(first.History[0].Loss, second.History[0].Loss);
    }

    private static double[] Losses(string output)
    {
        var history = JsonNode.Parse(File.ReadAllText(Path.Combine(output, TrainingReport.HistoryFileName)))!;
        return [.. history["epochs"]!.AsArray().SelectMany(e => new[] { (double)e!["loss"]!, (double)e["val_loss"]! })];
    }
}
