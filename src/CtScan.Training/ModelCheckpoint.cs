using System.Text.Json;

namespace CtScan.Training;

/// <summary>
/// A trained network on disk: a folder holding <c>weights.dat</c> (TorchSharp's state dictionary format, BatchNorm
/// running statistics included) and <c>model.json</c> (the <see cref="ModelOptions"/> needed to rebuild it).
/// The trainer writes one for the best epoch; export reads it.
/// </summary>
public static class ModelCheckpoint
{
    public const string WeightsFileName = CtScan.Scoring.ModelFolder.CheckpointWeightsFileName;
    public const string OptionsFileName = CtScan.Scoring.ModelFolder.CheckpointOptionsFileName;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Writes <paramref name="model"/>'s weights and options into <paramref name="directory"/> (created if needed).</summary>
    public static void Save(CtScanNet model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        var options = new StoredOptions(model.Options.Input.Width, model.Options.Input.Height, model.Options.Input.Depth, model.Options.WidthMultiplier);
        // Write to temporary names first so a crash never leaves a half-written checkpoint under the real names.
        var weights = Path.Combine(directory, WeightsFileName);
        var json = Path.Combine(directory, OptionsFileName);
        model.save(weights + ".tmp");
        File.WriteAllText(json + ".tmp", JsonSerializer.Serialize(options, Json));
        File.Move(weights + ".tmp", weights, overwrite: true);
        File.Move(json + ".tmp", json, overwrite: true);
    }

    /// <summary>Rebuilds the network saved in <paramref name="directory"/>, in eval mode.</summary>
    /// <exception cref="FileNotFoundException">The folder lacks weights.dat or model.json.</exception>
    /// <exception cref="InvalidDataException">model.json is not a valid model description.</exception>
    public static CtScanNet Load(string directory)
    {
        var json = Path.Combine(directory, OptionsFileName);
        var weights = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(json)) throw new FileNotFoundException($"no {OptionsFileName} in checkpoint folder {directory}", json);
        if (!File.Exists(weights)) throw new FileNotFoundException($"no {WeightsFileName} in checkpoint folder {directory}", weights);
        StoredOptions stored;
        try
        {
            stored = JsonSerializer.Deserialize<StoredOptions>(File.ReadAllText(json), Json)
                     ?? throw new InvalidDataException($"{json} is empty");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{json} is not a model description: {error.Message}", error);
        }
        var options = new ModelOptions
        {
            Input = new VolumeShape(stored.InputWidth, stored.InputHeight, stored.InputDepth),
            WidthMultiplier = stored.WidthMultiplier,
        };
        var model = new CtScanNet(options);
        model.load(weights);
        model.eval();
        return model;
    }

    private sealed record StoredOptions(int InputWidth, int InputHeight, int InputDepth, double WidthMultiplier);
}
