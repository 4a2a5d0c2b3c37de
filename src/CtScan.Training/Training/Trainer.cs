using System.Diagnostics;
using CtScan.Preprocessing;
using TorchSharp;
using static TorchSharp.torch;

namespace CtScan.Training;

/// <summary>
/// The seed's model.fit: binary cross-entropy, Adam on an exponential-decay schedule, shuffled and rotated training
/// batches, validation after every epoch, the best epoch by val_loss saved as a checkpoint, early stopping on val_acc.
/// </summary>
/// <remarks>
/// Reproducible on CPU for a given <see cref="TrainingOptions.Seed"/>: shuffles and augmentation angles come from seeded
/// generators derived from it, and torch's generator (dropout) is seeded at the start of <see cref="Fit"/>. That generator
/// is process-wide: another thread running a model in train mode at the same time takes numbers from it, and the runs differ.
/// Adam uses Keras's defaults (β1 0.9, β2 0.999, ε 1e-7); PyTorch adds ε after the bias correction of the second moment,
/// Keras before, a difference only visible when gradients are ~1e-7.
/// </remarks>
public sealed class Trainer
{
    private readonly TrainingOptions _options;
    private readonly ITrainingObserver? _observer;

    public Trainer(TrainingOptions options, ITrainingObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validated();
        _observer = observer;
    }

    public TrainingOptions Options => _options;

    /// <summary>
    /// Trains <paramref name="model"/> (already on <paramref name="device"/> and initialised) and saves the best epoch
    /// into <paramref name="checkpointDirectory"/>. Cancellation stops after the current batch; the result then says
    /// <see cref="StopReason.Cancelled"/> and the best checkpoint so far stays on disk.
    /// </summary>
    public TrainingResult Fit(CtScanNet model, ScanDataset training, ScanDataset validation, string checkpointDirectory,
        Device? device = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        device ??= CPU;
        if (training.Shape != model.Options.Input || validation.Shape != model.Options.Input)
            throw new ArgumentException($"the data's shape ({training.Shape}, validation {validation.Shape}) must equal the model input {model.Options.Input}: set the preprocessing target to the model input");
        if (training.Count == 0 || validation.Count == 0)
            throw new ArgumentException($"training and validation need scans; got {training.Count} and {validation.Count}");

        SetBatchNormMomentum(model, _options.BatchNormMomentum);
        random.manual_seed(_options.Seed);
        var root = new Random(unchecked((int)_options.Seed));
        var shuffling = new Random(root.Next());
        var augmenting = new Random(root.Next());
        var rotation = _options.Augment ? new RandomRotation() : null;
        var schedule = ExponentialDecay.From(_options);
        using var optimizer = optim.Adam(model.parameters(), lr: schedule.LearningRateAt(0), beta1: 0.9, beta2: 0.999, eps: 1e-7);
        var stopping = new EarlyStopping(_options.EarlyStoppingPatience);

        var history = new List<EpochRecord>();
        int? bestEpoch = null;
        BinaryMetrics? bestValidation = null;
        double bestValidationLoss = double.PositiveInfinity;
        long step = 0;
        var order = new int[training.Count];
        int batches = (training.Count + _options.BatchSize - 1) / _options.BatchSize;
        if (_options.StepsPerEpoch is { } cap) batches = Math.Min(batches, cap);
        var batchInput = new float[_options.BatchSize * training.Shape.VoxelCount];
        var batchLabels = new float[_options.BatchSize];

        for (int epoch = 1; epoch <= _options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            _observer?.EpochStarted(epoch, _options.Epochs, batches);
            for (int n = 0; n < order.Length; n++) order[n] = n;
            shuffling.Shuffle(order);
            model.train();
            double lossSum = 0;
            int correct = 0, seen = 0;
            for (int batch = 0; batch < batches; batch++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    _observer?.EpochAbandoned(epoch);
                    return new TrainingResult(history, bestEpoch, bestValidation, StopReason.Cancelled, step);
                }
                int start = batch * _options.BatchSize;
                int size = Math.Min(_options.BatchSize, order.Length - start);
                for (int b = 0; b < size; b++)
                {
                    int index = order[start + b];
                    var destination = batchInput.AsSpan(b * (int)training.Shape.VoxelCount, (int)training.Shape.VoxelCount);
                    if (rotation is null)
                    {
                        training.Volume(index).CopyTo(destination);
                    }
                    else
                    {
                        rotation.Randomize(augmenting);
                        rotation.Apply(training.Volume(index), destination, training.Shape);
                    }
                    batchLabels[b] = training.Labels[index];
                }

                foreach (var group in optimizer.ParamGroups) group.LearningRate = schedule.LearningRateAt(step);
                var (loss, batchCorrect) = TrainStep(model, optimizer, batchInput, batchLabels, size, training.Shape, device);
                step++;
                lossSum += loss * size;
                correct += batchCorrect;
                seen += size;
                _observer?.BatchCompleted(epoch, batch + 1, lossSum / seen, (double)correct / seen);
            }

            double trainingSeconds = clock.Elapsed.TotalSeconds;
            var metrics = Evaluate(model, validation, _options.BatchSize, device, cancellationToken);
            if (metrics is null)
            {
                _observer?.EpochAbandoned(epoch);
                return new TrainingResult(history, bestEpoch, bestValidation, StopReason.Cancelled, step);
            }
            bool improved = metrics.Loss < bestValidationLoss;
            if (improved)
            {
                bestValidationLoss = metrics.Loss;
                bestEpoch = epoch;
                bestValidation = metrics;
                ModelCheckpoint.Save(model, checkpointDirectory);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            var record = new EpochRecord(epoch, lossSum / seen, (double)correct / seen, metrics.Loss, metrics.Accuracy, metrics.Auc,
                metrics.Sensitivity, metrics.Specificity, schedule.LearningRateAt(Math.Max(0, step - 1)), seconds,
                trainingSeconds > 0 ? seen / trainingSeconds : 0);
            history.Add(record);
            _observer?.EpochCompleted(record, improved);
            if (stopping.ShouldStop(metrics.Accuracy))
                return new TrainingResult(history, bestEpoch, bestValidation, StopReason.EarlyStopped, step);
        }
        return new TrainingResult(history, bestEpoch, bestValidation, StopReason.EpochsCompleted, step);
    }

