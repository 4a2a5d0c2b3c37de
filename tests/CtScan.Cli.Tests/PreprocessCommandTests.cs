using System.IO.Compression;
using CtScan.Tensors;
using CtScan.Tests;

namespace CtScan.Cli.Tests;

public class PreprocessCommandTests
{
    [Theory]
    [InlineData("p04_normal_64x64x20_float32.nii", "p04_normal_64x64x20_float32.npy.gz", new string[0])]
    [InlineData("p08_abnormal_256x203x45_int16.nii.gz", "p08_abnormal_256x203x45_int16.target32x32x16.npy.gz", new[] { "--target", "32", "32", "16" })]
    public async Task Preprocess_WritesTheSeedsTensor(string scan, string golden, string[] extra)
    {
        using var temp = new TempFolder();
        var output = temp.Path("tensor.npy");

        var (exit, stdout, error) = await CliRunner.RunAsync(["preprocess", Fixtures.Golden(scan), output, .. extra]);

        Assert.True(exit == 0, error);
        Assert.Contains("float32", stdout);
        Float32Tensor actual, expected;
        await using (var file = File.OpenRead(output)) actual = NpyFile.Read(file);
        await using (var gz = new GZipStream(File.OpenRead(Fixtures.Golden(golden)), CompressionMode.Decompress)) expected = NpyFile.Read(gz);
        Assert.Equal(expected.Shape, actual.Shape);
        double maxDiff = 0;
        for (int v = 0; v < expected.Data.Length; v++)
            maxDiff = Math.Max(maxDiff, Math.Abs((double)actual.Data[v] - expected.Data[v]));
        Assert.True(maxDiff <= 1e-6, $"max |C# − scipy| = {maxDiff}");
    }

    [Fact]
    public async Task Preprocess_TruncatedData_RefusesAndWritesNothing()
    {
        using var temp = new TempFolder();
        var scan = temp.Path("cut.nii");
        var bytes = File.ReadAllBytes(Fixtures.Golden("p04_normal_64x64x20_float32.nii"));
        File.WriteAllBytes(scan, bytes[..^1000]);
        var output = temp.Path("cut.npy");

        var (exit, _, error) = await CliRunner.RunAsync("preprocess", scan, output);

        Assert.Equal(2, exit);
        Assert.Contains("cut.nii", error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Preprocess_FourDimensionalWithoutVolume_AsksForOne_AndAcceptsOne()
    {
        using var temp = new TempFolder();
        var output = temp.Path("t.npy");

        var refused = await CliRunner.RunAsync("preprocess", Fixtures.RealNifti("functional.nii"), output);
        var accepted = await CliRunner.RunAsync("preprocess", Fixtures.RealNifti("functional.nii"), output, "--volume", "3", "--target", "8", "8", "4");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("volume", refused.Error);
        Assert.Equal(0, accepted.ExitCode);
        await using var file = File.OpenRead(output);
        Assert.Equal([8, 8, 4], NpyFile.Read(file).Shape);
    }

    [Fact]
    public async Task Preprocess_BadWindow_NamesTheValues()
    {
        var (exit, _, error) = await CliRunner.RunAsync("preprocess", Fixtures.Golden("p04_normal_64x64x20_float32.nii"), "/tmp/never.npy", "--hu-min", "500", "--hu-max", "400");
        Assert.Equal(2, exit);
        Assert.Contains("500", error);
    }
}
