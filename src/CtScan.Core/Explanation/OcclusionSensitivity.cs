using System.Diagnostics;
using CtScan.Contracts;
using CtScan.Scoring;
using Microsoft.ML.OnnxRuntime;

namespace CtScan.Explanation;

/// <summary>
/// Occlusion sensitivity through ONNX Runtime, for any model folder (exported here or imported): the scan's model
/// input is evaluated again with one patch at a time set to <see cref="OcclusionOptions.FillValue"/>, in batches; a
/// patch's score is how much the model's evidence drops, and the map is those drops interpolated from the patch
/// centres to every voxel (trilinear), clipped at 0 and scaled to [0, 1].
/// </summary>
/// <remarks>
/// The drop is measured on the logit when the graph ends in a Sigmoid (<see cref="OnnxLogitGraph"/>: a confident
/// model's float32 probability is exactly 1 and hiding one of several lesions would change nothing), on the model's
/// own output for <c>kind: logit</c> models, and on the probability otherwise. The session is built from the bytes
/// whose SHA-256 matched the manifest, like <see cref="OnnxScorer"/>'s. <c>Run</c> is thread-safe; keep one instance
/// per model version.
/// </remarks>
public sealed class OcclusionSensitivity : ISaliencyMethod
{
    private readonly InferenceSession _session;
    private readonly OcclusionOptions _options;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly long[] _volumeAxes;
    private readonly bool _outputIsLogit;

    private OcclusionSensitivity(InferenceSession session, ModelManifest manifest, OcclusionOptions options, string output, bool outputIsLogit)
    {
        _session = session;
        _options = options;
        Manifest = manifest;
        _inputNames = [manifest.Input.Name];
        _outputNames = [output];
        _outputIsLogit = outputIsLogit;
        var volume = manifest.InputVolume;
        _volumeAxes = manifest.Input.Layout == TensorLayout.Ncdhw ? [1, volume.Width, volume.Height, volume.Depth] : [volume.Width, volume.Height, volume.Depth, 1];
    }

    public ModelManifest Manifest { get; }

    /// <summary>What the drop is measured on: <c>logit</c> or <c>probability</c>.</summary>
    public string Score => _outputIsLogit ? "logit" : "probability";

    /// <summary>Loads the model in <paramref name="modelDirectory"/> (model.onnx + manifest.json).</summary>
    /// <exception cref="ModelLoadException">The manifest is missing or invalid, the hash differs, or ONNX Runtime refuses the graph.</exception>
    public static OcclusionSensitivity Open(string modelDirectory, OcclusionOptions? options = null, OnnxScorerOptions? sessionOptions = null)
    {
        var manifest = ModelFolder.ReadManifest(modelDirectory);
        string path = Path.Combine(modelDirectory, manifest.ModelFile);
        if (!File.Exists(path)) throw new ModelLoadException($"model file {path} does not exist");
        byte[] model = File.ReadAllBytes(path);
        string actual = Sha256Hex.Of(model);
        if (actual != manifest.Sha256)
            throw new ModelLoadException($"model file {path} has SHA-256 {actual}; the manifest (version {manifest.Version}) says {manifest.Sha256}. Refusing to load it.");

        string output = manifest.Output.Name;
        bool isLogit = manifest.Output.Kind == OutputKind.Logit;
        if (!isLogit)
        {
            try
            {
                if (OnnxLogitGraph.TryExposeLogit(model, output) is { } exposed) (model, output, isLogit) = (exposed.Model, exposed.LogitOutput, true);
            }
            catch (InvalidDataException error)
            {
                throw new ModelLoadException($"{path}: {error.Message}", error);
            }
        }
        using var settings = (sessionOptions ?? new OnnxScorerOptions()).Validated().CreateSessionOptions();
        InferenceSession session;
        try
        {
            session = new InferenceSession(model, settings);
        }
        catch (OnnxRuntimeException error)
        {
            throw new ModelLoadException($"ONNX Runtime cannot load {path}: {error.Message}", error);
        }
        if (!session.InputMetadata.ContainsKey(manifest.Input.Name) || !session.OutputMetadata.ContainsKey(output))
        {
            session.Dispose();
            throw new ModelLoadException($"{path}: the graph lacks the manifest's input '{manifest.Input.Name}' or output '{output}'; inputs [{string.Join(", ", session.InputMetadata.Keys)}]");
        }
        return new OcclusionSensitivity(session, manifest, (options ?? new OcclusionOptions()).Validated(), output, isLogit);
    }

