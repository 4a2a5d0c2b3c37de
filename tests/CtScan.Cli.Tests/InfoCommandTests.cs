using System.Text.Json.Nodes;
using CtScan.Tests;

namespace CtScan.Cli.Tests;

public class InfoCommandTests
{
    [Fact]
    public async Task Info_Json_ReportsTheHeaderOfABigEndianFile()
    {
        var (exit, output, _) = await CliRunner.RunAsync("info", Fixtures.RealNifti("anatomical.nii"), "--json");

        Assert.Equal(0, exit);
        var json = JsonNode.Parse(output)!.AsObject();
        Assert.Equal("big-endian", (string?)json["byteOrder"]);
        Assert.Equal("Int16", (string?)json["datatype"]);
        Assert.Equal([33L, 41L, 25L], json["shape"]!.AsArray().Select(v => (long)v!));
        Assert.Equal(352, (double)json["voxOffset"]!);
        Assert.Equal(-2.0, (double)json["affine"]![0]![0]!);
        Assert.Equal(32.0, (double)json["affine"]![0]![3]!);
        Assert.Null(json["stats"]);
    }

    [Fact]
    public async Task Info_Stats_MatchNibabelOnAScaled4DFile()
    {
        // functional.nii: int16, slope 0.0754…, inter 3100.76…; nibabel: min/max/sum from the fixture manifest.
        var manifest = JsonNode.Parse(File.ReadAllText(Fixtures.RealNifti("manifest.json")))!["files"]!.AsArray()
            .Single(f => (string?)f!["file"] == "functional.nii")!["fdata"]!;

        var (exit, output, _) = await CliRunner.RunAsync("info", Fixtures.RealNifti("functional.nii"), "--json", "--stats");

        Assert.Equal(0, exit);
        var stats = JsonNode.Parse(output)!["stats"]!;
        Assert.Equal((double)manifest["min"]!, (double)stats["min"]!);
        Assert.Equal((double)manifest["max"]!, (double)stats["max"]!);
        Assert.Equal((double)manifest["sum"]!, (double)stats["sum"]!, 1e-12 * Math.Abs((double)manifest["sum"]!));
        Assert.Equal((long)manifest["n_voxels"]!, (long)stats["voxels"]!);
        Assert.Equal(0, (long)stats["nanCount"]!);
    }

    [Fact]
    public async Task Info_Text_ShowsTheHeaderEvenWhenTheDataIsTruncated()
    {
        using var temp = new TempFolder();
        var truncated = temp.Path("truncated.nii");
        var bytes = File.ReadAllBytes(Fixtures.Golden("p04_normal_64x64x20_float32.nii"));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        var (exit, output, error) = await CliRunner.RunAsync("info", truncated, "--stats");

        Assert.Equal(2, exit);
        Assert.Contains("Float32", output);
        Assert.Contains("[64, 64, 20]", output);
        Assert.Contains("truncated.nii", error);
        Assert.Contains("bytes", error);
    }

    [Fact]
    public async Task Info_NotNifti_ExitsWithAClearError()
    {
        using var temp = new TempFolder();
        var path = temp.Path("notes.nii");
        File.WriteAllText(path, new string('x', 600));

        var (exit, output, error) = await CliRunner.RunAsync("info", path);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error);
        Assert.Contains("notes.nii", error);
        Assert.Contains("sizeof_hdr", error);
    }
}
