namespace CtScan.Training;

/// <summary>
/// The shape of the seed's 3-D CNN: its input volume and a width multiplier on every layer's channel count.
/// The defaults are the seed's (128 × 128 × 64, width 1); smaller values make fast test and smoke models.
/// </summary>
public sealed record ModelOptions
{
    /// <summary>The seed's channel counts of the four convolution blocks, at width 1.</summary>
    public static IReadOnlyList<int> SeedBlockFilters { get; } = [64, 64, 128, 256];

    /// <summary>The seed's hidden dense layer, at width 1.</summary>
    public const int SeedDenseUnits = 512;

    /// <summary>
    /// The smallest extent each input axis may have: four blocks of a valid 3×3×3 convolution (n → n − 2) and a
    /// 2× max pool (n → ⌊n / 2⌋) must leave at least one voxel (1 ← 2 ← 4 ← 8 ← 10 ← 20 ← 22 ← 44 ← 46).
    /// </summary>
    public const int MinimumInputExtent = 46;

    /// <summary>The seed's model: 128 × 128 × 64 input, width 1.</summary>
    public static ModelOptions Seed { get; } = new();

    /// <summary>Input volume in the seed's axis order (width, height, depth); one channel.</summary>
    public VolumeShape Input { get; init; } = VolumeShape.SeedTarget;

    /// <summary>Scales every channel count (rounded, at least 1); 1 is the seed.</summary>
    public double WidthMultiplier { get; init; } = 1.0;

    /// <summary>Channel counts of the four convolution blocks.</summary>
    public IReadOnlyList<int> BlockFilters => [.. SeedBlockFilters.Select(Scale)];

    /// <summary>Units of the hidden dense layer.</summary>
    public int DenseUnits => Scale(SeedDenseUnits);

    /// <summary>Throws, naming the bad value, unless the input survives four blocks and the width is positive.</summary>
    public ModelOptions Validated()
    {
        if (!double.IsFinite(WidthMultiplier) || WidthMultiplier <= 0)
            throw new ArgumentOutOfRangeException(nameof(WidthMultiplier), WidthMultiplier,
                $"the width multiplier must be a positive finite number; got {WidthMultiplier}");
        if (Input.Width < MinimumInputExtent || Input.Height < MinimumInputExtent || Input.Depth < MinimumInputExtent)
            throw new ArgumentOutOfRangeException(nameof(Input), Input,
                $"every input extent must be at least {MinimumInputExtent} for four valid conv + pool blocks; got {Input}");
        return this;
    }

    private int Scale(int seedChannels) => Math.Max(1, (int)Math.Round(seedChannels * WidthMultiplier, MidpointRounding.AwayFromZero));
}
