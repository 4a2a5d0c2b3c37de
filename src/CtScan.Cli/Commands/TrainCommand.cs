using System.CommandLine;
using System.Globalization;
using CtScan.Cli.Progress;
using CtScan.Pipeline;
using CtScan.Retraining;
using CtScan.Training;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan train DATA --out DIR</c> (or <c>ctscan train --from-storage</c>, the retraining job: see
/// <see cref="StorageTrainingJob"/>): the seed's training (model.fit with checkpoint and early stopping) on a folder of
/// CT-0/ and CT-23/ scans or a labels.csv; writes OUT/checkpoint, OUT/split.json, OUT/history.json, OUT/metrics.json,
/// OUT/curves.png.
/// </summary>
/// <remarks>
/// A small demo that separates phantoms (val AUC ≥ 0.95 by epoch 15, ~80 s on this 2-core machine when it is otherwise idle):
/// <c>ctscan phantoms --count 80 --shape 64 64 48 --uncompressed --out data</c>, then
/// <c>ctscan train data --out run --width 0.5 --input 46 46 46 --learning-rate 3e-3 --batch-size 4 --batch-norm-momentum 0.9 --epochs 25</c>.
/// </remarks>
internal static class TrainCommand
{
    /// <summary>The device when --device is not given (the Container Apps training job sets CTSCAN_DEVICE=cuda).</summary>
    public const string DeviceVariable = "CTSCAN_DEVICE";

    public static Command Create()
    {
        var seed = new TrainingOptions();
        var data = new Argument<DirectoryInfo?>("DATA") { Description = $"Training data: {ScanCatalog.NormalFolder}/ and {ScanCatalog.AbnormalFolder}/ subfolders of *.nii[.gz], or a {ScanCatalog.LabelsFileName} (scan,label); not with --from-storage", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Folder for checkpoint/, history.json, metrics.json and curves.png (required); with --from-storage the work folder (default: a new temporary folder)" };
        var fromStorage = new Option<bool>("--from-storage") { Description = "The retraining job: train on the storage account's training container, evaluate against the current model, publish through the AUC gate, report to models/runs/<run id>/" };
        var force = new Option<bool>("--force") { Description = "With --from-storage: make the new model current even if its validation AUC is lower than the current model's" };
        var noPromote = new Option<bool>("--no-promote") { Description = "With --from-storage: upload the new model, leave the current one" };
        var storage = new StorageOptions();
        var epochs = new Option<int>("--epochs") { Description = $"Most epochs to run (default {seed.Epochs}, the seed)", DefaultValueFactory = _ => seed.Epochs };
        var batchSize = new Option<int>("--batch-size") { Description = $"Scans per step (default {seed.BatchSize})", DefaultValueFactory = _ => seed.BatchSize };
        var learningRate = new Option<double>("--learning-rate") { Description = $"Adam's initial learning rate, decayed ×{seed.DecayRate} every {seed.DecaySteps} steps (default {seed.InitialLearningRate})", DefaultValueFactory = _ => seed.InitialLearningRate };
        var patience = new Option<int>("--patience") { Description = $"Epochs without a better val_acc before stopping (default {seed.EarlyStoppingPatience})", DefaultValueFactory = _ => seed.EarlyStoppingPatience };
        var steps = new Option<int?>("--steps-per-epoch") { Description = "Cap on training batches per epoch (default: all), for quick benchmarks" };
        var width = new Option<double>("--width") { Description = "Width multiplier on every layer's channel count (default 1, the seed)", DefaultValueFactory = _ => 1.0 };
        var input = new ShapeOption("--input", $"Model input and preprocessing target, each extent at least {ModelOptions.MinimumInputExtent}", VolumeShape.SeedTarget);
        var randomSeed = new Option<long>("--seed") { Description = $"Seed of the split, shuffles, augmentation, initial weights and dropout (default {seed.Seed})", DefaultValueFactory = _ => seed.Seed };
        var cache = new Option<DirectoryInfo?>("--cache") { Description = "Folder of preprocessed tensors by content hash (default OUT/../.tensor-cache)" };
        var device = new Option<string>("--device") { Description = $"cpu or cuda (default: ${DeviceVariable}, else cpu)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable(DeviceVariable) is { Length: > 0 } fromEnv ? fromEnv : "cpu" };
        device.AcceptOnlyFromAmong([.. TrainingDevice.Names]);
        var batchNormMomentum = new Option<double>("--batch-norm-momentum") { Description = $"BatchNorm running-statistics momentum, Keras convention (default {seed.BatchNormMomentum}, the seed; 0.9 suits short demos)", DefaultValueFactory = _ => seed.BatchNormMomentum };
        var noAugment = new Option<bool>("--no-augment") { Description = "Do not rotate training scans (the seed does)" };

        var command = new Command("train", "Train the 3-D CNN like the seed: BCE, Adam with exponential decay, rotation augmentation, best-by-val_loss checkpoint, early stopping on val_acc")
        {
            data, output, epochs, batchSize, learningRate, patience, steps, width, input.Option, randomSeed, cache, device, batchNormMomentum, noAugment,
            fromStorage, force, noPromote,
        };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var model = new ModelOptions { Input = input.GetValue(parse), WidthMultiplier = parse.GetValue(width) };
            var training = new TrainingOptions
            {
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batchSize),
                InitialLearningRate = parse.GetValue(learningRate),
                EarlyStoppingPatience = parse.GetValue(patience),
                StepsPerEpoch = parse.GetValue(steps),
                Seed = parse.GetValue(randomSeed),
                Augment = !parse.GetValue(noAugment),
                BatchNormMomentum = parse.GetValue(batchNormMomentum),
            };
            if (parse.GetValue(fromStorage))
            {
                if (parse.GetValue(data) is { } given) throw new ArgumentException($"give either DATA ({given}) or --from-storage, not both");
                if (parse.GetValue(cache) is not null) throw new ArgumentException("--cache is not used with --from-storage (the cache lives in the work folder, WORK/.tensor-cache)");
                string work = parse.GetValue(output)?.FullName ?? Directory.CreateTempSubdirectory("ctscan-retrain-").FullName;
                var job = new StorageTrainingJob(new PipelineClients(storage.Resolve(parse)), new StorageTrainingOptions
                {
                    WorkFolder = work,
                    Model = model,
                    Training = training,
                    Device = parse.GetValue(device)!,
                    Force = parse.GetValue(force),
                    Promote = !parse.GetValue(noPromote),
                }, stdout, new ConsoleTrainingObserver(stdout));
                await job.RunAsync(ct);
                return;
            }
            if (parse.GetValue(force) || parse.GetValue(noPromote))
                throw new ArgumentException("--force and --no-promote apply to --from-storage only (a local run publishes nothing; see ctscan model publish)");
            var dataFolder = parse.GetValue(data) ?? throw new ArgumentException("give the training data folder DATA, or --from-storage");
            var outFolder = parse.GetValue(output) ?? throw new ArgumentException("--out is required: the folder for checkpoint/, history.json, metrics.json and curves.png");
            var paths = new TrainingRunPaths(dataFolder.FullName, outFolder.FullName, parse.GetValue(cache)?.FullName);
            var run = new TrainingRun(model, training);
            var observer = new ConsoleTrainingObserver(stdout);
            var result = await run.RunAsync(paths, parse.GetValue(device)!, observer, ct);
            observer.Summarize(result, run, paths);
            // A cancelled run has kept its best checkpoint and written its files; now report the cancellation (exit 130).
            if (result.StopReason == StopReason.Cancelled) ct.ThrowIfCancellationRequested();
        }, cancellationToken));
        return command;
    }

    /// <summary>A progress bar per epoch with the running loss and accuracy, then one Keras-style line per epoch.</summary>
    internal sealed class ConsoleTrainingObserver(TextWriter stdout) : IRetrainingObserver
    {
        private readonly ProgressDisplay _display = ProgressDisplay.Create(stdout);
        private ProgressBar? _bar;

        public void DataFound(DataSplit split)
        {
            int Count(IReadOnlyList<LabeledScan> scans, int label) => scans.Count(s => s.Label == label);
            stdout.WriteLine($"data: {split.Training.Count} training scans ({Count(split.Training, 0)} normal, {Count(split.Training, 1)} abnormal), " +
                             $"{split.Validation.Count} validation scans ({Count(split.Validation, 0)} normal, {Count(split.Validation, 1)} abnormal)");
        }

        public void ScansPrepared(int done, int total)
        {
            _bar ??= _display.Start("preprocessing", total);
            _bar.Report(done);
            if (done == total) EndBar();
        }

        public void EpochStarted(int epoch, int epochs, int batches) => _bar = _display.Start($"Epoch {epoch}/{epochs}", batches);

        public void BatchCompleted(int epoch, int batch, double runningLoss, double runningAccuracy) =>
            _bar?.Report(batch, Invariant($"loss: {runningLoss:0.0000} - acc: {runningAccuracy:0.0000}"));

        public void EpochCompleted(EpochRecord r, bool checkpointSaved)
        {
            EndBar();
            stdout.WriteLine(Invariant(
                $"Epoch {r.Epoch} - {r.Seconds:0.0}s - {r.TrainingSamplesPerSecond:0.00} samples/s - loss: {r.Loss:0.0000} - acc: {r.Accuracy:0.0000} - val_loss: {r.ValidationLoss:0.0000} - val_acc: {r.ValidationAccuracy:0.0000} - val_auc: {r.ValidationAuc:0.0000} - val_sensitivity: {r.ValidationSensitivity:0.0000} - val_specificity: {r.ValidationSpecificity:0.0000}{(checkpointSaved ? " - checkpoint saved" : "")}"));
        }

        public void EpochAbandoned(int epoch)
        {
            _bar?.Dispose();
            _bar = null;
        }

        public void TrainingFinished(TrainingResult result, TrainingRun run, TrainingRunPaths paths) => Summarize(result, run, paths);

        public void Summarize(TrainingResult result, TrainingRun run, TrainingRunPaths paths)
        {
            stdout.WriteLine($"tensor cache {paths.Cache}: {run.CacheCounts.Preprocessed} preprocessed, {run.CacheCounts.CacheHits} reused");
            string why = result.StopReason switch
            {
                StopReason.EarlyStopped => $"early stop: val_acc did not improve for {run.Training.EarlyStoppingPatience} epochs",
                StopReason.Cancelled => "cancelled: the epoch in progress was dropped",
                _ => "all epochs ran",
            };
            stdout.WriteLine($"stopped after {result.History.Count} epoch(s), {result.Steps} steps ({why})");
            if (result.History.Count > 0)
                stdout.WriteLine(Invariant($"training throughput: {result.History.Average(r => r.TrainingSamplesPerSecond):0.00} samples/s (mean over epochs)"));
            if (result.BestValidation is { } best && result.BestEpoch is { } epoch)
            {
                stdout.WriteLine(Invariant($"best epoch {epoch} (lowest val_loss): val_loss {best.Loss:0.0000}, val_acc {best.Accuracy:0.0000}, val_auc {best.Auc:0.0000}, sensitivity {best.Sensitivity:0.0000}, specificity {best.Specificity:0.0000} at threshold {best.Threshold}"));
                stdout.WriteLine("confusion matrix (validation, best epoch):");
                stdout.WriteLine(TrainingReport.ConfusionTable(best.Confusion));
                stdout.WriteLine($"checkpoint: {paths.Checkpoint}");
            }
            else
            {
                stdout.WriteLine("no epoch completed: no checkpoint written");
            }
            stdout.WriteLine($"history: {Path.Combine(paths.Output, TrainingReport.HistoryFileName)}");
            stdout.WriteLine($"metrics: {Path.Combine(paths.Output, TrainingReport.MetricsFileName)}");
            if (result.History.Count > 0) stdout.WriteLine($"curves: {Path.Combine(paths.Output, TrainingRunPaths.CurvesFileName)}");
        }

        private void EndBar()
        {
            _bar?.Complete();
            _bar?.Dispose();
            _bar = null;
        }

        private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
    }
}