    /// <summary>Explains one preprocessed scan (float32, C order, the manifest's [W, H, D]).</summary>
    public SaliencyVolume Explain(ReadOnlySpan<float> scan, CancellationToken cancellationToken = default)
    {
        var grid = Manifest.InputVolume;
        int voxels = checked((int)grid.VoxelCount);
        if (scan.Length != voxels)
            throw new ArgumentException($"the scan holds {scan.Length} values; model {Manifest.Version} takes {grid} = {voxels}", nameof(scan));
        var input = scan.ToArray();

        // Warm-up, then one timed single-scan inference: the unit the cost is reported in, and the baseline.
        Run(input, 1, cancellationToken);
        var total = Stopwatch.StartNew();
        double baseline = Run(input, 1, cancellationToken)[0];
        double oneInference = total.Elapsed.TotalMilliseconds;

        var patches = PatchGrid.Choose(input, grid, _options.FillValue, _options.MaxPatches);
        var drops = new float[patches.Cells.VoxelCount];
        var batch = new float[(long)Math.Min(_options.BatchSize, Math.Max(1, patches.Occluded.Count)) * voxels];
        int inferences = 1;
        for (int first = 0; first < patches.Occluded.Count; first += _options.BatchSize)
        {
            int count = Math.Min(_options.BatchSize, patches.Occluded.Count - first);
            for (int n = 0; n < count; n++)
            {
                var target = batch.AsSpan(n * voxels, voxels);
                input.CopyTo(target);
                patches.Fill(patches.Occluded[first + n], target, _options.FillValue);
            }
            var scores = Run(batch.AsMemory(0, count * voxels), count, cancellationToken);
            for (int n = 0; n < count; n++) drops[patches.Occluded[first + n]] = (float)Math.Max(0, baseline - scores[n]);
            inferences += count;
        }
        float largestDrop = 0;
        foreach (float drop in drops) largestDrop = Math.Max(largestDrop, drop);
        var map = patches.Upsample(drops);
        Normalise(map);
        var cost = new ExplanationCost(oneInference, total.Elapsed.TotalMilliseconds, inferences, patches.Cells, patches.Skipped);
        double probability = _outputIsLogit ? OnnxScorer.Sigmoid(baseline) : baseline;
        string note = $"occlusion: drop of the model's {Score} when a {patches.PatchSize} patch is set to {_options.FillValue} " +
                      $"({patches.Occluded.Count} patches on a {patches.Cells} grid, {patches.Skipped} already uniform and skipped); " +
                      $"{cost.TotalMs:F0} ms = {cost.Ratio:F1}× one inference ({oneInference:F0} ms)" +
                      (largestDrop > 0 ? $"; largest drop {largestDrop:G3}" : $"; no patch lowered the model's {Score}: the map is 0 everywhere");
        return new SaliencyVolume(map, grid, ExplanationMethods.Occlusion, probability, note, cost);
    }

    /// <summary>Scales <paramref name="map"/> to [0, 1] by its maximum (left at 0 when nothing mattered).</summary>
    internal static void Normalise(Span<float> map)
    {
        float max = 0;
        foreach (float v in map) max = Math.Max(max, v);
        if (max <= 0) return;
        float scale = 1 / max;
        for (int n = 0; n < map.Length; n++) map[n] *= scale;
    }

    private double[] Run(ReadOnlyMemory<float> scans, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var output = new float[count];
        var input = System.Runtime.InteropServices.MemoryMarshal.AsMemory(scans);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input, [count, .. _volumeAxes]);
        using var runOptions = new RunOptions();
        using (cancellationToken.Register(() => runOptions.Terminate = true))
        {
            try
            {
                using var results = _session.Run(runOptions, _inputNames, [inputValue], _outputNames);
                results[0].GetTensorDataAsSpan<float>()[..count].CopyTo(output);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("the explanation was cancelled", cancellationToken);
            }
        }
        var scores = new double[count];
        for (int n = 0; n < count; n++) scores[n] = output[n];
        return scores;
    }

    public void Dispose() => _session.Dispose();
}
