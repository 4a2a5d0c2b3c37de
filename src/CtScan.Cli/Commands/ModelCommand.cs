using System.CommandLine;
using System.Text.Json.Nodes;
using CtScan.Contracts;
using CtScan.Scoring;
using CtScan.Training;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan model …</c>: the seed's 3-D CNN. <c>summary</c> prints its layer table like Keras's model.summary();
/// <c>import</c> makes a model folder from an ONNX file trained elsewhere; <c>quantize</c> an int8 copy of one.
/// </summary>
internal static class ModelCommand
{
    public static Command Create() => new("model", "The seed's 3-D CNN: inspect it; import ONNX models trained elsewhere")
    {
        CreateSummary(),
        CreateImport(),
        ModelQuantizeCommand.Create(),
        ModelRegistryCommands.CreatePublish(),
        ModelRegistryCommands.CreatePromote(),
        ModelRegistryCommands.CreateRollback(),
        ModelRegistryCommands.CreateList(),
    };

    private static Command CreateImport()
    {
        var file = new Argument<FileInfo>("file") { Description = "An ONNX model with one float32 input [N,1,W,H,D] or [N,W,H,D,1] and one output [N,1]" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write model.onnx and manifest.json into", Required = true };
        var layout = new Option<string>("--layout") { Description = "Input axis order: NCDHW (channels first) or NDHWC (channels last)", DefaultValueFactory = _ => "NCDHW" };
        layout.AcceptOnlyFromAmong("NCDHW", "NDHWC");
        var kind = new Option<string>("--output-kind") { Description = "What the output holds: sigmoid (a probability) or logit", DefaultValueFactory = _ => "sigmoid" };
        kind.AcceptOnlyFromAmong("sigmoid", "logit");
        var threshold = new Option<double>("--threshold") { Description = "Probability at or above which a scan is labelled abnormal", DefaultValueFactory = _ => ModelManifest.DefaultThreshold };
        var version = new Option<string?>("--version") { Description = "Model version (default: UTC time and short hash)" };
        var command = new Command("import", "Make a model folder (model.onnx + manifest.json) from an ONNX file trained elsewhere")
        {
            file, output, layout, kind, threshold, version,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, _) =>
        {
            var manifest = ModelImporter.Import(parse.GetRequiredValue(file).FullName, parse.GetRequiredValue(output).FullName, new ModelImportOptions
            {
                Layout = ContractNames.ParseLayout(parse.GetRequiredValue(layout)),
                OutputKind = ContractNames.ParseOutputKind(parse.GetRequiredValue(kind)),
                Threshold = parse.GetValue(threshold),
                Version = parse.GetValue(version),
            });
            stdout.WriteLine(ContractsJson.Serialize(manifest));
            return Task.CompletedTask;
        }, cancellationToken));
        return command;
    }

    private static Command CreateSummary()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of the Keras-style table" };
        var width = new Option<double>("--width")
        {
            Description = "Width multiplier on every layer's channel count (default 1, the seed)",
            DefaultValueFactory = _ => 1.0,
        };
        var input = new ShapeOption("--input", $"Input volume, each extent at least {ModelOptions.MinimumInputExtent}", VolumeShape.SeedTarget);
        var command = new Command("summary", "Print the model's layers, output shapes and parameter counts") { json, width, input.Option };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, (stdout, _) =>
        {
            var options = new ModelOptions
            {
                Input = input.GetValue(parse),
                WidthMultiplier = parse.GetValue(width),
            };
            var summary = ModelSummary.Describe(options);
            stdout.WriteLine(parse.GetValue(json) ? Describe(summary, options).ToJsonString(CliJson.Indented) : ModelSummaryText.Render(summary));
            return Task.CompletedTask;
        }, cancellationToken));
        return command;
    }

    private static JsonObject Describe(ModelSummary summary, ModelOptions options) => new()
    {
        ["model"] = summary.ModelName,
        ["input"] = CliJson.Array([options.Input.Width, options.Input.Height, options.Input.Depth]),
        ["widthMultiplier"] = options.WidthMultiplier,
        ["layers"] = new JsonArray([.. summary.Layers.Select(layer => (JsonNode)new JsonObject
        {
            ["name"] = layer.Name,
            ["type"] = layer.Type,
            // Keras order, channels last, null for the batch axis.
            ["outputShape"] = new JsonArray([null, .. layer.OutputShape.Select(n => (JsonNode)JsonValue.Create(n))]),
            ["parameters"] = layer.Parameters,
            ["nonTrainableParameters"] = layer.NonTrainableParameters,
        })]),
        ["totalParameters"] = summary.TotalParameters,
        ["trainableParameters"] = summary.TrainableParameters,
        ["nonTrainableParameters"] = summary.NonTrainableParameters,
    };
}
