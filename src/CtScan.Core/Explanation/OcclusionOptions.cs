namespace CtScan.Explanation;

/// <summary>Settings of <see cref="OcclusionSensitivity"/>.</summary>
public sealed record OcclusionOptions
{
    /// <summary>
    /// The value an occluded patch is set to, in model-input units: 0, the HU window's lower edge (air, −1000 HU with
    /// the seed's window). Neutral in two senses: the preprocessing pads with it (the seed's rotation fills with 0),
    /// so every model has seen it; and it can only take density away, never add any, so hiding a ground-glass opacity
    /// (added density) removes its evidence rather than replacing it with other structure.
    /// </summary>
    public float FillValue { get; init; }

    /// <summary>
    /// The most patches occluded, one model input each; the grid is the finest whose patches holding anything but
    /// <see cref="FillValue"/> number at most this. Default 8: one batch, measured at about 5–8× one single-scan
    /// inference on 2 cores (batching roughly halves the per-scan cost), inside the 10× budget.
    /// </summary>
    public int MaxPatches { get; init; } = 8;

    /// <summary>Occluded inputs per ONNX Runtime call (the batch axis is dynamic in exported models).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Throws, naming the bad value, unless every setting is usable.</summary>
    public OcclusionOptions Validated()
    {
        if (!float.IsFinite(FillValue)) throw new ArgumentOutOfRangeException(nameof(FillValue), FillValue, $"the fill value must be finite; got {FillValue}");
        if (MaxPatches is < 1 or > 100_000) throw new ArgumentOutOfRangeException(nameof(MaxPatches), MaxPatches, $"MaxPatches must lie in [1, 100000]; got {MaxPatches}");
        if (BatchSize is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"BatchSize must lie in [1, 256]; got {BatchSize}");
        return this;
    }
}
