using System.CommandLine;
using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Nifti;
using CtScan.Scoring;
using CtScan.Training.Explanation;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan explain SCAN --model DIR --out DIR [--method occlusion|gradcam|guided-gradcam]</c>: where the model looked. Writes
/// <c>OUT/&lt;scan file&gt;.saliency.nii.gz</c> (the map on the scan's own grid and affine) and
/// <c>OUT/&lt;scan file&gt;.saliency.png</c> (the montage with the map overlaid) and prints the result's
/// <c>explanation</c> JSON; how the map was made and what it cost go to stderr. Exit codes as for <c>score</c>:
/// 2 unreadable or rejected scan, 3 unusable model folder.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var scan = new Argument<FileInfo>("scan") { Description = "A NIfTI scan (.nii, .nii.gz)" };
        var model = new Option<DirectoryInfo>("--model")
        {
            Description = "A model folder (model.onnx + manifest.json); default: the bundled demo model",
            DefaultValueFactory = _ => new DirectoryInfo(DemoModel.Directory),
        };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for <scan>.saliency.nii.gz and <scan>.saliency.png", Required = true };
        var method = new Option<string>("--method")
        {
            Description = "guided-gradcam (default: voxel-resolution Grad-CAM, the map that finds the opacities) or gradcam, both for models trained here, with TorchSharp weights (else occlusion, with a note); or occlusion (any ONNX model)",
            DefaultValueFactory = _ => ExplanationMethods.GuidedGradCam,
        };
        method.AcceptOnlyFromAmong(ExplanationMethods.Occlusion, ExplanationMethods.GradCam, ExplanationMethods.GuidedGradCam);
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core)", DefaultValueFactory = _ => 0 };
        var command = new Command("explain", "Write a saliency map (on the scan's own grid) and an overlay montage: where the model looked")
        {
            scan, model, output, method, threads,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var file = parse.GetRequiredValue(scan);
            var modelDirectory = parse.GetRequiredValue(model).FullName;
            var outDirectory = parse.GetRequiredValue(output).FullName;
            var error = parse.InvocationConfiguration.Error;
            using var saliency = SaliencyMethodFactory.Open(modelDirectory, parse.GetValue(method)!, new OnnxScorerOptions { IntraOpThreads = parse.GetValue(threads) },
                note => error.WriteLine($"note: {note}"));
            var manifest = ModelFolder.ReadManifest(modelDirectory);
            if (!File.Exists(file.FullName)) throw new FileNotFoundException($"{file.FullName}: no such file", file.FullName);
            using var image = NiftiImage.Open(file.FullName);
            var explained = new ScanExplainer(saliency, manifest).Explain(image, ct);

            Directory.CreateDirectory(outDirectory);
            var (mapName, montageName) = ScanExplainer.NamesFor(file.Name);
            await using (var map = File.Create(Path.Combine(outDirectory, mapName)))
                ScanExplainer.WriteMap(map, explained, image.Header);
            await using (var montage = File.Create(Path.Combine(outDirectory, montageName)))
                ScanExplainer.WriteMontage(montage, explained);

            var explanation = new ScanExplanation(explained.Saliency.Method, mapName, montageName);
            stdout.WriteLine(new System.Text.Json.Nodes.JsonObject
            {
                ["method"] = explanation.Method,
                ["map"] = explanation.Map,
                ["montage"] = explanation.Montage,
            }.ToJsonString(CliJson.Indented));
            error.WriteLine($"probability {explained.Saliency.ProbabilityAbnormal:F4}; {explained.Saliency.Note}");
        }, cancellationToken));
        return command;
    }
}
