using System.Text;
using CtScan.Contracts;
using CtScan.Tensors;
using CtScan.Validation;

namespace CtScan.Fuzz;

/// <summary>
/// The model manifest parser as the registry client and the model folder call it (UTF-8 text →
/// <see cref="ContractsJson.DeserializeManifest"/>), then what the scorer builds from a manifest that passed: the
/// intake (preprocessing and input gate), the tensor name and the model's input volume.
/// Property: a usable manifest, or an <see cref="InvalidDataException"/> naming the problem.
/// </summary>
internal static class ManifestTarget
{
    public const string Name = "manifest";
    private const string AnyScanSha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public static void Run(byte[] input)
    {
        ModelManifest manifest;
        try
        {
            manifest = ContractsJson.DeserializeManifest(Encoding.UTF8.GetString(input));
        }
        catch (InvalidDataException error) when (Refusal.Names(error.Message, ""))
        {
            return;
        }
        // A manifest that passed validation must be usable: none of these may throw, and its model input must fit in
        // one tensor (the scorer and preprocessing allocate float[W × H × D]).
        _ = ScanIntake.For(manifest.Preprocessing, manifest.InputGate);
        _ = TensorNames.For(AnyScanSha256, manifest.Preprocessing);
        var volume = manifest.InputVolume;
        var values = (Int128)volume.Width * volume.Height * volume.Depth;
        if (values != volume.VoxelCount || values > Array.MaxLength)
            throw new InvalidOperationException($"a validated manifest takes input {volume} ({values} values, VoxelCount {volume.VoxelCount}), more than one tensor can hold ({Array.MaxLength})");
        _ = ContractsJson.DeserializeManifest(ContractsJson.Serialize(manifest));
    }
}
