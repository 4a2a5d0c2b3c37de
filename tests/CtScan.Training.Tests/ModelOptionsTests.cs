namespace CtScan.Training.Tests;

public sealed class ModelOptionsTests
{
    [Fact]
    public void Seed_Defaults_AreTheKerasExample()
    {
        var options = ModelOptions.Seed;

        Assert.Equal(new VolumeShape(128, 128, 64), options.Input);
        Assert.Equal([64, 64, 128, 256], options.BlockFilters);
        Assert.Equal(512, options.DenseUnits);
    }

    [Fact]
    public void BlockFilters_QuarterWidth_ScalesEveryLayer()
    {
        var options = new ModelOptions { WidthMultiplier = 0.25 };

        Assert.Equal([16, 16, 32, 64], options.BlockFilters);
        Assert.Equal(128, options.DenseUnits);
    }

    [Fact]
    public void BlockFilters_TinyWidth_KeepsAtLeastOneChannel()
    {
        var options = new ModelOptions { WidthMultiplier = 0.001 };

        Assert.Equal([1, 1, 1, 1], options.BlockFilters);
        Assert.Equal(1, options.DenseUnits);
    }

    [Fact]
    public void MinimumInputExtent_SurvivesFourBlocksAndOneLessDoesNot()
    {
        Assert.Equal(1, ExtentAfterFourBlocks(ModelOptions.MinimumInputExtent));
        Assert.True(ExtentAfterFourBlocks(ModelOptions.MinimumInputExtent - 1) < 1);
    }

    [Theory]
    [InlineData(45, 46, 46)]
    [InlineData(46, 45, 46)]
    [InlineData(46, 46, 45)]
    [InlineData(32, 32, 16)]
    public void Validated_InputBelowMinimum_ThrowsNamingTheShape(int width, int height, int depth)
    {
        var options = new ModelOptions { Input = new VolumeShape(width, height, depth) };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => options.Validated());
        Assert.Contains($"{width}×{height}×{depth}", error.Message);
        Assert.Contains("46", error.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Validated_BadWidth_ThrowsNamingTheValue(double width)
    {
        var options = new ModelOptions { WidthMultiplier = width };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => options.Validated());
        Assert.Contains(width.ToString(System.Globalization.CultureInfo.CurrentCulture), error.Message);
    }

    private static int ExtentAfterFourBlocks(int extent)
    {
        for (int block = 0; block < 4; block++) extent = (extent - 2) / 2;
        return extent;
    }
}
