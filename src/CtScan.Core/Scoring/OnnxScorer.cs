using CtScan.Contracts;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CtScan.Scoring;

/// <summary>A scored scan: the probability of abnormal findings and the label the manifest's threshold gives it.</summary>
public readonly record struct ScanScore(double ProbabilityAbnormal, string Label);

/// <summary>One scan's answer within a batch: its score, or why the model gave it none (its batch-mates keep theirs).</summary>
public readonly record struct BatchScore(ScanScore Score, InvalidModelOutputException? Error);

/// <summary>
/// Scores preprocessed scans with one ONNX model: one <see cref="InferenceSession"/> for the scorer's lifetime (creating
/// one is expensive; <c>Run</c> is thread-safe), so keep one scorer per model version and share it.
/// </summary>
/// <remarks>
/// Loading follows the manifest strictly: the file's SHA-256 must match before ONNX Runtime sees a byte (the session
/// is built from the very bytes that were hashed), and the graph's input/output names and input shape must be the
/// manifest's. Scoring wraps the caller's buffer in an <see cref="OrtValue"/> without copying (pinned for the call)
/// and writes the output into a small per-call array, so concurrent calls share nothing mutable.
/// </remarks>
public sealed class OnnxScorer : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly long[] _volumeAxes;     // the input shape after the batch axis, in the manifest's layout
    private readonly long[] _outputAxes;     // the output shape after the batch axis (all ones)
    private readonly int _maxBatch;          // the graph's fixed batch size, or int.MaxValue when dynamic
    private bool _disposed;

    /// <summary>Loads the model in <paramref name="modelDirectory"/> (model.onnx + manifest.json).</summary>
    /// <exception cref="ModelLoadException">The manifest is missing or invalid, the hash differs, or the graph does not match it.</exception>
    public static OnnxScorer Open(string modelDirectory, OnnxScorerOptions? options = null)
    {
        var manifest = ModelFolder.ReadManifest(modelDirectory);
        return new OnnxScorer(Path.Combine(modelDirectory, manifest.ModelFile), manifest, options ?? new OnnxScorerOptions());
    }

    public OnnxScorer(string modelPath, ModelManifest manifest) : this(modelPath, manifest, new OnnxScorerOptions()) { }

    public OnnxScorer(string modelPath, ModelManifest manifest, OnnxScorerOptions options)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        options = (options ?? throw new ArgumentNullException(nameof(options))).Validated();
        var problems = manifest.Validate();
        if (problems.Count > 0) throw new ModelLoadException($"invalid model manifest: {string.Join("; ", problems)}");
        Manifest = manifest;
        if (!File.Exists(modelPath)) throw new ModelLoadException($"model file {modelPath} does not exist");

        byte[] model = File.ReadAllBytes(modelPath);
        // Always checked: a model that is not the one the manifest describes must never score a patient's scan.
        string actual = Sha256Hex.Of(model);
        if (actual != manifest.Sha256)
            throw new ModelLoadException($"model file {modelPath} has SHA-256 {actual}; the manifest (version {manifest.Version}) says {manifest.Sha256}. Refusing to load it.");

        using var sessionOptions = options.CreateSessionOptions();
        try
        {
            _session = new InferenceSession(model, sessionOptions);
        }
        catch (OnnxRuntimeException error)
        {
            throw new ModelLoadException($"ONNX Runtime cannot load {modelPath}: {error.Message}", error);
        }
        try
        {
            (_volumeAxes, _maxBatch) = CheckInput(_session, manifest);
            _outputAxes = CheckOutput(_session, manifest);
            _inputNames = [manifest.Input.Name];
            _outputNames = [manifest.Output.Name];
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public ModelManifest Manifest { get; }

    /// <summary>Voxels in one scan: W·H·D of the manifest's input shape.</summary>
    public long VoxelsPerScan => Manifest.InputVolume.VoxelCount;

    /// <summary>Scores one preprocessed scan (float32, C order, the manifest's [W, H, D]).</summary>
    public ScanScore Score(ReadOnlyMemory<float> scan, CancellationToken cancellationToken = default) =>
        ScoreBatch(scan, 1, cancellationToken)[0];

    /// <summary>Scores <paramref name="count"/> scans stored one after another in <paramref name="scans"/>.</summary>
    /// <exception cref="InvalidModelOutputException">The model gave one of them no probability (the first such is thrown).</exception>
    public IReadOnlyList<ScanScore> ScoreBatch(ReadOnlyMemory<float> scans, int count, CancellationToken cancellationToken = default)
    {
        var each = ScoreEach(scans, count, cancellationToken);
        var scores = new ScanScore[count];
        for (int n = 0; n < count; n++) scores[n] = each[n].Error is { } error ? throw error : each[n].Score;
        return scores;
    }

    /// <summary>
    /// Scores <paramref name="count"/> scans like <see cref="ScoreBatch"/>, but checks each scan's output on its own: a
    /// scan the model answers with no probability gets its <see cref="BatchScore.Error"/>, the others their scores.
    /// </summary>
    public IReadOnlyList<BatchScore> ScoreEach(ReadOnlyMemory<float> scans, int count, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (scans.Length != count * VoxelsPerScan)
            throw new ArgumentException(
                $"{count} scan(s) of {Manifest.InputVolume} need {count * VoxelsPerScan} values; got {scans.Length}", nameof(scans));

        var scores = new BatchScore[count];
        for (int first = 0; first < count; first += _maxBatch)
        {
            int chunk = Math.Min(_maxBatch, count - first);
            var outputs = Run(scans.Slice((int)(first * VoxelsPerScan), (int)(chunk * VoxelsPerScan)), chunk, cancellationToken);
            for (int n = 0; n < chunk; n++)
            {
                try { scores[first + n] = new BatchScore(ToScore(outputs[n]), null); }
                catch (InvalidModelOutputException error) { scores[first + n] = new BatchScore(default, error); }
            }
        }
        return scores;
    }

    private float[] Run(ReadOnlyMemory<float> scans, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var output = new float[count];
        // ONNX Runtime only reads the input; the cast to Memory<float> lets it wrap the caller's buffer without a copy.
        var input = System.Runtime.InteropServices.MemoryMarshal.AsMemory(scans);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input, [count, .. _volumeAxes]);
        using var outputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, output.AsMemory(), [count, .. _outputAxes]);
        using var runOptions = new RunOptions();
        using (cancellationToken.Register(() => runOptions.Terminate = true))
        {
            try
            {
                _session.Run(runOptions, _inputNames, [inputValue], _outputNames, [outputValue]);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("scoring was cancelled", cancellationToken);
            }
        }
        return output;
    }

    private ScanScore ToScore(float output)
    {
        // A logit may be any finite number; a probability must lie in [0, 1]. Anything else is a broken model.
        bool valid = Manifest.Output.Kind == OutputKind.Logit ? float.IsFinite(output) : output is >= 0 and <= 1;
        if (!valid)
            throw new InvalidModelOutputException(
                $"model {Manifest.Version} returned {output.ToString(System.Globalization.CultureInfo.InvariantCulture)} for its {Manifest.Output.Kind} output '{Manifest.Output.Name}'; " +
                (Manifest.Output.Kind == OutputKind.Logit ? "a logit must be finite" : "a probability must lie in [0, 1]"));
        double probability = Manifest.Output.Kind == OutputKind.Logit ? Sigmoid(output) : output;
        return new ScanScore(probability, ScanLabels.For(probability, Manifest.Threshold));
    }

    /// <summary>1 / (1 + e^−x), written so neither branch overflows.</summary>
    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    private static (long[] VolumeAxes, int MaxBatch) CheckInput(InferenceSession session, ModelManifest manifest)
    {
        var inputs = session.InputMetadata;
        string name = manifest.Input.Name;
        if (!inputs.TryGetValue(name, out var input))
            throw new ModelLoadException($"the manifest's input '{name}' is not in the graph; the graph's inputs are [{string.Join(", ", inputs.Keys)}]");
        if (inputs.Count != 1)
            throw new ModelLoadException($"the graph has {inputs.Count} inputs [{string.Join(", ", inputs.Keys)}]; the scorer feeds exactly one ('{name}')");
        if (!input.IsTensor || input.ElementDataType != TensorElementType.Float)
            throw new ModelLoadException($"input '{name}' is {input.ElementDataType}; expected a float32 tensor");

        var volume = manifest.InputVolume;
        long[] axes = manifest.Input.Layout == TensorLayout.Ncdhw
            ? [1, volume.Width, volume.Height, volume.Depth]
            : [volume.Width, volume.Height, volume.Depth, 1];
        int[] dims = input.Dimensions;
        bool matches = dims.Length == axes.Length + 1 && dims[0] != 0
                       && axes.Select((size, i) => dims[i + 1] == size || dims[i + 1] < 0).All(ok => ok);
        if (!matches)
            throw new ModelLoadException(
                $"input '{name}' has shape [{FormatDims(dims)}]; the manifest ({ContractNames.Of(manifest.Input.Layout)}, {volume}) needs [N, {string.Join(", ", axes)}]");
        return (axes, dims[0] > 0 ? dims[0] : int.MaxValue);
    }

    private static long[] CheckOutput(InferenceSession session, ModelManifest manifest)
    {
        var outputs = session.OutputMetadata;
        string name = manifest.Output.Name;
        if (!outputs.TryGetValue(name, out var output))
            throw new ModelLoadException($"the manifest's output '{name}' is not in the graph; the graph's outputs are [{string.Join(", ", outputs.Keys)}]");
        if (!output.IsTensor || output.ElementDataType != TensorElementType.Float)
            throw new ModelLoadException($"output '{name}' is {output.ElementDataType}; expected a float32 tensor");
        int[] dims = output.Dimensions;
        if (dims.Length < 1 || dims.Skip(1).Any(d => d is not (1 or -1)))
            throw new ModelLoadException($"output '{name}' has shape [{FormatDims(dims)}]; expected one value per scan, [N] or [N, 1]");
        return [.. dims.Skip(1).Select(_ => 1L)];
    }

    private static string FormatDims(int[] dims) => string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString()));

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _session.Dispose();
    }
}
