using CtScan.Cli.Progress;

namespace CtScan.Cli.Tests.Progress;

public sealed class ProgressDisplayTests
{
    [Fact]
    public void LineDisplay_ReportsInSteps_PrintsEveryTenPercentOnceAndADoneLine()
    {
        var output = new StringWriter();
        var display = ProgressDisplay.Create(output);

        using (var bar = display.Start("epoch 1", 1000, ProgressUnit.Items))
        {
            for (int value = 0; value <= 1000; value += 25) bar.Report(value);
            bar.Complete();
        }

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("epoch 1: started (1000)", lines[0]);
        Assert.Equal(["10%", "20%", "30%", "40%", "50%", "60%", "70%", "80%", "90%"], lines[1..^1].Select(l => l.Split(' ')[2]));
        Assert.StartsWith("epoch 1: 50% (500 of 1000, ", lines[5]);
        Assert.StartsWith("epoch 1: done, 1000 in ", lines[^1]);
        Assert.Equal(11, lines.Length);
    }

    [Fact]
    public void Displays_ReportWithDetail_ShowTheLiveFigures()
    {
        var lines = new StringWriter();
        var terminal = new StringWriter();

        foreach (var (writer, interactive) in new[] { (lines, false), (terminal, true) })
        {
            using var bar = ProgressDisplay.Create(writer, interactive).Start("Epoch 1/3", 10);
            bar.Report(5, "loss: 0.6931 - acc: 0.5000");
            bar.Complete();
        }

        Assert.Contains("Epoch 1/3: 50% (5 of 10, ", lines.ToString());
        Assert.Contains(") - loss: 0.6931 - acc: 0.5000", lines.ToString());
        Assert.Contains("5 of 10", terminal.ToString());
        Assert.Contains("- loss: 0.6931 - acc: 0.5000", terminal.ToString());
    }

    [Fact]
    public void LineDisplay_AbandonedBar_SaysWhereItStopped()
    {
        var output = new StringWriter();
        using (var bar = ProgressDisplay.Create(output).Start("CT-0.zip", 2_000_000, ProgressUnit.Bytes, initial: 500_000))
        {
            bar.Report(1_500_000);
        }

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("CT-0.zip: started (2.0 MB, resuming at 500.0 KB)", lines[0]);
        Assert.Equal("CT-0.zip: stopped at 1.5 MB of 2.0 MB", lines[^1]);
    }

    [Fact]
    public void TerminalDisplay_Complete_RedrawsOneLineWithBarAndPercentage()
    {
        var output = new StringWriter();
        using (var bar = ProgressDisplay.Create(output, interactive: true).Start("CT-0.zip", 1000, ProgressUnit.Bytes))
        {
            bar.Report(500);
            bar.Report(1000);
            bar.Complete();
        }

        string text = output.ToString();
        Assert.StartsWith("\rCT-0.zip [", text);
        Assert.Contains($"[{new string('#', 30)}] 100.0% 1.0 KB of 1.0 KB ", text);
        Assert.EndsWith(Environment.NewLine, text);
        Assert.Single(text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }
}
