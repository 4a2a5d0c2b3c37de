using System.Diagnostics;
using System.Globalization;

namespace CtScan.Cli.Progress;

/// <summary>What a progress bar counts: bytes (shown as KB/MB/GB and bytes per second) or plain items (epochs, batches).</summary>
public enum ProgressUnit
{
    Bytes,
    Items,
}

/// <summary>
/// Shows the progress of long steps (a download, a training epoch) on a <see cref="TextWriter"/>: a bar redrawn in place on an
/// interactive terminal, plain lines at every 10 % otherwise (logs, pipes, tests).
/// </summary>
public abstract class ProgressDisplay
{
    /// <summary>
    /// A display for <paramref name="output"/>: interactive (a redrawn bar) when it is the console's own output and that is a
    /// terminal, plain lines otherwise. <paramref name="interactive"/> forces one or the other.
    /// </summary>
    public static ProgressDisplay Create(TextWriter output, bool? interactive = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        bool isTerminal = interactive ?? (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);
        return isTerminal ? new TerminalProgressDisplay(output) : new LineProgressDisplay(output);
    }

    /// <summary>Starts a bar named <paramref name="label"/> at <paramref name="initial"/> of <paramref name="total"/> (null: unknown).</summary>
    public abstract ProgressBar Start(string label, long? total, ProgressUnit unit = ProgressUnit.Items, long initial = 0);

    internal static string Format(long value, ProgressUnit unit) => unit == ProgressUnit.Bytes ? FormatBytes(value) : value.ToString(CultureInfo.InvariantCulture);

    internal static string FormatBytes(double bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        int index = 0;
        while (Math.Abs(bytes) >= 1000 && index < units.Length - 1)
        {
            bytes /= 1000;
            index++;
        }
        return index == 0 ? $"{bytes:0} B" : string.Create(CultureInfo.InvariantCulture, $"{bytes:0.0} {units[index]}");
    }

    internal static string FormatRate(double perSecond, ProgressUnit unit) =>
        unit == ProgressUnit.Bytes ? $"{FormatBytes(perSecond)}/s" : string.Create(CultureInfo.InvariantCulture, $"{perSecond:0.0}/s");
}

/// <summary>One bar of a <see cref="ProgressDisplay"/>. Report absolute values; dispose (or <see cref="Complete"/>) when done.</summary>
public abstract class ProgressBar : IDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _completed;

    protected ProgressBar(string label, long? total, ProgressUnit unit, long initial)
    {
        Label = label;
        Total = total;
        Unit = unit;
        Initial = initial;
        Value = initial;
    }

    public string Label { get; }

    /// <summary>The end value; null when unknown (then no percentage is shown).</summary>
    public long? Total { get; private set; }

    public ProgressUnit Unit { get; }

    /// <summary>Where this bar started (a resumed download starts above 0); the speed counts only what came after.</summary>
    public long Initial { get; }

    public long Value { get; private set; }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Units per second since the bar started, not counting <see cref="Initial"/>.</summary>
    public double Rate => Elapsed.TotalSeconds > 0 ? (Value - Initial) / Elapsed.TotalSeconds : 0;

    /// <summary>The fraction done in [0, 1], or null when the total is unknown.</summary>
    public double? Fraction => Total is > 0 ? Math.Clamp((double)Value / Total.Value, 0, 1) : null;

    /// <summary>Live figures shown after the amount (e.g. "loss 0.6931 acc 0.5000"); null for none.</summary>
    public string? Detail { get; private set; }

    /// <summary>Sets the current value (absolute, not an increment).</summary>
    public void Report(long value)
    {
        Value = value;
        OnReport();
    }

    /// <summary>Sets the current value and the live figures shown with it.</summary>
    public void Report(long value, string? detail)
    {
        Detail = detail;
        Report(value);
    }

    /// <summary>Sets the total once it is known (e.g. from an HTTP response).</summary>
    public void SetTotal(long? total) => Total = total;

    /// <summary>Marks the bar finished and prints its last state.</summary>
    public void Complete()
    {
        if (_completed) return;
        _completed = true;
        OnComplete();
    }

    public void Dispose()
    {
        if (!_completed)
        {
            _completed = true;
            OnAbandon();
        }
        GC.SuppressFinalize(this);
    }

    protected abstract void OnReport();

    protected abstract void OnComplete();

    /// <summary>Disposed without <see cref="Complete"/> (a failure or cancellation): leave the output tidy.</summary>
    protected abstract void OnAbandon();

    protected string Amount() => Total is { } total
        ? $"{ProgressDisplay.Format(Value, Unit)} of {ProgressDisplay.Format(total, Unit)}"
        : ProgressDisplay.Format(Value, Unit);

    /// <summary><see cref="Detail"/> with a leading separator, or nothing.</summary>
    protected string DetailSuffix() => Detail is { Length: > 0 } detail ? $" - {detail}" : "";
}
