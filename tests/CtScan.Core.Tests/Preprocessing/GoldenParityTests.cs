using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Tests.Support;
using Xunit.Abstractions;

namespace CtScan.Tests.Preprocessing;

/// <summary>
/// ScanPreprocessor against the seed's stored outputs (scipy 1.10.1): max |C# − scipy| ≤ 1e-6 for every golden scan
/// and both stored target shapes, reading the scans with the product's reader (<see cref="NiftiImage"/>) and, to keep
/// preprocessing checkable on its own, with a test-only loader (<see cref="GoldenNifti"/>).
/// </summary>
public class GoldenParityTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, int, int, int> Cases => new()
    {
        { "p03_abnormal_512x400x37_int16.nii.gz", "p03_abnormal_512x400x37_int16.npy.gz", 128, 128, 64 },
        { "p04_normal_64x64x20_float32.nii", "p04_normal_64x64x20_float32.npy.gz", 128, 128, 64 },
        { "p04_normal_64x64x20_float32.nii", "p04_normal_64x64x20_float32.target32x32x16.npy.gz", 32, 32, 16 },
        { "p06_normal_256x256x33_uint8_s8i-1024.nii", "p06_normal_256x256x33_uint8_s8i-1024.npy.gz", 128, 128, 64 },
        { "p08_abnormal_256x203x45_int16.nii.gz", "p08_abnormal_256x203x45_int16.npy.gz", 128, 128, 64 },
        { "p08_abnormal_256x203x45_int16.nii.gz", "p08_abnormal_256x203x45_int16.target32x32x16.npy.gz", 32, 32, 16 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Process_GoldenScanReadByNiftiImage_MatchesScipyWithin1e6(string nifti, string golden, int width, int height, int depth)
    {
        using NiftiImage image = NiftiImage.Open(Fixtures.Golden(nifti));

        AssertMatchesGolden(image.OpenVolume(), golden, new VolumeShape(width, height, depth));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Process_GoldenScanReadByTestLoader_MatchesScipyWithin1e6(string nifti, string golden, int width, int height, int depth)
    {
        AssertMatchesGolden(GoldenNifti.Open(Fixtures.Golden(nifti)), golden, new VolumeShape(width, height, depth));
    }

    private void AssertMatchesGolden(IVolumeSlices scan, string golden, VolumeShape target)
    {
        var preprocessor = new ScanPreprocessor(new PreprocessingOptions { TargetShape = target });

        PreprocessedScan result = preprocessor.Process(scan);

        var expected = TestArrays.LoadGoldenNpyGz(golden);
        Assert.Equal(target, expected.ToVolumeShape());
        var (maxDiff, mismatches) = TestArrays.Compare(result.Tensor.Data, expected.Data);
        int mismatchesAboveNoise = 0;
        for (int n = 0; n < expected.Data.Length; n++)
            if (result.Tensor.Data[n] != expected.Data[n] && Math.Max(Math.Abs(result.Tensor.Data[n]), Math.Abs(expected.Data[n])) > 1e-12f)
                mismatchesAboveNoise++;
        output.WriteLine($"{golden}: max |diff| {maxDiff:E3}, float32 mismatches {mismatches} / {expected.Data.Length}, of which with a value above 1e-12: {mismatchesAboveNoise}");
        Assert.True(maxDiff <= 1e-6, $"max |diff| {maxDiff} exceeds 1e-6 ({mismatches} mismatches)");
        Assert.Equal(0, result.NonFinite.Total);
    }
}
