using System.CommandLine;
using CtScan.Cli.Evaluation;
using CtScan.Cli.Progress;
using CtScan.Scoring;
using CtScan.Training;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan evaluate DATA --model DIR</c>: scores every scan of a labelled folder (the training layout: CT-0/ and
/// CT-23/, or labels.csv) with ONNX Runtime, as the pipeline would, and prints accuracy, AUC, sensitivity,
/// specificity and the confusion matrix at the model's threshold; <c>--roc</c> writes the ROC curve as a PNG,
/// <c>--json</c> everything (with each scan's probability) as JSON.
/// </summary>
/// <remarks>Exit codes (docs/cli-errors.md): 0 evaluated; 2 (bad input) when the folder or a scan is unusable; 3 when the model folder is.</remarks>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var data = new Argument<DirectoryInfo>("DATA") { Description = $"Labelled scans: {ScanCatalog.NormalFolder}/ (normal) and {ScanCatalog.AbnormalFolder}/ (abnormal) subfolders of *.nii[.gz], or a {ScanCatalog.LabelsFileName} (scan,label)" };
        var model = new Option<DirectoryInfo>("--model")
        {
            Description = "A model folder (model.onnx + manifest.json); default: the bundled demo model (trained on phantoms, not for clinical use)",
            DefaultValueFactory = _ => new DirectoryInfo(DemoModel.Directory),
        };
        var roc = new Option<FileInfo?>("--roc") { Description = "Write the ROC curve to this PNG" };
        var json = new Option<FileInfo?>("--json") { Description = "Write the figures, the ROC points and every scan's probability to this JSON file" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core)", DefaultValueFactory = _ => 0 };
        var command = new Command("evaluate", "Score a labelled folder with a model and print accuracy, AUC, sensitivity, specificity and the confusion matrix")
        {
            data, model, roc, json, threads,
        };
        var budget = new WorkBudgetOptions();
        budget.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            var folder = parse.GetRequiredValue(data).FullName;
            var scans = ScanCatalog.Discover(folder);
            using var scorer = OnnxScorer.Open(parse.GetRequiredValue(model).FullName, new OnnxScorerOptions { IntraOpThreads = parse.GetValue(threads) });
            // Progress goes to stderr so that stdout is the report alone.
            using var bar = ProgressDisplay.Create(parse.InvocationConfiguration.Error).Start("scoring", scans.Count);
            var result = await LabelledSetEvaluation.RunAsync(new FileScorer(scorer, budget: budget.Budget(parse), readOptions: budget.ReadOptions(parse)),
                folder, scans, done => bar.Report(done), ct);
            bar.Complete();
            stdout.WriteLine(EvaluationReport.ToText(result));
            if (parse.GetValue(roc) is { } rocFile)
            {
                if (result.Roc is null)
                    throw new ArgumentException($"--roc {rocFile.FullName}: no ROC curve without both normal and abnormal scans in {folder}");
                RocPlot.Write(rocFile.FullName, result.Roc, $"ROC: {result.Model.Version} on {result.Metrics.Count} scans");
                stdout.WriteLine($"ROC curve: {rocFile.FullName}");
            }
            if (parse.GetValue(json) is { } jsonFile)
            {
                await File.WriteAllTextAsync(jsonFile.FullName, EvaluationReport.ToJson(result).ToJsonString(CliJson.Indented) + Environment.NewLine, ct);
                stdout.WriteLine($"JSON: {jsonFile.FullName}");
            }
        }, cancellationToken));
        return command;
    }
}
