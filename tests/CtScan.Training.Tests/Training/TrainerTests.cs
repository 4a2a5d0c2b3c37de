using CtScan.Tensors;
using TorchSharp;

namespace CtScan.Training.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class TrainerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ctscan-trainer-test-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Random volumes with a brighter cube in the abnormal ones: learnable, no files needed.</summary>
    private static ScanDataset Synthetic(int count, int seed)
    {
        var shape = ModelTestShapes.Small.Input;
        var random = new Random(seed);
        var scans = new List<LabeledScan>();
        var tensors = new List<Float32Tensor>();
        for (int n = 0; n < count; n++)
        {
            int label = n % 2;
            var data = new float[shape.VoxelCount];
            for (int v = 0; v < data.Length; v++) data[v] = (float)random.NextDouble() * 0.5f;
            if (label == 1)
                for (int i = 10; i < 20; i++) for (int j = 10; j < 20; j++) for (int k = 10; k < 20; k++) data[shape.IndexOf(i, j, k)] = 1f;
            scans.Add(new LabeledScan($"synthetic-{n}", label));
            tensors.Add(new Float32Tensor(data, shape));
        }
        return new ScanDataset(scans, tensors, shape);
    }

    [Fact]
    public void Fit_ManyEpochs_KeepsLiveTensorCountFlat()
    {
        var live = new List<long>();
        var observer = new RecordingObserver { OnEpoch = _ => live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount) };
        using var model = new CtScanNet(ModelTestShapes.Small);
        KerasInitializer.Apply(model, 1);

        new Trainer(new TrainingOptions { Epochs = 4, Augment = false, EarlyStoppingPatience = 10 }, observer)
            .Fit(model, Synthetic(6, 1), Synthetic(4, 2), Path.Combine(_folder, "checkpoint"));

        Assert.Equal(4, live.Count);
        // After the first epoch (Adam's state tensors appear with the first step), no epoch leaves tensors behind.
        Assert.All(live.Skip(1), count => Assert.Equal(live[1], count));
    }

    [Fact]
    public void Fit_CancelledMidEpoch_StopsAfterTheBatchAndKeepsTheBestCheckpoint()
    {
        using var cancellation = new CancellationTokenSource();
        var observer = new RecordingObserver { OnBatch = (epoch, batch) => { if (epoch == 2 && batch == 1) cancellation.Cancel(); } };
        using var model = new CtScanNet(ModelTestShapes.Small);
        KerasInitializer.Apply(model, 1);
        string checkpoint = Path.Combine(_folder, "checkpoint");

        var result = new Trainer(new TrainingOptions { Epochs = 5, Augment = false }, observer)
            .Fit(model, Synthetic(6, 1), Synthetic(4, 2), checkpoint, cancellationToken: cancellation.Token);

        Assert.Equal(StopReason.Cancelled, result.StopReason);
        Assert.Single(result.History);
        Assert.Equal(1, result.BestEpoch);
        Assert.Equal(3 + 1, result.Steps); // epoch 1's three batches, then the one batch of epoch 2 that was running
        Assert.Equal([2], observer.Abandoned);
        using var restored = ModelCheckpoint.Load(checkpoint);
        Assert.Equal(model.Options, restored.Options);
    }

    [Fact]
    public void Fit_ValAccNeverImproves_StopsAfterPatience()
    {
        using var model = new CtScanNet(ModelTestShapes.Small);
        KerasInitializer.Apply(model, 1);
        // A learning rate this small barely moves the weights (only BatchNorm's running statistics move val_acc).
        var options = new TrainingOptions { Epochs = 20, EarlyStoppingPatience = 2, InitialLearningRate = 1e-12, Augment = false };

        var result = new Trainer(options).Fit(model, Synthetic(4, 1), Synthetic(4, 2), Path.Combine(_folder, "checkpoint"));

        Assert.Equal(StopReason.EarlyStopped, result.StopReason);
        Assert.InRange(result.History.Count, 3, 19);
        // Keras's rule: the last `patience` epochs did not beat the best val_acc before them.
        var accuracies = result.History.Select(r => r.ValidationAccuracy).ToArray();
        double bestBefore = accuracies[..^2].Max();
        Assert.All(accuracies[^2..], acc => Assert.True(acc <= bestBefore, $"val_acc {acc} beat {bestBefore}"));
    }

    [Fact]
    public void Fit_LearnableSignal_ReachesHighValidationAuc()
    {
        using var model = new CtScanNet(ModelTestShapes.Small);
        KerasInitializer.Apply(model, 1);
        var options = new TrainingOptions { Epochs = 8, InitialLearningRate = 1e-3, EarlyStoppingPatience = 100, Seed = 1 };

        var result = new Trainer(options).Fit(model, Synthetic(16, 1), Synthetic(8, 2), Path.Combine(_folder, "checkpoint"));

        Assert.True(result.History[^1].ValidationAuc >= 0.95, $"val AUC by epoch: {string.Join(", ", result.History.Select(r => r.ValidationAuc.ToString("0.00")))}");
        Assert.True(result.History[^1].Loss < result.History[0].Loss, "training loss did not fall");
    }

    [Fact]
    public void Fit_BatchNormMomentumOption_SetsPyTorchsComplement()
    {
        using var model = new CtScanNet(ModelTestShapes.Small);

        new Trainer(new TrainingOptions { Epochs = 1, BatchNormMomentum = 0.9, Augment = false })
            .Fit(model, Synthetic(2, 1), Synthetic(2, 2), Path.Combine(_folder, "checkpoint"));

        var momenta = model.modules().OfType<TorchSharp.Modules.BatchNorm>().Select(norm => norm.momentum).ToArray();
        Assert.Equal(4, momenta.Length);
        Assert.All(momenta, momentum => Assert.Equal(0.1, momentum!.Value, 12));
    }

    [Fact]
    public void Fit_DataShapeOtherThanModelInput_IsRefused()
    {
        using var model = new CtScanNet(ModelTestShapes.Small with { Input = new VolumeShape(48, 48, 48) });

        var error = Assert.Throws<ArgumentException>(() => new Trainer(new TrainingOptions()).Fit(model, Synthetic(2, 1), Synthetic(2, 2), _folder));
        Assert.Contains("must equal the model input 48×48×48", error.Message);
    }

    private sealed class RecordingObserver : ITrainingObserver
    {
        public Action<EpochRecord>? OnEpoch { get; init; }

        public Action<int, int>? OnBatch { get; init; }

        public List<int> Abandoned { get; } = [];

        public void EpochStarted(int epoch, int epochs, int batches) { }

        public void BatchCompleted(int epoch, int batch, double runningLoss, double runningAccuracy) => OnBatch?.Invoke(epoch, batch);

        public void EpochCompleted(EpochRecord record, bool checkpointSaved) => OnEpoch?.Invoke(record);

        public void EpochAbandoned(int epoch) => Abandoned.Add(epoch);
    }
}
