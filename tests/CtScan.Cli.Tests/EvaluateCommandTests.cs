using System.Buffers.Binary;
using System.Text.Json.Nodes;
using CtScan.Phantoms;

namespace CtScan.Cli.Tests;

/// <summary><c>ctscan evaluate</c> on small labelled phantom folders with the bundled demo model (ONNX Runtime).</summary>
public sealed class EvaluateCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Phantoms in the training layout: CT-0/ normal, CT-23/ abnormal.</summary>
    private string LabelledFolder(string name, int normal, int abnormal, int firstSeed = 700)
    {
        string root = _temp.Path(name);
        for (int n = 0; n < normal + abnormal; n++)
        {
            var label = n < normal ? PhantomLabel.Normal : PhantomLabel.Abnormal;
            string folder = Path.Combine(root, label == PhantomLabel.Normal ? "CT-0" : "CT-23");
            Directory.CreateDirectory(folder);
            ChestPhantomFile.Write(Path.Combine(folder, $"p{n}.nii.gz"), new ChestPhantomOptions { Shape = new VolumeShape(96, 96, 48), Seed = firstSeed + n, Label = label });
        }
        return root;
    }

    [Fact]
    public async Task Evaluate_LabelledFolder_FiguresMatchTheScansProbabilitiesCountedByHand()
    {
        string data = LabelledFolder("data", normal: 3, abnormal: 3);
        string roc = _temp.Path("roc.png"), json = _temp.Path("eval.json");

        var (exit, stdout, error) = await CliRunner.RunAsync("evaluate", data, "--roc", roc, "--json", json);

        Assert.True(exit == 0, error);
        var report = JsonNode.Parse(File.ReadAllText(json))!;
        var scans = report["scans"]!.AsArray().Select(s => (Label: (int)s!["label"]!, P: (double)s["probabilityAbnormal"]!)).ToArray();
        Assert.Equal(6, scans.Length);
        Assert.Equal(3, scans.Count(s => s.Label == 1));
        // Independent of BinaryMetrics: count decisions at 0.5 and positive-over-negative pairs directly.
        int tp = scans.Count(s => s.Label == 1 && s.P > 0.5), tn = scans.Count(s => s.Label == 0 && s.P <= 0.5);
        double pairs = scans.Where(a => a.Label == 1).SelectMany(a => scans.Where(b => b.Label == 0), (a, b) => a.P > b.P ? 1.0 : a.P == b.P ? 0.5 : 0).Sum();
        Assert.Equal((tp + tn) / 6.0, (double)report["accuracy"]!, 12);
        Assert.Equal(tp / 3.0, (double)report["sensitivity"]!, 12);
        Assert.Equal(tn / 3.0, (double)report["specificity"]!, 12);
        Assert.Equal(pairs / 9.0, (double)report["auc"]!, 6);
        Assert.Equal(tp, (int)report["confusion"]!["truePositives"]!);
        Assert.Equal(3 - tn, (int)report["confusion"]!["falsePositives"]!);
        // The text says the same, and the ROC curve is a PNG of the documented size ending at (1, 1).
        Assert.Contains($"accuracy     {(tp + tn) / 6.0:F4}  ({tp + tn} of 6 right)", stdout);
        Assert.Contains($"  normal    {tn,6}  {3 - tn,8}", stdout);
        Assert.Contains($"  abnormal  {3 - tp,6}  {tp,8}", stdout);
        byte[] png = File.ReadAllBytes(roc);
        Assert.Equal(600, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        var last = report["roc"]!.AsArray()[^1]!;
        Assert.Equal((1.0, 1.0), ((double)last["falsePositiveRate"]!, (double)last["truePositiveRate"]!));
    }

    [Fact]
    public async Task Evaluate_LabelsCsv_UsesItsLabels()
    {
        string data = LabelledFolder("csv", normal: 1, abnormal: 1);
        // The same two files, labelled through labels.csv with the labels swapped: every figure flips.
        File.WriteAllText(Path.Combine(data, "labels.csv"), "scan,label\nCT-0/p0.nii.gz,1\nCT-23/p1.nii.gz,0\n");
        string json = _temp.Path("swapped.json");

        var (exit, _, error) = await CliRunner.RunAsync("evaluate", data, "--json", json);

        Assert.True(exit == 0, error);
        var report = JsonNode.Parse(File.ReadAllText(json))!;
        var labels = report["scans"]!.AsArray().ToDictionary(s => Path.GetFileName((string)s!["scan"]!), s => (int)s!["label"]!);
        Assert.Equal(1, labels["p0.nii.gz"]);
        Assert.Equal(0, labels["p1.nii.gz"]);
    }

    [Fact]
    public async Task Evaluate_MissingFolder_Exits2NamingIt()
    {
        var (exit, stdout, error) = await CliRunner.RunAsync("evaluate", _temp.Path("nowhere"));

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Equal($"error: data folder not found: {_temp.Path("nowhere")}", error.Trim());
    }

    [Fact]
    public async Task Evaluate_UnreadableScan_Exits2NamingTheScan()
    {
        string data = LabelledFolder("bad", normal: 1, abnormal: 1);
        string broken = Path.Combine(data, "CT-23", "broken.nii.gz");
        File.WriteAllText(broken, "not a scan");

        var (exit, stdout, error) = await CliRunner.RunAsync("evaluate", data);

        Assert.Equal(2, exit);
        Assert.DoesNotContain("accuracy", stdout);
        Assert.Single(error.Trim().Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains($"1 of 3 scans could not be scored; first: {broken}: unreadable-input", error);
    }

    [Fact]
    public async Task Evaluate_ModelFolderWithoutManifest_Exits3()
    {
        string data = LabelledFolder("m", normal: 1, abnormal: 1);
        Directory.CreateDirectory(_temp.Path("empty-model"));

        var (exit, _, error) = await CliRunner.RunAsync("evaluate", data, "--model", _temp.Path("empty-model"));

        Assert.Equal(3, exit);
        Assert.Equal($"error: model folder {_temp.Path("empty-model")} has no manifest.json", error.Trim());
    }
}
