namespace CtScan.Fuzz;

/// <summary>What every fuzz target accepts as a clean refusal: the parser's own exception with a message that names
/// the cause. Anything else (another exception type, or an empty message) is a finding.</summary>
internal static class Refusal
{
    /// <summary>True when <paramref name="message"/> says something beyond the bare <paramref name="prefix"/>.</summary>
    public static bool Names(string message, string prefix) =>
        message.StartsWith(prefix, StringComparison.Ordinal) && message.Length > prefix.Length + 8;
}
