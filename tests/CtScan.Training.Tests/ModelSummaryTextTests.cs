namespace CtScan.Training.Tests;

public sealed class ModelSummaryTextTests
{
    [Fact]
    public void Render_Seed_PrintsKerasRowsAndTotals()
    {
        string text = ModelSummaryText.Render(ModelSummary.Describe(ModelOptions.Seed));
        string[] lines = text.Split('\n');

        Assert.Equal("Model: \"3dcnn\"", lines[0]);
        Assert.Contains(lines, l => l.Contains("conv3d_3 (Conv3D)") && l.Contains("(None, 12, 12, 4, 256)") && l.Contains("884,992"));
        Assert.Contains(lines, l => l.Contains("batch_normalization_3 (BatchNormalization)") && l.Contains("1,024"));
        Assert.Equal(" Total params: 1,352,897 (5.16 MB)", lines[^3]);
        Assert.Equal(" Trainable params: 1,351,873 (5.16 MB)", lines[^2]);
        Assert.Equal(" Non-trainable params: 1,024 (4.00 KB)", lines[^1]);
    }

    [Fact]
    public void Render_EveryTableLine_HasTheSameWidth()
    {
        string text = ModelSummaryText.Render(ModelSummary.Describe(ModelOptions.Seed));

        var tableLines = text.Split('\n').Where(l => l.Length > 0 && "┏┃┡│├└".Contains(l[0])).ToList();

        Assert.Equal(2 + 17 + 16 + 2, tableLines.Count);
        Assert.Single(tableLines.Select(l => l.Length).Distinct());
    }

    [Theory]
    [InlineData(0, "0.00 B")]
    [InlineData(100, "400.00 B")]
    [InlineData(1_024, "4.00 KB")]
    [InlineData(1_352_897, "5.16 MB")]
    public void Float32Size_MatchesKerasUnits(long parameters, string expected)
    {
        Assert.Equal(expected, ModelSummaryText.Float32Size(parameters));
    }
}
