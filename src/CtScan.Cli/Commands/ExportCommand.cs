using System.CommandLine;
using System.Text.Json.Nodes;
using CtScan.Contracts;
using CtScan.Scoring;
using CtScan.Training;
using CtScan.Training.Onnx;
using static TorchSharp.torch;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan export CHECKPOINT_DIR --out DIR</c>: a trained checkpoint (weights.dat + model.json) as a model folder
/// (model.onnx with BatchNorm folded + manifest.json), then checked: ONNX Runtime and TorchSharp score one seeded
/// random scan, and a difference above 1e-4 fails the export.
/// </summary>
internal static class ExportCommand
{
    public const double ParityTolerance = 1e-4;

    public static Command Create()
    {
        var checkpoint = new Argument<DirectoryInfo>("checkpoint") { Description = "A checkpoint folder (weights.dat + model.json) written by training" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write model.onnx and manifest.json into", Required = true };
        var version = new Option<string?>("--version") { Description = "Model version (default: UTC time and short hash, e.g. 20261129-0130-3fa2c1)" };
        var threshold = new Option<double>("--threshold") { Description = "Probability at or above which a scan is labelled abnormal", DefaultValueFactory = _ => ModelManifest.DefaultThreshold };
        var command = new Command("export", "Export a trained checkpoint as an ONNX model folder (model.onnx + manifest.json)") { checkpoint, output, version, threshold };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, ct) =>
        {
            string source = parse.GetRequiredValue(checkpoint).FullName;
            string target = parse.GetRequiredValue(output).FullName;
            using var model = ModelCheckpoint.Load(source);
            // The run's metrics.json and split.json beside the checkpoint, when present, give the manifest its
            // trainingMetrics (valAuc is what the registry's gate reads) and dataFingerprint.
            var (metrics, fingerprint) = TrainingRunMetadata.ForCheckpoint(source);
            var manifest = ModelExport.ToFolder(model, target, new ModelExportOptions
            {
                Version = parse.GetValue(version),
                Threshold = parse.GetValue(threshold),
                TrainingMetrics = metrics,
                DataFingerprint = fingerprint,
                // The training scans' orientation (split.json), so serving reorients scans to it.
                Orientation = TrainingRunMetadata.OrientationForCheckpoint(source),
            });
            double difference = ParityCheck(model, target, ct);
            stdout.WriteLine(new JsonObject
            {
                ["folder"] = target,
                ["version"] = manifest.Version,
                ["sha256"] = manifest.Sha256,
                ["input"] = $"{manifest.Input.Name} {ContractNames.Of(manifest.Input.Layout)} [N, 1, {string.Join(", ", manifest.Input.Shape)}]",
                ["output"] = $"{manifest.Output.Name} ({ContractNames.Of(manifest.Output.Kind)})",
                ["threshold"] = manifest.Threshold,
                ["valAuc"] = manifest.TrainingMetrics is { } m && m.TryGetValue(TrainingRunMetadata.ValAuc, out var auc) ? (double?)auc : null,
                ["dataFingerprint"] = manifest.DataFingerprint,
                ["orientation"] = manifest.Preprocessing.Orientation,
                ["parityMaxAbsDifference"] = difference,
            }.ToJsonString(CliJson.Indented));
            if (difference > ParityTolerance)
                throw new ModelLoadException($"the exported model differs from the checkpoint by {difference:E2} (> {ParityTolerance:E0}); do not serve it");
            return Task.CompletedTask;
        }, cancellationToken));
        return command;
    }

    /// <summary>|ONNX Runtime − TorchSharp| on one seeded random scan, through the folder exactly as it will be served.</summary>
    private static double ParityCheck(CtScanNet model, string folder, CancellationToken ct)
    {
        var shape = model.Options.Input;
        var random = new Random(20261129);
        var scan = new float[shape.VoxelCount];
        for (int n = 0; n < scan.Length; n++) scan[n] = random.NextSingle();
        using var scorer = OnnxScorer.Open(folder);
        double onnx = scorer.Score(scan, ct).ProbabilityAbnormal;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double torch = model.call(tensor(scan, [1, 1, shape.Width, shape.Height, shape.Depth])).item<float>();
        return Math.Abs(onnx - torch);
    }
}
