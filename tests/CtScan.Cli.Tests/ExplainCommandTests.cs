using System.Text.Json.Nodes;
using CtScan.Nifti;

namespace CtScan.Cli.Tests;

public class ExplainCommandTests
{
    [Fact]
    public async Task Explain_OcclusionOnAnAbnormalPhantom_WritesMapOnTheScansGridAndMontage()
    {
        using var temp = new TempFolder();
        await CliRunner.RunAsync("phantoms", "--out", temp.Directory.FullName, "--count", "2", "--seed", "20", "--shape", "96", "80", "48", "--masks");
        string scan = temp.Path("CT-23/phantom-00021.nii.gz");
        Assert.True(File.Exists(temp.Path("CT-23/phantom-00021.mask.nii.gz")), "phantoms --masks wrote no mask");

        var (exit, stdout, error) = await CliRunner.RunAsync("explain", scan, "--out", temp.Path("out"), "--method", "occlusion");

        Assert.True(exit == 0, error);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal("occlusion", (string?)json["method"]);
        Assert.Equal("phantom-00021.nii.gz.saliency.nii.gz", (string?)json["map"]);
        Assert.Equal("phantom-00021.nii.gz.saliency.png", (string?)json["montage"]);
        Assert.Contains("× one inference", error);
        using var map = NiftiImage.Open(temp.Path("out/phantom-00021.nii.gz.saliency.nii.gz"));
        using var original = NiftiImage.Open(scan);
        Assert.Equal(original.Header.DataShape, map.Header.DataShape);
        Assert.Equal(original.Header.GetBestAffine().Cast<double>(), map.Header.GetBestAffine().Cast<double>());
        Assert.Equal(0x89, File.ReadAllBytes(temp.Path("out/phantom-00021.nii.gz.saliency.png"))[0]);
    }

    [Fact]
    public async Task Explain_GradCamWithoutWeights_SaysSoAndUsesOcclusion()
    {
        using var temp = new TempFolder();
        await CliRunner.RunAsync("phantoms", "--out", temp.Directory.FullName, "--count", "2", "--seed", "22", "--shape", "64", "64", "46");
        // The demo model without its checkpoint/: what an imported ONNX model looks like.
        string model = temp.Path("onnx-only");
        Directory.CreateDirectory(model);
        foreach (string file in new[] { "model.onnx", "manifest.json" })
            File.Copy(Path.Combine(AppContext.BaseDirectory, "demo-model", file), Path.Combine(model, file));

        var (exit, stdout, error) = await CliRunner.RunAsync("explain", temp.Path("CT-23/phantom-00023.nii.gz"), "--out", temp.Path("out"), "--method", "gradcam", "--model", model);

        Assert.True(exit == 0, error);
        Assert.Contains("no TorchSharp weights", error);
        Assert.Equal("occlusion", (string?)JsonNode.Parse(stdout)!["method"]);
    }

    [Fact]
    public async Task Explain_GradCamOnTheDemoModel_UsesItsBundledCheckpoint()
    {
        using var temp = new TempFolder();
        await CliRunner.RunAsync("phantoms", "--out", temp.Directory.FullName, "--count", "2", "--seed", "22", "--shape", "64", "64", "46");

        var (exit, stdout, error) = await CliRunner.RunAsync("explain", temp.Path("CT-23/phantom-00023.nii.gz"), "--out", temp.Path("out"), "--method", "gradcam");

        Assert.True(exit == 0, error);
        Assert.DoesNotContain("no TorchSharp weights", error);
        Assert.Equal("gradcam", (string?)JsonNode.Parse(stdout)!["method"]);
    }

    [Fact]
    public async Task Explain_Default_GuidedGradCamOnTheDemoModel_WritesAVoxelResolutionMapNamedSo()
    {
        using var temp = new TempFolder();
        await CliRunner.RunAsync("phantoms", "--out", temp.Directory.FullName, "--count", "2", "--seed", "22", "--shape", "64", "64", "46");

        var (exit, stdout, error) = await CliRunner.RunAsync("explain", temp.Path("CT-23/phantom-00023.nii.gz"), "--out", temp.Path("out"));

        Assert.True(exit == 0, error);
        Assert.Equal("guided-gradcam", (string?)JsonNode.Parse(stdout)!["method"]);
        Assert.Contains("guided backpropagation × input", error);
        Assert.True(File.Exists(temp.Path("out/phantom-00023.nii.gz.saliency.nii.gz")));
    }

    [Fact]
    public async Task Explain_MissingScan_ExitsWithBadInputNamingIt()
    {
        using var temp = new TempFolder();

        var (exit, _, error) = await CliRunner.RunAsync("explain", temp.Path("nope.nii.gz"), "--out", temp.Path("out"));

        Assert.Equal(2, exit);
        Assert.Contains("nope.nii.gz", error);
    }
}
