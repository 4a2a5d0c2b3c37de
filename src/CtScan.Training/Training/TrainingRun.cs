using TorchSharp;
using CtScan.Preprocessing;
using static TorchSharp.torch;

namespace CtScan.Training;

/// <summary>Where a run reads and writes: the data folder, the output folder and the tensor cache.</summary>
/// <param name="CacheFolder">Preprocessed tensors by content hash; null: <c>OUT/../.tensor-cache</c>.</param>
public sealed record TrainingRunPaths(string DataFolder, string OutputFolder, string? CacheFolder = null)
{
    public const string CheckpointFolderName = CtScan.Scoring.ModelFolder.CheckpointFolderName;
    public const string CurvesFileName = "curves.png";

    public string Output => Path.GetFullPath(OutputFolder);

    public string Checkpoint => Path.Combine(Output, CheckpointFolderName);

    public string Cache => Path.GetFullPath(CacheFolder ?? Path.Combine(Output, "..", ".tensor-cache"));
}

/// <summary>Hears the steps of a <see cref="TrainingRun"/> before the epochs start.</summary>
public interface ITrainingRunObserver : ITrainingObserver
{
    void DataFound(DataSplit split);

    /// <summary>Preprocessing progress: <paramref name="done"/> of <paramref name="total"/> scans ready (from the cache or computed).</summary>
    void ScansPrepared(int done, int total);
}

/// <summary>
/// One complete training run, from a data folder to the files a user keeps: find and split the scans, preprocess them
/// through the cache, build and initialise the model from the seed, fit, then write OUT/checkpoint, OUT/split.json,
/// OUT/history.json, OUT/metrics.json and OUT/curves.png.
/// </summary>
public sealed class TrainingRun(ModelOptions model, TrainingOptions training, PreprocessingOptions? preprocessing = null)
{
    public ModelOptions Model { get; } = model.Validated();

    public TrainingOptions Training { get; } = training.Validated();

    /// <summary>The preprocessing; its target shape must equal the model input (defaults: the seed's, with that target).</summary>
    public PreprocessingOptions Preprocessing { get; } = preprocessing ?? new PreprocessingOptions { TargetShape = model.Input };

    /// <summary>Scans preprocessed (cache misses) and read from the cache by the last run.</summary>
    public (int Preprocessed, int CacheHits) CacheCounts { get; private set; }

    public async Task<TrainingResult> RunAsync(TrainingRunPaths paths, string device = "cpu", ITrainingRunObserver? observer = null,
        CancellationToken cancellationToken = default)
    {
        if (Preprocessing.TargetShape != Model.Input)
            throw new ArgumentException($"the preprocessing target {Preprocessing.TargetShape} must equal the model input {Model.Input}");
        var torchDevice = TrainingDevice.Resolve(device);
        var scans = ScanCatalog.Discover(paths.DataFolder);
        var split = DataSplit.Create(scans, Training.ValidationFraction, Training.Seed);
        observer?.DataFound(split);

        var cache = new TensorCache(paths.Cache, Preprocessing);
        int total = scans.Count;
        var progress = observer is null ? null : new MonotonicProgress(done => observer.ScansPrepared(done, total));
        var trainingData = await ScanDataset.LoadAsync(split.Training, cache, progress, cancellationToken).ConfigureAwait(false);
        var offset = split.Training.Count;
        var validationProgress = observer is null ? null : new MonotonicProgress(done => progress!.Report(offset + done));
        var validationData = await ScanDataset.LoadAsync(split.Validation, cache, validationProgress, cancellationToken).ConfigureAwait(false);
        CacheCounts = (cache.PreprocessedCount, cache.HitCount);

        Directory.CreateDirectory(paths.Output);
        var splitReport = TrainingReport.Split(split, cache.ScanHashes);
        // The export reads it into the manifest, so serving lays scans out as the model saw them.
        splitReport[TrainingRunMetadata.OrientationKey] = cache.TrainingOrientation;
        TrainingReport.Write(Path.Combine(paths.Output, TrainingReport.SplitFileName), splitReport);
        using var model = new CtScanNet(Model);
        KerasInitializer.Apply(model, Training.Seed);
        model.to(torchDevice);
        var result = new Trainer(Training, observer).Fit(model, trainingData, validationData, paths.Checkpoint, torchDevice, cancellationToken);

        TrainingReport.Write(Path.Combine(paths.Output, TrainingReport.HistoryFileName), TrainingReport.History(result.History));
        TrainingReport.Write(Path.Combine(paths.Output, TrainingReport.MetricsFileName), TrainingReport.Metrics(result, split.Training.Count, split.Validation.Count));
        if (result.History.Count > 0)
            CurvesPlot.Write(Path.Combine(paths.Output, TrainingRunPaths.CurvesFileName), result.History);
        return result;
    }

    /// <summary>
    /// Reports on the calling thread, one at a time, and only counts above the last: parallel workers may report their
    /// counts out of order (Progress&lt;T&gt; would also post them to the thread pool).
    /// </summary>
    private sealed class MonotonicProgress(Action<int> report) : IProgress<int>
    {
        private readonly Lock _gate = new();
        private int _last = int.MinValue;

        public void Report(int value)
        {
            lock (_gate)
            {
                if (value <= _last) return;
                _last = value;
                report(value);
            }
        }
    }
}
