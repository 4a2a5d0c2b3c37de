using System.Globalization;

namespace CtScan.Cli.Progress;

/// <summary>A bar redrawn in place (carriage return) at most ten times a second: label, bar, percentage, amount, speed.</summary>
internal sealed class TerminalProgressDisplay(TextWriter output) : ProgressDisplay
{
    public override ProgressBar Start(string label, long? total, ProgressUnit unit = ProgressUnit.Items, long initial = 0) =>
        new TerminalBar(output, label, total, unit, initial);

    private sealed class TerminalBar(TextWriter output, string label, long? total, ProgressUnit unit, long initial)
        : ProgressBar(label, total, unit, initial)
    {
        private const int Width = 30;
        private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
        private TimeSpan? _lastDraw;
        private int _lastLength;

        protected override void OnReport()
        {
            if (_lastDraw is { } last && Elapsed - last < RedrawInterval) return;
            _lastDraw = Elapsed;
            Draw();
        }

        protected override void OnComplete()
        {
            Draw();
            output.WriteLine();
        }

        protected override void OnAbandon()
        {
            Draw();
            output.WriteLine(" (stopped)");
        }

        private void Draw()
        {
            string bar;
            if (Fraction is { } f)
            {
                int filled = (int)Math.Round(f * Width);
                bar = string.Create(CultureInfo.InvariantCulture, $"[{new string('#', filled)}{new string('-', Width - filled)}] {f * 100,5:0.0}%");
            }
            else
            {
                bar = $"[{new string('?', Width)}]";
            }
            string line = $"{Label} {bar} {Amount()} {ProgressDisplay.FormatRate(Rate, Unit)}{DetailSuffix()}";
            // Pad over the remains of a longer previous line.
            output.Write($"\r{line.PadRight(_lastLength)}");
            _lastLength = line.Length;
            output.Flush();
        }
    }
}
