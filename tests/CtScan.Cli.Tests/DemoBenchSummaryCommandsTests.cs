using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CtScan.Tensors;

namespace CtScan.Cli.Tests;

/// <summary><c>demo</c>, <c>bench</c> (preprocessing) and <c>model summary</c>, in-process, on what they print and write.</summary>
public sealed class DemoBenchSummaryCommandsTests
{
    /// <summary>A JSON value without the indentation the CLI prints.</summary>
    private static string Compact(JsonElement value) => string.Concat(value.GetRawText().Where(c => !char.IsWhiteSpace(c)));

    [Fact]
    public async Task Demo_WritesScansTensorsAndMontages_AndPrintsTheTensorsStatistics()
    {
        using var temp = new TempFolder();
        string root = temp.Path("demo");

        var (exit, stdout, error) = await CliRunner.RunAsync("demo", "--out", root);

        Assert.True(exit == 0, error);
        Assert.Contains($"done: scans, tensors and montages are in {root}", stdout);
        var means = new Dictionary<string, double>();
        foreach (var (folder, label) in new[] { ("CT-0", "normal"), ("CT-23", "abnormal") })
        {
            string stem = Path.Combine(root, folder, $"phantom-{label}");
            Assert.Contains($"{stem}.nii.gz: NIfTI-1 Int16 512×512×64", stdout);

            using var file = File.OpenRead(stem + ".npy");
            var tensor = NpyFile.Read(file);
            Assert.Equal([128, 128, 64], tensor.Shape);
            Assert.InRange(tensor.Data.Min(), 0f, 1f);
            Assert.InRange(tensor.Data.Max(), 0f, 1f);
            // The printed mean is the written tensor's.
            var printed = Regex.Match(stdout, $@"{Regex.Escape(stem)}\.npy: 512×512×64 → 128×128×64 float32, min \S+ max \S+ mean (\S+),");
            Assert.True(printed.Success, stdout);
            double mean = tensor.Data.Average(v => (double)v);
            Assert.Equal(mean, double.Parse(printed.Groups[1].Value, CultureInfo.CurrentCulture), 1e-6);
            means[label] = mean;

            // 4 × 10 panels of 128 × 128 (columns along axis 1, rows along axis 0).
            var png = File.ReadAllBytes(stem + ".png");
            Assert.Equal(1280, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
            Assert.Equal(512, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
            Assert.Contains($"{stem}.png: montage of slices 12–51", stdout);
        }
        // Same seed, same anatomy: the ground-glass opacities are denser than the lung they replace.
        Assert.True(means["abnormal"] > means["normal"], $"abnormal mean {means["abnormal"]}, normal {means["normal"]}");
    }

    [Fact]
    public async Task Bench_SmallScanOnAllCores_PrintsThreeCasesWithConsistentFigures()
    {
        // --all-cores: pinning would pin the test process itself to one core.
        var (exit, stdout, error) = await CliRunner.RunAsync("bench", "--shape", "64", "64", "16", "--iterations", "3", "--all-cores");

        Assert.True(exit == 0, error);
        Assert.Matches(@"scan: 64×64×16 int16 \(0\.1 MiB raw; \.nii\.gz \d+\.\d MiB\), target 128×128×64, 3 runs, \d+ cores visible, all cores", stdout);
        const long rawBytes = 64 * 64 * 16 * sizeof(short);
        foreach (string name in new[] { "preprocess .nii", "gunzip .nii.gz alone", "preprocess .nii.gz" })
        {
            var row = Regex.Match(stdout, $@"^{Regex.Escape(name)}\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", RegexOptions.Multiline);
            Assert.True(row.Success, $"no row '{name}' in:\n{stdout}");
            double[] v = [.. Enumerable.Range(1, 4).Select(g => double.Parse(row.Groups[g].Value, CultureInfo.CurrentCulture))];
            Assert.True(v[1] > 0 && v[0] >= v[1], $"{name}: median {v[0]} ms, min {v[1]} ms");
            // alloc/raw is the allocation over the raw voxel bytes (both printed rounded).
            Assert.Equal(v[2] * 1048576 / rawBytes, v[3], 0.5);
        }
        Assert.Matches(@"targets: \.nii median ≤ 60 ms → (met|NOT met); \.nii\.gz / gunzip = \d+\.\d\d", stdout);
    }

    [Fact]
    public async Task Bench_ZeroIterations_RunsOnce()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("bench", "--shape", "48", "48", "8", "--iterations", "0", "--all-cores");

        Assert.True(exit == 0, error);
        Assert.Contains(", 1 runs,", stdout);
    }

    [Fact]
    public async Task ModelSummary_Seed_PrintsKerasParameterCounts()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("model", "summary");

        Assert.True(exit == 0, error);
        var lines = stdout.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("Model: \"3dcnn\"", lines[0]);
        Assert.Contains(lines, l => l.Contains("conv3d (Conv3D)") && l.Contains("(None, 126, 126, 62, 64)") && l.Contains("1,792"));
        Assert.Contains(lines, l => l.Contains("dense_1 (Dense)") && l.Contains("(None, 1)") && l.Contains("513"));
        Assert.Equal(" Total params: 1,352,897 (5.16 MB)", lines[^3]);
        Assert.Equal(" Trainable params: 1,351,873 (5.16 MB)", lines[^2]);
        Assert.Equal(" Non-trainable params: 1,024 (4.00 KB)", lines[^1]);
    }

    [Fact]
    public async Task ModelSummary_JsonAtHalfWidthOnTheDemoInput_GivesShapesAndCounts()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("model", "summary", "--json", "--width", "0.5", "--input", "46", "46", "46");

        Assert.True(exit == 0, error);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal([46, 46, 46], root.GetProperty("input").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(0.5, root.GetProperty("widthMultiplier").GetDouble());
        var layers = root.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
        var conv = layers["conv3d"];
        // 46 − 2 (valid 3×3×3) = 44 per axis; 64 × 0.5 = 32 filters; 27 weights + 1 bias per filter.
        Assert.Equal("[null,44,44,44,32]", Compact(conv.GetProperty("outputShape")));
        Assert.Equal(32 * 28, conv.GetProperty("parameters").GetInt64());
        Assert.Equal("[null,1]", Compact(layers["dense_1"].GetProperty("outputShape")));
        long total = root.GetProperty("totalParameters").GetInt64();
        Assert.Equal(total, root.GetProperty("trainableParameters").GetInt64() + root.GetProperty("nonTrainableParameters").GetInt64());
        Assert.Equal(total, layers.Values.Sum(l => l.GetProperty("parameters").GetInt64()));
        // BatchNorm running statistics: 2 × (32 + 32 + 64 + 128) channels.
        Assert.Equal(512, root.GetProperty("nonTrainableParameters").GetInt64());
    }

    [Fact]
    public async Task ModelSummary_InputBelowTheMinimum_Exits2NamingIt()
    {
        var (exit, _, error) = await CliRunner.RunAsync("model", "summary", "--input", "40", "46", "46");

        Assert.Equal(2, exit);
        Assert.Contains("46", error);
    }
}
