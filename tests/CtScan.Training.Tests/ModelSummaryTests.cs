namespace CtScan.Training.Tests;

public sealed class ModelSummaryTests
{
    /// <summary>The seed's model.summary() table (shared/seed/keras-3d-image-classification.txt), row by row.</summary>
    public static TheoryData<int, string, string, string, long> SeedRows => new()
    {
        { 0, "input_layer", "InputLayer", "(None, 128, 128, 64, 1)", 0 },
        { 1, "conv3d", "Conv3D", "(None, 126, 126, 62, 64)", 1_792 },
        { 2, "max_pooling3d", "MaxPooling3D", "(None, 63, 63, 31, 64)", 0 },
        { 3, "batch_normalization", "BatchNormalization", "(None, 63, 63, 31, 64)", 256 },
        { 4, "conv3d_1", "Conv3D", "(None, 61, 61, 29, 64)", 110_656 },
        { 5, "max_pooling3d_1", "MaxPooling3D", "(None, 30, 30, 14, 64)", 0 },
        { 6, "batch_normalization_1", "BatchNormalization", "(None, 30, 30, 14, 64)", 256 },
        { 7, "conv3d_2", "Conv3D", "(None, 28, 28, 12, 128)", 221_312 },
        { 8, "max_pooling3d_2", "MaxPooling3D", "(None, 14, 14, 6, 128)", 0 },
        { 9, "batch_normalization_2", "BatchNormalization", "(None, 14, 14, 6, 128)", 512 },
        { 10, "conv3d_3", "Conv3D", "(None, 12, 12, 4, 256)", 884_992 },
        { 11, "max_pooling3d_3", "MaxPooling3D", "(None, 6, 6, 2, 256)", 0 },
        { 12, "batch_normalization_3", "BatchNormalization", "(None, 6, 6, 2, 256)", 1_024 },
        { 13, "global_average_pooling3d", "GlobalAveragePooling3D", "(None, 256)", 0 },
        { 14, "dense", "Dense", "(None, 512)", 131_584 },
        { 15, "dropout", "Dropout", "(None, 512)", 0 },
        { 16, "dense_1", "Dense", "(None, 1)", 513 },
    };

    [Theory]
    [MemberData(nameof(SeedRows))]
    public void Describe_Seed_MatchesKerasRow(int index, string name, string type, string shape, long parameters)
    {
        var layer = ModelSummary.Describe(ModelOptions.Seed).Layers[index];

        Assert.Equal((name, type, shape, parameters), (layer.Name, layer.Type, layer.OutputShapeText, layer.Parameters));
    }

    [Fact]
    public void Describe_Seed_MatchesKerasTotals()
    {
        var summary = ModelSummary.Describe(ModelOptions.Seed);

        Assert.Equal("3dcnn", summary.ModelName);
        Assert.Equal(17, summary.Layers.Count);
        Assert.Equal(1_352_897, summary.TotalParameters);
        Assert.Equal(1_351_873, summary.TrainableParameters);
        Assert.Equal(1_024, summary.NonTrainableParameters);
    }

    [Fact]
    public void Describe_MinimumInput_EndsWithOneVoxel()
    {
        var options = new ModelOptions { Input = new VolumeShape(46, 46, 46), WidthMultiplier = 0.25 };

        var lastNorm = ModelSummary.Describe(options).Layers[12];

        Assert.Equal([1, 1, 1, 64], lastNorm.OutputShape);
    }
}
