using CtScan.Imaging;

namespace CtScan.Tests.Imaging;

public class SliceMontageTests
{
    [Fact]
    public void Render_OrientsPanelsLikeTheSeedsPlotSlices()
    {
        // plot_slices: np.rot90 then np.transpose, so panel pixel (y, x) of slice k is voxel (y, H - 1 - x, k).
        var shape = new VolumeShape(2, 3, 2);
        var volume = new float[shape.VoxelCount];
        volume[shape.IndexOf(0, 2, 0)] = 1f; // → panel 0, pixel (0, 0)
        volume[shape.IndexOf(1, 0, 1)] = 1f; // → panel 1, pixel (1, 2)

        var (pixels, width, height) = SliceMontage.Render(volume, shape, new SliceMontageOptions { Rows = 1, Columns = 2 });

        Assert.Equal((6, 2), (width, height));
        byte[] expected =
        [
            255, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 255,
        ];
        Assert.Equal(expected, pixels);
    }

    [Fact]
    public void Render_MapsTheWindowToGrayLevels_AndLeavesMissingPanelsBlack()
    {
        var shape = new VolumeShape(1, 1, 3);
        float[] volume = [-1f, 0.5f, float.NaN];
        var (pixels, _, _) = SliceMontage.Render(volume, shape, new SliceMontageOptions { Rows = 2, Columns = 2, Black = 0, White = 1 });
        Assert.Equal(new byte[] { 0, 128, 0, 0 }, pixels);
    }

    [Fact]
    public void Render_FirstSliceAndStep_PickPanels()
    {
        var shape = new VolumeShape(1, 1, 6);
        float[] volume = [0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f];
        var (pixels, _, _) = SliceMontage.Render(volume, shape, new SliceMontageOptions { Rows = 1, Columns = 3, FirstSlice = 1, SliceStep = 2 });
        Assert.Equal(new byte[] { 51, 153, 255 }, pixels);
    }
}
