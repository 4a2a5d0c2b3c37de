using System.Globalization;

namespace CtScan.Cli.Progress;

/// <summary>Plain lines for logs and pipes: one at every 10 % step (every 10 seconds when the total is unknown) and one at the end.</summary>
internal sealed class LineProgressDisplay(TextWriter output) : ProgressDisplay
{
    public override ProgressBar Start(string label, long? total, ProgressUnit unit = ProgressUnit.Items, long initial = 0) =>
        new LineBar(output, label, total, unit, initial);

    private sealed class LineBar : ProgressBar
    {
        private static readonly TimeSpan UnknownTotalInterval = TimeSpan.FromSeconds(10);
        private readonly TextWriter _output;
        private int _lastStep;
        private TimeSpan _lastLine;

        public LineBar(TextWriter output, string label, long? total, ProgressUnit unit, long initial)
            : base(label, total, unit, initial)
        {
            _output = output;
            _lastStep = Step();
            string resumed = initial > 0 ? $", resuming at {ProgressDisplay.Format(initial, unit)}" : "";
            _output.WriteLine($"{label}: started ({(total is { } t ? ProgressDisplay.Format(t, unit) : "size unknown")}{resumed})");
        }

        private int Step() => Fraction is { } f ? (int)Math.Floor(f * 10) : 0;

        protected override void OnReport()
        {
            if (Fraction is not null)
            {
                int step = Step();
                if (step <= _lastStep || step >= 10) return;
                _lastStep = step;
            }
            else
            {
                if (Elapsed - _lastLine < UnknownTotalInterval) return;
                _lastLine = Elapsed;
            }
            _output.WriteLine(Line());
        }

        protected override void OnComplete() =>
            _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Label}: done, {ProgressDisplay.Format(Value, Unit)} in {Elapsed.TotalSeconds:0.0} s ({ProgressDisplay.FormatRate(Rate, Unit)}){DetailSuffix()}"));

        protected override void OnAbandon() => _output.WriteLine($"{Label}: stopped at {Amount()}");

        private string Line() => Fraction is { } f
            ? string.Create(CultureInfo.InvariantCulture, $"{Label}: {Math.Floor(f * 100):0}% ({Amount()}, {ProgressDisplay.FormatRate(Rate, Unit)}){DetailSuffix()}")
            : $"{Label}: {Amount()} ({ProgressDisplay.FormatRate(Rate, Unit)}){DetailSuffix()}";
    }
}
