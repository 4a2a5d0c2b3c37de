using System.CommandLine;
using System.Text.Json.Nodes;
using CtScan.Training;

namespace CtScan.Cli.Commands;

/// <summary><c>ctscan model …</c>: the seed's 3-D CNN. <c>summary</c> prints its layer table like Keras's model.summary().</summary>
internal static class ModelCommand
{
    public static Command Create() => new("model", "The seed's 3-D CNN: inspect it (training and export come later)")
    {
        CreateSummary(),
        ModelRegistryCommands.CreatePublish(),
        ModelRegistryCommands.CreatePromote(),
        ModelRegistryCommands.CreateRollback(),
        ModelRegistryCommands.CreateList(),
    };

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
