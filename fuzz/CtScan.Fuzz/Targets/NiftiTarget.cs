using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Validation;

namespace CtScan.Fuzz;

/// <summary>
/// The NIfTI reader through the pipeline's entry point (<see cref="NiftiImage.Read"/> then
/// <see cref="ScanIntake.Process"/>, as the ingest step calls them), .nii and .nii.gz alike (gzip is sniffed). A first
/// pass reads every voxel of every volume and verifies the gzip trailer; two more run the input gate and preprocessing
/// (the seed's, and one that reorients and resamples).
/// Property: the input parses, or a <see cref="NiftiFormatException"/> naming the file and a field is thrown.
/// </summary>
internal static class NiftiTarget
{
    public const string Name = "nifti";
    public const string FileName = "fuzz.nii";

    // A 16 MiB data limit (the product's is 2 GiB) keeps every execution small; the check that enforces it is fuzzed.
    private static readonly NiftiReadOptions Options = new() { MaxVoxelDataBytes = 16L << 20 };

    // Small model inputs keep preprocessing cheap; the gate keeps its chest-CT defaults. The seed's streaming path, and
    // the opt-in path that reorients to LPS and resamples to a target spacing (whole-volume buffers).
    private static readonly ScanIntake[] Intakes =
    [
        ScanIntake.For(new PreprocessingSpec(-1000, 400, [16, 16, 8])),
        ScanIntake.For(new PreprocessingSpec(-1000, 400, [16, 16, 8], Orientation: "LPS", TargetSpacingMm: [1.5, 1.5, 3])),
    ];

    public static void Run(byte[] input)
    {
        try
        {
            using (var image = NiftiImage.Read(new MemoryStream(input, writable: false), FileName, Options))
            {
                _ = image.Header.Diagnose(Options);
                _ = image.Header.GetBestAffine();
                _ = image.ComputeStatistics();
            }
            foreach (var intake in Intakes)
            {
                using var image = NiftiImage.Read(new MemoryStream(input, writable: false), FileName, Options);
                _ = intake.Process(image);
            }
        }
        catch (NiftiFormatException error) when (error.FileName == FileName && error.Field.Length > 0
                                                 && Refusal.Names(error.Message, FileName + ": "))
        {
        }
    }
}
