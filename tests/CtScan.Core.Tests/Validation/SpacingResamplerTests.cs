using CtScan.Preprocessing;
using CtScan.Tensors;

namespace CtScan.Tests.Validation;

public sealed class SpacingResamplerTests
{
    private static Float32Tensor Npy(string name)
    {
        using var file = File.OpenRead(Fixtures.Path("spacing", name));
        return NpyFile.Read(file);
    }

    [Fact]
    public void Apply_MatchesScipyZoomAtTheSpacingRatio()
    {
        // tests/fixtures/spacing/make_spacing_golden.py: scipy 1.10.1 ndimage.zoom(volume, (0.7, 0.9, 2.0), order=1).
        var input = Npy("input_12x10x7.npy");
        var expected = Npy("zoomed_0.7x0.9x5_to_1x1x2.5.npy");
        var shape = new VolumeShape(input.Shape[0], input.Shape[1], input.Shape[2]);
        var fileOrder = new double[input.Data.Length];
        for (int i = 0; i < shape.Width; i++)
            for (int j = 0; j < shape.Height; j++)
                for (int k = 0; k < shape.Depth; k++)
                    fileOrder[i + shape.Width * (j + shape.Height * k)] = input.Data[shape.IndexOf(i, j, k)];

        var grid = SpacingResampler.Apply(new VolumeGrid(fileOrder, shape, (0.7, 0.9, 5.0)), (1.0, 1.0, 2.5));

        var target = new VolumeShape(expected.Shape[0], expected.Shape[1], expected.Shape[2]);
        Assert.Equal(target, grid.Shape);
        double worst = 0;
        for (int i = 0; i < target.Width; i++)
            for (int j = 0; j < target.Height; j++)
                for (int k = 0; k < target.Depth; k++)
                    worst = Math.Max(worst, Math.Abs(grid.Values[i + target.Width * (j + target.Height * k)] - expected.Data[target.IndexOf(i, j, k)]));
        Assert.True(worst <= 1e-3, $"largest difference {worst}");
    }

    [Theory]
    [InlineData(512, 0.7, 1.0, 358)]   // round(358.4)
    [InlineData(64, 5.0, 2.5, 128)]
    [InlineData(5, 1.0, 2.0, 2)]       // round(2.5) = 2: half to even, like Python's round
    [InlineData(1, 1.0, 10.0, 1)]      // never below one voxel
    public void OutputShape_RoundsLikeScipy(int n, double spacing, double target, int expected) =>
        Assert.Equal(expected, SpacingResampler.OutputShape(new VolumeShape(n, n, n), (spacing, spacing, spacing), (target, target, target)).Width);

    [Fact]
    public void Intake_WithTargetSpacing_ResamplesBeforeTheSeedsZoom()
    {
        using var image = CtScan.Nifti.NiftiImage.Open(Fixtures.Golden("p04_normal_64x64x20_float32.nii"));
        using var again = CtScan.Nifti.NiftiImage.Open(Fixtures.Golden("p04_normal_64x64x20_float32.nii"));
        var options = new PreprocessingOptions { TargetShape = new VolumeShape(32, 32, 16) };

        var resampled = new CtScan.Validation.ScanIntake(options with { TargetSpacingMm = (1.4, 1.4, 2.5) }).Process(image).Scan!.Tensor.Data;
        var plain = new CtScan.Validation.ScanIntake(options).Process(again).Scan!.Tensor.Data;

        Assert.Equal(32 * 32 * 16, resampled.Length);
        Assert.NotEqual(plain, resampled);
    }
}
