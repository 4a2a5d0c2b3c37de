namespace CtScan.Training.Onnx;

/// <summary>A per-channel affine map y = Scale·x + Shift: what an eval-mode BatchNorm is.</summary>
public sealed record ChannelAffine(double[] Scale, double[] Shift)
{
    public int Channels => Scale.Length;

    /// <summary>Scale = γ / √(σ² + ε), Shift = β − μ·Scale, in float64 so folding adds no rounding of its own.</summary>
    public static ChannelAffine Of(BatchNormWeights norm)
    {
        var scale = new double[norm.Channels];
        var shift = new double[norm.Channels];
        for (int c = 0; c < scale.Length; c++)
        {
            scale[c] = norm.Scale[c] / Math.Sqrt(norm.RunningVariance[c] + norm.Epsilon);
            shift[c] = norm.Shift[c] - norm.RunningMean[c] * scale[c];
        }
        return new ChannelAffine(scale, shift);
    }
}

/// <summary>
/// Folds an eval-mode BatchNorm into the linear layer that reads its output. Exact (up to float rounding) because in
/// this network each BatchNorm feeds either an unpadded convolution — every output voxel sees only real inputs, so
/// the shift b contributes Σ w·b to every voxel alike — or global average pooling, which commutes with a per-channel
/// affine, followed by the dense layer. A padded convolution would break this at the borders (padding zeros are not
/// shifted), so it is not offered.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>conv(a·x + b) = conv'(x) with w'[o,i,…] = w[o,i,…]·a[i] and bias'[o] = bias[o] + Σ_{i,k} w[o,i,k]·b[i].</summary>
    public static ConvWeights IntoConv(ChannelAffine affine, ConvWeights conv)
    {
        if (affine.Channels != conv.InputChannels)
            throw new ArgumentException($"the BatchNorm has {affine.Channels} channels; the convolution reads {conv.InputChannels}", nameof(affine));
        int taps = conv.KernelVolume;
        var kernel = new float[conv.Kernel.Length];
        var bias = new float[conv.OutputChannels];
        for (int o = 0; o < conv.OutputChannels; o++)
        {
            double sum = conv.Bias[o];
            for (int i = 0; i < conv.InputChannels; i++)
            {
                int start = (o * conv.InputChannels + i) * taps;
                for (int k = start; k < start + taps; k++)
                {
                    kernel[k] = (float)(conv.Kernel[k] * affine.Scale[i]);
                    sum += conv.Kernel[k] * affine.Shift[i];
                }
            }
            bias[o] = (float)sum;
        }
        return conv with { Kernel = kernel, Bias = bias };
    }

    /// <summary>dense(a·x + b) = dense'(x) with W'[o,i] = W[o,i]·a[i] and bias'[o] = bias[o] + Σ_i W[o,i]·b[i].</summary>
    public static DenseWeights IntoDense(ChannelAffine affine, DenseWeights dense)
    {
        if (affine.Channels != dense.Inputs)
            throw new ArgumentException($"the BatchNorm has {affine.Channels} channels; the dense layer reads {dense.Inputs}", nameof(affine));
        var weight = new float[dense.Weight.Length];
        var bias = new float[dense.Outputs];
        for (int o = 0; o < dense.Outputs; o++)
        {
            double sum = dense.Bias[o];
            for (int i = 0; i < dense.Inputs; i++)
            {
                int at = o * dense.Inputs + i;
                weight[at] = (float)(dense.Weight[at] * affine.Scale[i]);
                sum += dense.Weight[at] * affine.Shift[i];
            }
            bias[o] = (float)sum;
        }
        return dense with { Weight = weight, Bias = bias };
    }
}
