namespace CtScan.Training;

/// <summary>One row of <see cref="ModelSummary"/>: a layer as Keras's model.summary() names and counts it.</summary>
/// <param name="Name">Keras's layer name (conv3d, conv3d_1, …).</param>
/// <param name="Type">Keras's layer class (Conv3D, MaxPooling3D, …).</param>
/// <param name="OutputShape">Output shape without the batch axis, channels last as in Keras.</param>
/// <param name="Parameters">All parameters, BatchNorm running statistics included.</param>
/// <param name="NonTrainableParameters">BatchNorm running mean and variance.</param>
public sealed record LayerSummary(string Name, string Type, IReadOnlyList<int> OutputShape, long Parameters, long NonTrainableParameters)
{
    /// <summary>Keras's rendering: (None, 126, 126, 62, 64).</summary>
    public string OutputShapeText => $"(None, {string.Join(", ", OutputShape)})";
}

/// <summary>
/// The layer table of <see cref="CtScanNet"/> the way the seed's model.summary() prints it, computed from the
/// options alone (shape arithmetic and parameter formulas); the tests hold it against a real module.
/// </summary>
public sealed record ModelSummary(string ModelName, IReadOnlyList<LayerSummary> Layers)
{
    /// <summary>The seed's model name.</summary>
    public const string SeedModelName = "3dcnn";

    public long TotalParameters => Layers.Sum(layer => layer.Parameters);

    public long NonTrainableParameters => Layers.Sum(layer => layer.NonTrainableParameters);

    public long TrainableParameters => TotalParameters - NonTrainableParameters;

    public static ModelSummary Describe(ModelOptions options)
    {
        options.Validated();
        var layers = new List<LayerSummary>();
        int[] spatial = [options.Input.Width, options.Input.Height, options.Input.Depth];
        layers.Add(new("input_layer", "InputLayer", [.. spatial, 1], 0, 0));
        int channels = 1;
        var filters = options.BlockFilters;
        for (int block = 0; block < filters.Count; block++)
        {
            string suffix = block == 0 ? "" : $"_{block}";
            int outChannels = filters[block];
            spatial = [.. spatial.Select(n => n - 2)];
            layers.Add(new($"conv3d{suffix}", "Conv3D", [.. spatial, outChannels], 27L * channels * outChannels + outChannels, 0));
            spatial = [.. spatial.Select(n => n / 2)];
            layers.Add(new($"max_pooling3d{suffix}", "MaxPooling3D", [.. spatial, outChannels], 0, 0));
            // γ and β train; the running mean and variance count as non-trainable parameters in Keras.
            layers.Add(new($"batch_normalization{suffix}", "BatchNormalization", [.. spatial, outChannels], 4L * outChannels, 2L * outChannels));
            channels = outChannels;
        }
        layers.Add(new("global_average_pooling3d", "GlobalAveragePooling3D", [channels], 0, 0));
        layers.Add(new("dense", "Dense", [options.DenseUnits], (long)channels * options.DenseUnits + options.DenseUnits, 0));
        layers.Add(new("dropout", "Dropout", [options.DenseUnits], 0, 0));
        layers.Add(new("dense_1", "Dense", [1], options.DenseUnits + 1L, 0));
        return new(SeedModelName, layers);
    }
}
