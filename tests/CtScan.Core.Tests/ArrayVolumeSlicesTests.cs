namespace CtScan.Tests;

public class ArrayVolumeSlicesTests
{
    [Fact]
    public void ReadNextSlice_EverySlice_ReturnsFileOrderSlicesThenThrows()
    {
        var shape = new VolumeShape(3, 2, 2);
        double[] values = Enumerable.Range(0, 12).Select(n => (double)n).ToArray();
        var slices = new ArrayVolumeSlices(values, shape);
        var slice = new double[6];

        slices.ReadNextSlice(slice);
        Assert.Equal([0.0, 1, 2, 3, 4, 5], slice);
        slices.ReadNextSlice(slice);
        Assert.Equal([6.0, 7, 8, 9, 10, 11], slice);
        var error = Assert.Throws<InvalidOperationException>(() => slices.ReadNextSlice(slice));
        Assert.Contains("2 slices", error.Message);
    }

    [Fact]
    public void Constructor_CountMismatch_ThrowsNamingBoth()
    {
        var error = Assert.Throws<ArgumentException>(() => new ArrayVolumeSlices(new double[11], new VolumeShape(3, 2, 2)));

        Assert.Contains("11", error.Message);
        Assert.Contains("12", error.Message);
    }

    [Fact]
    public void ReadNextSlice_WrongDestinationLength_Throws()
    {
        var slices = new ArrayVolumeSlices(new double[12], new VolumeShape(3, 2, 2));

        Assert.Throws<ArgumentException>(() => slices.ReadNextSlice(new double[5]));
    }
}
