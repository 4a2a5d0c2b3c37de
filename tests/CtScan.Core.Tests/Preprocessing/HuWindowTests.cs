using CtScan.Preprocessing;

namespace CtScan.Tests.Preprocessing;

public class HuWindowTests
{
    [Theory]
    [InlineData(-1000.0, 0.0)]
    [InlineData(-3024.0, 0.0)]
    [InlineData(400.0, 1.0)]
    [InlineData(3071.0, 1.0)]
    [InlineData(0.0, 1000.0 / 1400.0)]
    [InlineData(-500.5, 499.5 / 1400.0)]
    public void Normalize_SeedWindow_ClipsThenScales(double hu, double expected)
    {
        var window = new HuWindow();

        Assert.Equal((float)expected, window.Normalize(hu));
    }

    [Fact]
    public void Apply_FiniteValues_MatchesSeedFormulaBitForBit()
    {
        var random = new Random(11);
        double[] hu = Enumerable.Range(0, 5000).Select(_ => random.NextDouble() * 3000 - 1500).ToArray();
        var destination = new float[hu.Length];

        NonFiniteCounts counts = new HuWindow(-1000, 400).Apply(hu, destination);

        for (int n = 0; n < hu.Length; n++)
        {
            double clipped = Math.Min(Math.Max(hu[n], -1000.0), 400.0);
            Assert.Equal((float)((clipped + 1000.0) / 1400.0), destination[n]);
        }
        Assert.Equal(default, counts);
    }

    [Fact]
    public void Apply_NaNAndInfinities_MapsThemAndCountsEach()
    {
        double[] hu = [double.NaN, 0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 50];
        var destination = new float[hu.Length];

        NonFiniteCounts counts = new HuWindow(-1000, 400).Apply(hu, destination);

        Assert.Equal([0f, (float)(1000.0 / 1400), 1f, 0f, 0f, (float)(1050.0 / 1400)], destination);
        Assert.Equal(new NonFiniteCounts(NaN: 2, PositiveInfinity: 1, NegativeInfinity: 1), counts);
        Assert.Equal(4, counts.Total);
    }

    [Fact]
    public void CountNonFinite_LongSpanWithOneNaNInTheVectorPart_FindsIt()
    {
        var values = new double[1001];
        values[500] = double.NaN;

        Assert.Equal(1, HuWindow.CountNonFinite(values).NaN);
    }

    [Theory]
    [InlineData(400.0, -1000.0, "maximumHu")]
    [InlineData(0.0, 0.0, "maximumHu")]
    [InlineData(double.NaN, 400.0, "minimumHu")]
    [InlineData(-1000.0, double.PositiveInfinity, "maximumHu")]
    public void Constructor_BadWindow_ThrowsNamingTheValue(double minimum, double maximum, string parameter)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HuWindow(minimum, maximum));

        Assert.Equal(parameter, error.ParamName);
    }

    [Fact]
    public void Apply_DestinationOfOtherLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => new HuWindow().Apply(new double[3], new float[2]));
    }
}

public class HuWindowGatherTests
{
    [Fact]
    public void NormalizeGathered_AnyValuesAndOutsideMarks_EqualsScalarNormalize()
    {
        var random = new Random(3);
        double[] values = Enumerable.Range(0, 257).Select(_ => random.NextDouble() * 3000 - 1500).ToArray();
        values[3] = double.NaN;
        values[10] = double.PositiveInfinity;
        values[11] = double.NegativeInfinity;
        int[] indices = Enumerable.Range(0, 103).Select(n => n % 7 == 0 ? -1 : random.Next(values.Length)).ToArray();
        indices[1] = 3;
        indices[2] = 10;
        indices[4] = 11;
        var window = new HuWindow();
        var gathered = new float[indices.Length];

        window.NormalizeGathered(values, indices, gathered);

        for (int n = 0; n < indices.Length; n++)
            Assert.Equal(indices[n] < 0 ? 0f : window.Normalize(values[indices[n]]), gathered[n]);
    }
}
