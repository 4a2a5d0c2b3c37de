using System.CommandLine;
using CtScan.Contracts;
using CtScan.Scoring;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan score SCAN --model DIR</c>: scores a NIfTI scan (preprocessed with the model's own parameters) or a
/// preprocessed .npy tensor and prints the result JSON of the contract (schemas/scan-result.schema.json).
/// </summary>
/// <remarks>
/// Exit codes (the whole table: docs/cli-errors.md; the gate's codes: docs/input-gate.md): 0 scored (warnings of the
/// input gate, if any, are in the JSON's "warnings" and on stderr as "warning: code: message" lines); 2 when the scan
/// is rejected by the input gate or unreadable (the result JSON, status "rejected" with error {code, message}, still
/// goes to stdout, so scripts get both a machine-readable reason and a failing status); 3 with a one-line error on
/// stderr and no JSON when the model folder is missing or invalid (no scan was looked at); 1 when scoring failed
/// (status "failed": inference-failed, or invalid-model-output when the model returned NaN or a value outside [0, 1]);
/// 130 when cancelled.
/// </remarks>
internal static class ScoreCommand
{
    public const int Failed = 1;

    public static Command Create()
    {
        var scan = new Argument<FileInfo>("scan") { Description = "A NIfTI scan (.nii, .nii.gz) or a preprocessed tensor (.npy)" };
        var model = new Option<DirectoryInfo>("--model")
        {
            Description = "A model folder (model.onnx + manifest.json); default: the bundled demo model (trained on phantoms, not for clinical use)",
            DefaultValueFactory = _ => new DirectoryInfo(DemoModel.Directory),
        };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core)", DefaultValueFactory = _ => 0 };
        var budget = new WorkBudgetOptions();
        var command = new Command("score", "Score one scan or tensor with an ONNX model and print the result JSON") { scan, model, threads };
        budget.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            ScanResult? result = null;
            int exitCode = await CliErrors.RunAsync(parse, async (stdout, ct) =>
            {
                using var scorer = OnnxScorer.Open(parse.GetRequiredValue(model).FullName, new OnnxScorerOptions { IntraOpThreads = parse.GetValue(threads) });
                var file = parse.GetRequiredValue(scan);
                result = await new FileScorer(scorer, budget: budget.Budget(parse), readOptions: budget.ReadOptions(parse)).ScoreAsync(file.FullName, file.Name, ct);
                stdout.WriteLine(ContractsJson.Serialize(result));
                foreach (var warning in result.Warnings ?? [])
                    parse.InvocationConfiguration.Error.WriteLine($"warning: {warning.Code}: {warning.Message}");
            }, cancellationToken);
            return exitCode != CliErrors.Success ? exitCode : result?.Status switch
            {
                ScanStatus.Rejected => CliErrors.BadInput,
                ScanStatus.Failed => Failed,
                _ => CliErrors.Success,
            };
        });
        return command;
    }
}
