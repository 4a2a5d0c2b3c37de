namespace CtScan.Preprocessing;

/// <summary>How many NaN and infinite values a transform met (and replaced by its documented rule).</summary>
public readonly record struct NonFiniteCounts(long NaN, long PositiveInfinity, long NegativeInfinity)
{
    public long Total => NaN + PositiveInfinity + NegativeInfinity;

    public static NonFiniteCounts operator +(NonFiniteCounts a, NonFiniteCounts b) =>
        new(a.NaN + b.NaN, a.PositiveInfinity + b.PositiveInfinity, a.NegativeInfinity + b.NegativeInfinity);
}
