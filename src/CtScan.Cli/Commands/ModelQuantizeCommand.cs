using System.CommandLine;
using System.Globalization;
using CtScan.Cli.Evaluation;
using CtScan.Contracts;
using CtScan.Quantization;
using CtScan.Scoring;
using CtScan.Tensors;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan model quantize DIR --out DIR2 --calibration TENSORS…</c>: writes an int8 copy of a float32 model folder,
/// activation ranges calibrated on preprocessed tensors (.npy files, or folders of them), see <see cref="ModelQuantizer"/>.
/// </summary>
internal static class ModelQuantizeCommand
{
    public static Command Create()
    {
        var source = new Argument<DirectoryInfo>("model") { Description = "A float32 model folder (model.onnx + manifest.json)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write the int8 model.onnx and manifest.json into", Required = true };
        var calibration = new Option<string[]>("--calibration")
        {
            Description = "Preprocessed tensors (.npy, the model's input shape) or folders of them, as `ctscan preprocess` and the pipeline's tensor cache write them",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var limit = new Option<int>("--max-tensors") { Description = "Use at most this many calibration tensors (the first by path); 0: all", DefaultValueFactory = _ => 0 };
        var version = new Option<string?>("--version") { Description = "The quantized model's version (default: the source's with -int8 appended)" };
        var keepFloat = new Option<string[]>("--keep-float") { Description = "Conv node names that stay float32 (e.g. block3.conv)", AllowMultipleArgumentsPerToken = true };
        var tolerance = new Option<double>("--max-logit-error")
        {
            Description = "Keep convs float (most harmful first) until the largest |Δlogit| vs float32 on the calibration tensors is at most this; 0: quantize every eligible conv",
            DefaultValueFactory = _ => ModelQuantizerOptions.DefaultMaxLogitError,
        };
        var percentile = new Option<double>("--percentile")
        {
            Description = "Activation ranges reach this percentile of each calibration tensor's values (100: min/max)",
            DefaultValueFactory = _ => ModelQuantizerOptions.DefaultPercentile,
        };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads for calibration (0: one per core)", DefaultValueFactory = _ => 0 };
        var validation = new Option<DirectoryInfo?>("--validation")
        {
            Description = "Labelled scans (normal/ and abnormal/, or labels.csv, as `ctscan evaluate` reads them): score them with both models " +
                          "and keep the int8 copy only if its AUC there is not lower than the float32 model's and its labels agree for at least 99 % of them",
        };
        var command = new Command("quantize", "Write an int8 (static, per-channel) copy of a model folder, calibrated on preprocessed tensors")
        {
            source, output, calibration, limit, version, keepFloat, tolerance, percentile, threads, validation,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var files = CalibrationFiles(parse.GetRequiredValue(calibration));
            var report = ModelQuantizer.Quantize(parse.GetRequiredValue(source).FullName, parse.GetRequiredValue(output).FullName, files, new ModelQuantizerOptions
            {
                MaxCalibrationTensors = parse.GetValue(limit),
                Version = parse.GetValue(version),
                IntraOpThreads = parse.GetValue(threads),
                Layers = new QdqQuantizerOptions { KeepFloat = (parse.GetValue(keepFloat) ?? []).ToHashSet() },
                MaxLogitError = parse.GetValue(tolerance),
                Percentile = parse.GetValue(percentile),
            }, ct);
            stdout.WriteLine($"quantized {report.Manifest.Quantization!.SourceVersion} → {report.Manifest.Version}: int8 [{string.Join(", ", report.QuantizedConvs)}], " +
                             $"kept float [{string.Join(", ", report.KeptFloat)}], max |Δlogit| on the calibration tensors {(double.IsNaN(report.MaxLogitError) ? "not measured (--max-logit-error 0)" : report.MaxLogitError.ToString("F3", CultureInfo.InvariantCulture))}, " +
                             $"{report.SourceBytes / 1024.0:F0} KiB → {report.QuantizedBytes / 1024.0:F0} KiB, calibrated on {report.Manifest.Quantization.CalibrationTensors} tensor(s) " +
                             $"(fingerprint {report.Manifest.Quantization.CalibrationFingerprint[..12]})");
            if (parse.GetValue(validation) is { } data)
                await CheckOnLabelledScansAsync(stdout, parse.GetRequiredValue(source).FullName, parse.GetRequiredValue(output).FullName, data.FullName, parse.GetValue(threads), ct);
            stdout.WriteLine(ContractsJson.Serialize(report.Manifest));
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// Scores <paramref name="data"/> with both models; an int8 copy whose AUC is lower, or whose labels differ for more than 1 % of the scans, is removed (its model.onnx and
    /// manifest.json), so what is left in the folder can be published with the float32 model's valAuc honestly.
    /// </summary>
    private static async Task CheckOnLabelledScansAsync(TextWriter stdout, string float32Folder, string int8Folder, string data, int threads, CancellationToken ct)
    {
        var outcome = await QuantizedModelCheck.RunAsync(float32Folder, int8Folder, data, threads, ct);
        stdout.WriteLine(outcome.Summary);
        if (outcome.Passed) return;
        // The manifest first: a folder with a manifest always has its model (ModelFolder.Write's order, reversed).
        File.Delete(Path.Combine(int8Folder, ModelFolder.ManifestFileName));
        File.Delete(Path.Combine(int8Folder, ModelManifest.DefaultModelFile));
        throw new InvalidDataException($"the int8 copy ranks worse than {float32Folder} on {data}: {outcome.Failure}; it was removed from {int8Folder}. " +
                                       "Keep more layers float (a lower --max-logit-error, or --keep-float) or calibrate on more tensors");
    }

    /// <summary>The .npy files named, folders expanded (not recursively); a path that is neither is an error naming it.</summary>
    internal static List<string> CalibrationFiles(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (Directory.Exists(path)) files.AddRange(Directory.EnumerateFiles(path, "*" + TensorNames.Extension));
            else if (File.Exists(path)) files.Add(path);
            else throw new FileNotFoundException($"calibration tensor {path} does not exist", path);
        }
        if (files.Count == 0)
            throw new ArgumentException($"no {TensorNames.Extension} calibration tensors in [{string.Join(", ", paths)}]");
        return files;
    }
}
