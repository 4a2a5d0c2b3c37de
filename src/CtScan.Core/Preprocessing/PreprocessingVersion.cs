namespace CtScan.Preprocessing;

/// <summary>
/// The version of what <see cref="ScanPreprocessor"/> computes for given <see cref="PreprocessingOptions"/>. It is part
/// of every cached tensor's name (<see cref="Tensors.TensorNames"/>), so bumping it makes every cache miss once.
/// </summary>
/// <remarks>
/// Bump <see cref="Current"/> in the same change as anything that alters the tensor produced for unchanged options:
/// a fix to the rotation or zoom, a different NaN rule, reorientation defaults, float rounding. A new setting in
/// <see cref="PreprocessingOptions"/> needs no bump: the options are part of the key already.
/// History: 1 = names without a version (<c>&lt;sha256&gt;.npy</c>, retired); 2 = the seed's rotate, zoom and HU
/// window, keyed by every option.
/// </remarks>
public static class PreprocessingVersion
{
    public const int Current = 2;
}
