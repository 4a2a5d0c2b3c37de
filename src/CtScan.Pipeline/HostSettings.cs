namespace CtScan.Pipeline;

/// <summary>Reads one host setting the way Functions names them: <c>Section__Key</c>, or <c>Section:Key</c> where configuration has turned the environment's <c>__</c> into <c>:</c>.</summary>
internal static class HostSettings
{
    /// <summary>The setting's value; null when it is absent or empty under both spellings.</summary>
    public static string? Read(Func<string, string?> setting, string key) =>
        setting(key) is { Length: > 0 } value ? value
        : setting(key.Replace("__", ":", StringComparison.Ordinal)) is { Length: > 0 } colon ? colon
        : null;
}
