using static TorchSharp.torch;

namespace CtScan.Training;

/// <summary>
/// Parameter counts of a live module, in Keras's terms: trainable parameters plus BatchNorm running mean and
/// variance (Keras's non-trainable parameters). PyTorch's num_batches_tracked counter is not a parameter in Keras
/// and is left out.
/// </summary>
public readonly record struct ParameterCounts(long Trainable, long NonTrainable)
{
    public long Total => Trainable + NonTrainable;

    public static ParameterCounts Of(nn.Module module)
    {
        long trainable = module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        long runningStatistics = module.named_buffers()
            .Where(b => b.name.EndsWith("running_mean", StringComparison.Ordinal) || b.name.EndsWith("running_var", StringComparison.Ordinal))
            .Sum(b => b.buffer.numel());
        return new(trainable, runningStatistics);
    }
}
