using System.Buffers.Binary;

namespace CtScan.Training.Tests.Training;

public sealed class CurvesPlotTests
{
    private static EpochRecord Epoch(int n, double loss, double acc) => new(n, loss, acc, loss + 0.1, acc - 0.1, 0.8, 0.7, 0.9, 1e-4, 1.0, 2.0);

    [Fact]
    public void Render_History_IsATwoPanelPng()
    {
        byte[] png = CurvesPlot.Render([Epoch(1, 0.7, 0.5), Epoch(2, 0.6, 0.6), Epoch(3, double.NaN, 0.7)]);

        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        // IHDR follows the signature: width and height, big-endian, at bytes 16 and 20.
        Assert.Equal(2 * CurvesPlot.PanelWidth, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(CurvesPlot.PanelHeight, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    [Fact]
    public void Render_NoEpochs_IsRefused()
    {
        Assert.Contains("no epochs", Assert.Throws<ArgumentException>(() => CurvesPlot.Render([])).Message);
    }
}
