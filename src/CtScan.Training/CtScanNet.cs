using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CtScan.Training;

/// <summary>
/// The seed's 3-D CNN ("3dcnn" in the Keras example), layer for layer, channels first:
/// input N × 1 × W × H × D (the seed's spatial axes in the seed's order), four blocks of
/// [Conv3d 3×3×3 valid + ReLU → MaxPool3d 2 → BatchNorm3d], global average pooling, Dense + ReLU, Dropout 0.3,
/// Dense 1 + sigmoid. Output N × 1, the probability of an abnormal scan.
/// </summary>
/// <remarks>
/// Field names match the PyTorch twin (shared/reference/torch_model.py: block1.0.weight, …, dense, out), so state
/// dictionaries and weights map one to one. BatchNorm uses Keras's eps 1e-3 and momentum 0.99 (PyTorch's 0.01).
/// Construction leaves PyTorch's default initialisation; call <see cref="KerasInitializer"/> for the seed's.
/// </remarks>
public sealed class CtScanNet : nn.Module<Tensor, Tensor>
{
    /// <summary>Keras BatchNormalization's default epsilon.</summary>
    public const double BatchNormEpsilon = 1e-3;

    /// <summary>Keras's momentum 0.99 (weight of the old running value) is PyTorch's 0.01 (weight of the new).</summary>
    public const double BatchNormMomentum = 0.01;

    /// <summary>The seed's dropout rate before the output layer.</summary>
    public const double DropoutRate = 0.3;

    private readonly Sequential block1;
    private readonly Sequential block2;
    private readonly Sequential block3;
    private readonly Sequential block4;
    private readonly AdaptiveAvgPool3d gap;
    private readonly Linear dense;
    private readonly Dropout dropout;
    private readonly Linear @out;

    public CtScanNet(ModelOptions options) : base(nameof(CtScanNet))
    {
        Options = options.Validated();
        var filters = options.BlockFilters;
        block1 = Block(1, filters[0]);
        block2 = Block(filters[0], filters[1]);
        block3 = Block(filters[1], filters[2]);
        block4 = Block(filters[2], filters[3]);
        gap = nn.AdaptiveAvgPool3d(1);
        dense = nn.Linear(filters[3], options.DenseUnits);
        dropout = nn.Dropout(DropoutRate);
        @out = nn.Linear(options.DenseUnits, 1);
        RegisterComponents();
    }

    public ModelOptions Options { get; }

    /// <summary>The four convolution blocks, in order.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Blocks => [block1, block2, block3, block4];

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = block4.call(block3.call(block2.call(block1.call(input))));
        return Classify(features).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The head after the four blocks: global average pooling, Dense + ReLU, Dropout, Dense 1 + sigmoid.
    /// <see cref="forward"/> is <see cref="Blocks"/> followed by this; callers that need the block outputs too
    /// (tests, feature inspection) run the blocks themselves and then this.
    /// </summary>
    public Tensor Classify(Tensor features)
    {
        using var scope = NewDisposeScope();
        var pooled = gap.call(features).flatten(1);
        var hidden = dropout.call(nn.functional.relu(dense.call(pooled)));
        return torch.sigmoid(@out.call(hidden)).MoveToOuterDisposeScope();
    }

    private static Sequential Block(long inputChannels, long outputChannels) => nn.Sequential(
        ("0", nn.Conv3d(inputChannels, outputChannels, kernel_size: 3)),  // padding 0: Keras 'valid'
        ("1", nn.ReLU()),
        ("2", nn.MaxPool3d(kernel_size: 2, stride: 2)),
        ("3", nn.BatchNorm3d(outputChannels, eps: BatchNormEpsilon, momentum: BatchNormMomentum)));
}
