using System.Text.Json.Nodes;

namespace CtScan.Cli.Tests;

public sealed class TrainCommandTests
{
    private static readonly string[] SmallModel = ["--width", "0.25", "--input", "46", "46", "46", "--learning-rate", "1e-3", "--seed", "3"];

    [Fact]
    public async Task Train_Phantoms_WritesCheckpointHistoryMetricsAndCurves()
    {
        using var temp = new TempFolder();
        var (phantomExit, _, _) = await CliRunner.RunAsync("phantoms", "--out", temp.Path("data"), "--count", "8", "--shape", "64", "64", "48", "--uncompressed");
        Assert.Equal(0, phantomExit);

        var (exit, output, error) = await CliRunner.RunAsync(["train", temp.Path("data"), "--out", temp.Path("run"), "--epochs", "2", .. SmallModel]);

        Assert.True(exit == 0, error);
        Assert.Contains("data: 6 training scans (3 normal, 3 abnormal), 2 validation scans (1 normal, 1 abnormal)", output);
        Assert.Contains("Epoch 1/2: done", output);           // the per-epoch bar, as plain lines (not a terminal)
        Assert.Matches(@"Epoch 2 - [0-9.]+s - [0-9.]+ samples/s - loss: [0-9.]+ - acc: [0-9.]+ - val_loss", output);
        Assert.Contains("confusion matrix (validation, best epoch):", output);
        Assert.Contains("tensor cache", output);
        Assert.True(File.Exists(Path.Combine(temp.Path("run"), "checkpoint", "weights.dat")));
        var history = JsonNode.Parse(File.ReadAllText(Path.Combine(temp.Path("run"), "history.json")))!["epochs"]!.AsArray();
        Assert.Equal(2, history.Count);
        Assert.All(history, epoch => Assert.InRange((double)epoch!["val_acc"]!, 0, 1));
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(temp.Path("run"), "metrics.json")))!;
        var confusion = metrics["validation"]!["confusionMatrix"]!;
        Assert.Equal(2, (int)confusion["truePositives"]! + (int)confusion["falsePositives"]! + (int)confusion["trueNegatives"]! + (int)confusion["falseNegatives"]!);
        var split = JsonNode.Parse(File.ReadAllText(Path.Combine(temp.Path("run"), "split.json")))!;
        Assert.Equal(6, split["training"]!.AsArray().Count);
        Assert.Equal(2, split["validation"]!.AsArray().Count);
        Assert.Equal("LPS", (string?)split["orientation"]); // the phantoms' orientation, for the export's manifest
        byte[] png = File.ReadAllBytes(Path.Combine(temp.Path("run"), "curves.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);

        // A second run over the same data reuses every cached tensor.
        var (again, secondOutput, _) = await CliRunner.RunAsync(["train", temp.Path("data"), "--out", temp.Path("run2"), "--epochs", "1", .. SmallModel]);
        Assert.Equal(0, again);
        Assert.Contains("0 preprocessed, 8 reused", secondOutput);
    }

    [Fact]
    public async Task Train_CudaWithoutCuda_FailsClearly()
    {
        using var temp = new TempFolder();
        await CliRunner.RunAsync("phantoms", "--out", temp.Path("data"), "--count", "4", "--shape", "64", "64", "48", "--uncompressed");

        var (exit, _, error) = await CliRunner.RunAsync(["train", temp.Path("data"), "--out", temp.Path("run"), "--device", "cuda", .. SmallModel]);

        Assert.Equal(2, exit);
        Assert.Contains("CUDA requested but not available: this build uses TorchSharp-cpu / no GPU found", error);
    }

    [Fact]
    public async Task Train_FolderWithoutScans_NamesTheExpectedLayout()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.Path("empty"));

        var (exit, _, error) = await CliRunner.RunAsync("train", temp.Path("empty"), "--out", temp.Path("run"));

        Assert.Equal(2, exit);
        Assert.Contains("no scans found", error);
        Assert.Contains("expected CT-0/ and CT-23/", error);
    }

    [Fact]
    public async Task Train_InputBelowTheModelMinimum_IsRefused()
    {
        using var temp = new TempFolder();
        await CliRunner.RunAsync("phantoms", "--out", temp.Path("data"), "--count", "4", "--shape", "64", "64", "48", "--uncompressed");

        var (exit, _, error) = await CliRunner.RunAsync("train", temp.Path("data"), "--out", temp.Path("run"), "--input", "32", "32", "32");

        Assert.Equal(2, exit);
        Assert.Contains("at least 46", error);
    }
}
