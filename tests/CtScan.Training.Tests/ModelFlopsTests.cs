namespace CtScan.Training.Tests;

public sealed class ModelFlopsTests
{
    [Fact]
    public void Of_Seed_CountsEachConvolutionFromItsOutputShape()
    {
        var flops = ModelFlops.Of(ModelOptions.Seed);

        // Output voxels × output channels × input channels × 27 taps, for the seed's shapes (126×126×62, 61×61×29, 28×28×12, 12×12×4).
        Assert.Equal([126L * 126 * 62 * 64 * 1 * 27, 61L * 61 * 29 * 64 * 64 * 27, 28L * 28 * 12 * 128 * 64 * 27, 12L * 12 * 4 * 256 * 128 * 27], flops.ConvMacs);
        Assert.Equal(256L * 512 + 512, flops.DenseMacs);
        Assert.Equal(32.45, flops.Flops / 1e9, 2);
    }
}
