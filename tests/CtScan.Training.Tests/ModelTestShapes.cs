namespace CtScan.Training.Tests;

/// <summary>Model configurations the tests share.</summary>
internal static class ModelTestShapes
{
    /// <summary>Quarter width on the smallest input four blocks accept: a forward pass takes milliseconds.</summary>
    public static ModelOptions Small { get; } = new() { Input = new VolumeShape(46, 46, 46), WidthMultiplier = 0.25 };
}
