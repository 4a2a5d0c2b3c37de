using System.CommandLine;
using System.Diagnostics;
using CtScan.Quantization;
using CtScan.Scoring;
using CtScan.Tensors;
using CtScan.Training;
using CtScan.Training.Onnx;
using static TorchSharp.torch;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan bench model</c>: one-scan inference of the same weights with ONNX Runtime (exported, BatchNorm folded)
/// and with TorchSharp's eval forward, on the same number of threads, in one process; milliseconds and GFLOP/s
/// (FLOPs counted from the layer shapes, see <see cref="ModelFlops"/>); then the same model quantized to int8
/// (<see cref="ModelQuantizer"/>, calibrated on a few random scans) beside the float32 line.
/// </summary>
internal static class BenchModelCommand
{
    /// <summary>The target: ONNX Runtime at most half of TorchSharp's time.</summary>
    public const double TargetRatio = 0.5;

    /// <summary>The int8 target: at most half of the float32 ONNX Runtime time.</summary>
    public const double QuantizedTargetRatio = 0.5;

    private const int CalibrationScans = 2;

    public static Command Create()
    {
        var runs = new Option<int>("--runs") { Description = "Timed runs per engine (after one warm-up)", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads for both engines", DefaultValueFactory = _ => 2 };
        var width = new Option<double>("--width") { Description = "Width multiplier (default 1, the seed)", DefaultValueFactory = _ => 1.0 };
        var input = new ShapeOption("--input", "Model input volume", VolumeShape.SeedTarget);
        var keepFloat = new Option<string[]>("--keep-float") { Description = "Conv nodes the int8 model keeps float32 (e.g. block3.conv)", AllowMultipleArgumentsPerToken = true };
        var keep = new Option<DirectoryInfo?>("--keep") { Description = "Keep the float32 and int8 model folders in this folder (fp32/, int8/) instead of deleting them" };
        var command = new Command("model", "Benchmark one-scan inference: ONNX Runtime vs TorchSharp, ms and GFLOP/s") { runs, threads, width, input.Option, keepFloat, keep };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
        {
            var options = new ModelOptions { Input = input.GetValue(parse), WidthMultiplier = parse.GetValue(width) }.Validated();
            int count = Math.Max(1, parse.GetValue(runs));
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1) throw new ArgumentOutOfRangeException(nameof(threads), threadCount, $"--threads must be at least 1; got {threadCount}");
            var layers = new QdqQuantizerOptions { KeepFloat = (parse.GetValue(keepFloat) ?? []).ToHashSet() };
            Run(stdout, options, count, threadCount, layers, parse.GetValue(keep)?.FullName, ct);
            return Task.CompletedTask;
        }, cancellationToken));
        return command;
    }

    private static void Run(TextWriter stdout, ModelOptions options, int runs, int threads, QdqQuantizerOptions layers, string? keep, CancellationToken ct)
    {
        using var model = new CtScanNet(options);
        KerasInitializer.Apply(model, seed: 1);
        model.eval();
        var scan = new float[options.Input.VoxelCount];
        var random = new Random(1);
        for (int n = 0; n < scan.Length; n++) scan[n] = random.NextSingle();
        var flops = ModelFlops.Of(options);

        var folder = keep is null ? Directory.CreateTempSubdirectory("ctscan-bench-model-") : Directory.CreateDirectory(keep);
        string fp32Folder = Path.Combine(folder.FullName, "fp32");
        try
        {
            ModelExport.ToFolder(model, fp32Folder);
            using var scorer = OnnxScorer.Open(fp32Folder, new OnnxScorerOptions { IntraOpThreads = threads });
            var onnx = Measure(runs, ct, () => scorer.Score(scan, ct));

            var quantizedFolder = Path.Combine(folder.FullName, "int8");
            var calibration = new List<string>();
            for (int c = 0; c < CalibrationScans; c++)
            {
                var calibrationScan = new float[scan.Length];
                for (int n = 0; n < calibrationScan.Length; n++) calibrationScan[n] = random.NextSingle();
                string path = Path.Combine(folder.FullName, $"calibration-{c}.npy");
                using (var file = File.Create(path)) NpyFile.Write(file, calibrationScan, [options.Input.Width, options.Input.Height, options.Input.Depth]);
                calibration.Add(path);
            }
            var report = ModelQuantizer.Quantize(fp32Folder, quantizedFolder, calibration, new ModelQuantizerOptions { IntraOpThreads = threads, Layers = layers }, ct);
            Timing int8;
            double probabilityDifference;
            using (var quantized = OnnxScorer.Open(quantizedFolder, new OnnxScorerOptions { IntraOpThreads = threads }))
            {
                int8 = Measure(runs, ct, () => quantized.Score(scan, ct));
                probabilityDifference = Math.Abs(quantized.Score(scan, ct).ProbabilityAbnormal - scorer.Score(scan, ct).ProbabilityAbnormal);
            }

            set_num_threads(threads);
            using var input = tensor(scan, [1, 1, options.Input.Width, options.Input.Height, options.Input.Depth]);
            var torch = Measure(runs, ct, () =>
            {
                using var noGrad = no_grad();
                model.call(input).Dispose();
            });

            stdout.WriteLine($"model: input {options.Input}, width {options.WidthMultiplier}, {flops.Flops / 1e9:F2} GFLOP per scan " +
                             $"(conv MACs {string.Join(" + ", flops.ConvMacs.Select(m => $"{m / 1e9:F3}G"))}); {threads} threads; {runs} runs; " +
                             $"{Environment.ProcessorCount} cores visible");
            stdout.WriteLine($"{"engine",-24} {"median ms",10} {"min ms",8} {"GFLOP/s",8}");
            Print(stdout, "ONNX Runtime (folded)", onnx, flops);
            Print(stdout, "ONNX Runtime int8 (QDQ)", int8, flops);
            Print(stdout, "TorchSharp eval", torch, flops);
            double ratio = onnx.Median / torch.Median;
            stdout.WriteLine($"ONNX Runtime / TorchSharp = {ratio:F2} (target ≤ {TargetRatio} → {(ratio <= TargetRatio ? "met" : "NOT met")})");
            double int8Ratio = int8.Median / onnx.Median;
            stdout.WriteLine($"int8 / float32 (ONNX Runtime) = {int8Ratio:F2} (target ≤ {QuantizedTargetRatio} → {(int8Ratio <= QuantizedTargetRatio ? "met" : "NOT met")}); " +
                             $"|Δp| on the timed scan {probabilityDifference:F4}; int8 layers [{string.Join(", ", report.QuantizedConvs)}], float [{string.Join(", ", report.KeptFloat)}] " +
                             "and the first conv (1 input channel: slower in int8)");
        }
        finally
        {
            if (keep is null) folder.Delete(recursive: true);
        }
    }

    private readonly record struct Timing(double Median, double Min);

    private static Timing Measure(int runs, CancellationToken ct, Action action)
    {
        action(); // warm-up: session/graph initialisation, JIT, allocator
        var times = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            ct.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            action();
            times[r] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return new Timing(times[runs / 2], times[0]);
    }

    private static void Print(TextWriter stdout, string engine, Timing t, ModelFlops flops) =>
        stdout.WriteLine($"{engine,-24} {t.Median,10:F1} {t.Min,8:F1} {flops.Flops / (t.Median / 1000) / 1e9,8:F1}");
}
