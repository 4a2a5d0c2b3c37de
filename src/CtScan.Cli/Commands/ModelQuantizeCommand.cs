using System.CommandLine;
using CtScan.Contracts;
using CtScan.Quantization;
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
        var command = new Command("quantize", "Write an int8 (static, per-channel) copy of a model folder, calibrated on preprocessed tensors")
        {
            source, output, calibration, limit, version, keepFloat, tolerance, percentile, threads,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
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
                             $"kept float [{string.Join(", ", report.KeptFloat)}], max |Δlogit| on the calibration tensors {report.MaxLogitError:F3}, " +
                             $"{report.SourceBytes / 1024.0:F0} KiB → {report.QuantizedBytes / 1024.0:F0} KiB, calibrated on {report.Manifest.Quantization.CalibrationTensors} tensor(s) " +
                             $"(fingerprint {report.Manifest.Quantization.CalibrationFingerprint[..12]})");
            stdout.WriteLine(ContractsJson.Serialize(report.Manifest));
            return Task.CompletedTask;
        }, cancellationToken));
        return command;
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
