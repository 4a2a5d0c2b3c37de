using CtScan.Training.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace CtScan.Training.Tests.Onnx;

/// <summary>Folding checked against TorchSharp computing the unfolded layers: conv(bn(x)) and dense(gap(bn(x))).</summary>
public sealed class BatchNormFoldingTests
{
    private static BatchNormWeights Norm(int channels, int seed)
    {
        var random = new Random(seed);
        float[] Draw(double low, double high) => [.. Enumerable.Range(0, channels).Select(_ => (float)(low + (high - low) * random.NextDouble()))];
        return new BatchNormWeights(Draw(0.5, 1.5), Draw(-0.3, 0.3), Draw(-0.5, 0.5), Draw(0.2, 3.0), 1e-3);
    }

    private static float[] Draw(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1))];
    }

    private static Tensor BatchNorm(Tensor x, BatchNormWeights norm) => nn.functional.batch_norm(x,
        tensor(norm.RunningMean), tensor(norm.RunningVariance), tensor(norm.Scale), tensor(norm.Shift), training: false, eps: norm.Epsilon);

    [Fact]
    public void IntoConv_UnpaddedConvolution_EqualsBatchNormThenConv()
    {
        using var scope = NewDisposeScope();
        const int inputs = 3, outputs = 4;
        var norm = Norm(inputs, 1);
        var conv = new ConvWeights(Draw(outputs * inputs * 27, 2), Draw(outputs, 3), outputs, inputs, 3);
        var x = tensor(Draw(2 * inputs * 7 * 6 * 5, 4), [2, inputs, 7, 6, 5]);

        var expected = nn.functional.conv3d(BatchNorm(x, norm), tensor(conv.Kernel, [outputs, inputs, 3, 3, 3]), tensor(conv.Bias));
        var folded = BatchNormFolding.IntoConv(ChannelAffine.Of(norm), conv);
        var actual = nn.functional.conv3d(x, tensor(folded.Kernel, [outputs, inputs, 3, 3, 3]), tensor(folded.Bias));

        Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-5), $"max difference {(expected - actual).abs().max().item<float>()}");
        Assert.False(expected.allclose(nn.functional.conv3d(x, tensor(conv.Kernel, [outputs, inputs, 3, 3, 3]), tensor(conv.Bias)), atol: 1e-3),
            "the BatchNorm must change the result, or the test shows nothing");
    }

    [Fact]
    public void IntoDense_AfterGlobalAveragePool_EqualsBatchNormThenPoolThenDense()
    {
        using var scope = NewDisposeScope();
        const int channels = 5, units = 3;
        var norm = Norm(channels, 5);
        var dense = new DenseWeights(Draw(units * channels, 6), Draw(units, 7), units, channels);
        var x = tensor(Draw(2 * channels * 4 * 3 * 2, 8), [2, channels, 4, 3, 2]);

        var expected = nn.functional.linear(BatchNorm(x, norm).mean([2, 3, 4]), tensor(dense.Weight, [units, channels]), tensor(dense.Bias));
        var folded = BatchNormFolding.IntoDense(ChannelAffine.Of(norm), dense);
        var actual = nn.functional.linear(x.mean([2, 3, 4]), tensor(folded.Weight, [units, channels]), tensor(folded.Bias));

        Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-5), $"max difference {(expected - actual).abs().max().item<float>()}");
    }

    [Fact]
    public void ChannelAffine_OfBatchNorm_IsScaleOverStdAndShiftedMean()
    {
        var norm = new BatchNormWeights([2f], [0.5f], [1f], [3.999f], 1e-3);

        var affine = ChannelAffine.Of(norm);

        Assert.Equal(1.0, affine.Scale[0], 6);           // 2 / √4
        Assert.Equal(-0.5, affine.Shift[0], 6);          // 0.5 − 1·1
    }

    [Fact]
    public void IntoConv_ChannelCountMismatch_NamesBoth()
    {
        var conv = new ConvWeights(new float[2 * 3 * 27], new float[2], 2, 3, 3);
        var error = Assert.Throws<ArgumentException>(() => BatchNormFolding.IntoConv(ChannelAffine.Of(Norm(4, 1)), conv));
        Assert.Contains("4 channels", error.Message);
        Assert.Contains("reads 3", error.Message);
    }
}
