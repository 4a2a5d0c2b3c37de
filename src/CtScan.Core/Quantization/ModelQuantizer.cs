using System.Text;
using CtScan.Contracts;
using CtScan.Onnx;
using CtScan.Scoring;
using CtScan.Tensors;

namespace CtScan.Quantization;

/// <summary>Settings of <see cref="ModelQuantizer"/>.</summary>
public sealed record ModelQuantizerOptions
{
    /// <summary>The quantized model's version; null: the source's version with "-int8" appended.</summary>
    public string? Version { get; init; }

    /// <summary>At most this many calibration tensors are used (the first in name order); 0: all.</summary>
    public int MaxCalibrationTensors { get; init; }

    /// <summary>Which convs are quantized.</summary>
    public QdqQuantizerOptions Layers { get; init; } = new();

    /// <summary>
    /// Convs are kept float (the most harmful first) until the largest |Δlogit| against float32 on the calibration
    /// scans is at most this; ≤ 0 turns the search off (every eligible conv int8). 0.1 is |Δp| ≤ 0.025 near p = 0.5.
    /// </summary>
    public double MaxLogitError { get; init; } = DefaultMaxLogitError;

    public const double DefaultMaxLogitError = 0.1;

    /// <summary>Activation ranges reach this percentile of each calibration scan's values (100: the maximum).</summary>
    public double Percentile { get; init; } = DefaultPercentile;

    public const double DefaultPercentile = 99.99;

    /// <summary>ONNX Runtime threads for calibration; 0: one per core.</summary>
    public int IntraOpThreads { get; init; }
}

/// <summary>What <see cref="ModelQuantizer.Quantize"/> wrote.</summary>
public sealed record QuantizationReport(ModelManifest Manifest, IReadOnlyList<string> QuantizedConvs, IReadOnlySet<string> KeptFloat,
    double MaxLogitError, long SourceBytes, long QuantizedBytes);

/// <summary>
/// <c>ctscan model quantize</c>: reads a float32 model folder, calibrates activation ranges on preprocessed tensors
/// (.npy, the model's input shape), writes the QDQ int8 model (<see cref="QdqQuantizer"/>) into a new folder with a
/// manifest that records the precision, the source model and the calibration data's fingerprint.
/// </summary>
public static class ModelQuantizer
{
    public const string Method = "static QDQ: int8 weights per output channel (symmetric), uint8 activations per tensor";
    public static string RangeMethod(double percentile) =>
        percentile >= 100 ? "min/max" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"percentile {percentile} (per scan, largest over scans)");

    public static QuantizationReport Quantize(string sourceDirectory, string outputDirectory, IReadOnlyList<string> calibrationTensors,
        ModelQuantizerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ModelQuantizerOptions();
        var source = ModelFolder.ReadManifest(sourceDirectory);
        if (source.Precision == ModelManifest.Int8Precision)
            throw new ModelLoadException($"model folder {sourceDirectory} ({source.Version}) is already int8; quantize its float32 source");
        if (Path.GetFullPath(sourceDirectory).TrimEnd('/') == Path.GetFullPath(outputDirectory).TrimEnd('/'))
            throw new ArgumentException($"--out {outputDirectory} is the source folder; write the quantized model elsewhere");
        string modelPath = Path.Combine(sourceDirectory, source.ModelFile);
        if (!File.Exists(modelPath)) throw new ModelLoadException($"model file {modelPath} does not exist");
        byte[] bytes = File.ReadAllBytes(modelPath);
        string sha = Sha256Hex.Of(bytes);
        if (sha != source.Sha256)
            throw new ModelLoadException($"model file {modelPath} has SHA-256 {sha}; the manifest (version {source.Version}) says {source.Sha256}");
        OnnxModel model;
        try
        {
            model = OnnxReader.Read(bytes);
        }
        catch (Exception error) when (error is InvalidDataException or NotSupportedException)
        {
            throw new ModelLoadException($"{modelPath}: {error.Message}", error);
        }

        var files = calibrationTensors.OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (options.MaxCalibrationTensors > 0) files = files.Take(options.MaxCalibrationTensors).ToList();
        if (files.Count == 0) throw new ArgumentException("no calibration tensors (.npy) given", nameof(calibrationTensors));

        var volume = source.InputVolume;
        long[] shape = source.Input.Layout == TensorLayout.Ncdhw
            ? [1, 1, volume.Width, volume.Height, volume.Depth]
            : [1, volume.Width, volume.Height, volume.Depth, 1];
        model = CrossLayerEqualization.Apply(model);
        var tensors = QdqQuantizer.TensorsToCalibrate(model, options.Layers);
        var hashes = new List<string>(files.Count);
        var scans = new List<float[]>(files.Count);
        IReadOnlySet<string> keptFloat;
        double logitError;
        using (var calibrator = new ActivationCalibrator(model, tensors, shape, options.IntraOpThreads, options.Percentile))
        {
            foreach (string file in files)
            {
                byte[] content = File.ReadAllBytes(file);
                hashes.Add(Sha256Hex.Of(content));
                Float32Tensor tensor;
                try
                {
                    tensor = NpyFile.Read(new MemoryStream(content));
                }
                catch (NpyFormatException error)
                {
                    throw new InvalidDataException($"calibration tensor {file}: {error.Message}", error);
                }
                if (tensor.Data.LongLength != volume.VoxelCount)
                    throw new InvalidDataException(
                        $"calibration tensor {file} has shape [{string.Join(", ", tensor.Shape)}]; the model {source.Version} takes {volume} ({volume.VoxelCount} values): preprocess with the model's settings");
                calibrator.Observe(tensor.Data, cancellationToken);
                scans.Add(tensor.Data);
            }
            var equalized = model;
            OnnxModel Quantized(QdqQuantizerOptions layers) => QdqQuantizer.Quantize(equalized, calibrator.Ranges, layers, calibrator.ChannelMeans);
            if (options.MaxLogitError > 0)
            {
                var selection = new LayerSelection(model, scans, shape, source.Output.Kind == OutputKind.Sigmoid, options.IntraOpThreads);
                (model, keptFloat, logitError) = selection.Select(Quantized, options.Layers, options.MaxLogitError, cancellationToken);
            }
            else
            {
                (model, keptFloat, logitError) = (Quantized(options.Layers), options.Layers.KeepFloat, double.NaN);
            }
        }

        hashes.Sort(StringComparer.Ordinal);
        string fingerprint = Sha256Hex.Of(Encoding.UTF8.GetBytes(string.Concat(hashes.Select(h => h + "\n"))));
        model = model with
        {
            Metadata = new Dictionary<string, string>(model.Metadata) { ["precision"] = ModelManifest.Int8Precision, ["calibrationFingerprint"] = fingerprint },
        };
        byte[] quantized = OnnxWriter.ToBytes(model);
        var convs = model.Graph.Nodes.Where(n => n.OpType == "Conv" && n.Inputs[1].EndsWith("_dq", StringComparison.Ordinal)).Select(n => n.Name).ToList();
        var manifest = source with
        {
            Version = options.Version ?? source.Version + "-int8",
            Precision = ModelManifest.Int8Precision,
            Quantization = new QuantizationSpec(Method, source.Version, source.Sha256, fingerprint, files.Count, RangeMethod(options.Percentile), convs),
            Created = DateTimeOffset.UtcNow,
        };
        var written = ModelFolder.Write(outputDirectory, quantized, manifest);
        return new QuantizationReport(written, convs, keptFloat, logitError, bytes.Length, quantized.Length);
    }
}