    /// <summary>Probabilities of <paramref name="data"/> in eval mode (BatchNorm running statistics, no dropout); null when cancelled.</summary>
    public static BinaryMetrics? Evaluate(CtScanNet model, ScanDataset data, int batchSize, Device? device = null, CancellationToken cancellationToken = default)
    {
        device ??= CPU;
        model.eval();
        var probabilities = new float[data.Count];
        int voxels = (int)data.Shape.VoxelCount;
        var buffer = new float[batchSize * voxels];
        using var noGrad = no_grad();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            if (cancellationToken.IsCancellationRequested) return null;
            int size = Math.Min(batchSize, data.Count - start);
            for (int b = 0; b < size; b++) data.Volume(start + b).CopyTo(buffer.AsSpan(b * voxels, voxels));
            using var scope = NewDisposeScope();
            using var input = InputTensor(buffer, size, data.Shape, device);
            using var output = model.call(input).cpu();
            output.data<float>().CopyTo(probabilities.AsSpan(start, size));
        }
        return BinaryMetrics.Compute(probabilities, data.Labels);
    }

    /// <summary>Keras's momentum m (weight of the old statistics) is PyTorch's 1 − m (weight of the batch's).</summary>
    private static void SetBatchNormMomentum(CtScanNet model, double kerasMomentum)
    {
        foreach (var module in model.modules())
            if (module is TorchSharp.Modules.BatchNorm norm) norm.momentum = 1 - kerasMomentum;
    }

    private static (double Loss, int Correct) TrainStep(CtScanNet model, optim.Optimizer optimizer, float[] batchInput, float[] batchLabels,
        int size, VolumeShape shape, Device device)
    {
        // Every tensor of the step (inputs, activations, gradients' temporaries) is freed here, so memory stays flat over epochs.
        using var scope = NewDisposeScope();
        var input = InputTensor(batchInput, size, shape, device);
        var target = tensor(batchLabels.AsSpan(0, size).ToArray(), [size, 1]).to(device);
        optimizer.zero_grad();
        var output = model.call(input);
        var loss = nn.functional.binary_cross_entropy(output, target);
        loss.backward();
        optimizer.step();
        var probabilities = output.detach().cpu().data<float>().ToArray();
        int correct = 0;
        for (int b = 0; b < size; b++)
            if ((probabilities[b] > BinaryMetrics.DefaultThreshold ? 1f : 0f) == batchLabels[b]) correct++;
        return (loss.item<float>(), correct);
    }

    /// <summary>N × 1 × W × H × D from the first <paramref name="size"/> volumes in <paramref name="buffer"/>.</summary>
    private static Tensor InputTensor(float[] buffer, int size, VolumeShape shape, Device device)
    {
        long voxels = shape.VoxelCount;
        var values = size * voxels == buffer.Length ? buffer : buffer.AsSpan(0, (int)(size * voxels)).ToArray();
        var input = tensor(values, [size, 1, shape.Width, shape.Height, shape.Depth]);
        return device.type == DeviceType.CPU ? input : input.to(device);
    }
}
