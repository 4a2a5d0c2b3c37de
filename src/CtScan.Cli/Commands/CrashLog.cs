using System.Globalization;

namespace CtScan.Cli.Commands;

/// <summary>
/// Where an unexpected exception's full trace goes, so that the terminal shows one line and a bug report still has
/// everything: <c>$TMPDIR/ctscan/crash-&lt;UTC time&gt;-&lt;pid&gt;.txt</c> (or the folder in <see cref="FolderVariable"/>).
/// </summary>
internal static class CrashLog
{
    public const string FolderVariable = "CTSCAN_CRASH_DIR";

    /// <summary>Writes the command line, the time and the exception; false (with the reason in <paramref name="pathOrReason"/>) when even that fails.</summary>
    public static bool TryWrite(Exception failure, IEnumerable<string> commandLine, out string pathOrReason)
    {
        try
        {
            string folder = Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } configured
                ? configured
                : Path.Combine(Path.GetTempPath(), "ctscan");
            Directory.CreateDirectory(folder);
            var now = DateTimeOffset.UtcNow;
            string path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"crash-{now:yyyyMMdd-HHmmss-fff}-{Environment.ProcessId}.txt"));
            File.WriteAllText(path,
                $"ctscan {string.Join(' ', commandLine)}{Environment.NewLine}" +
                $"at {now:O}, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}{Environment.NewLine}{Environment.NewLine}" +
                failure + Environment.NewLine);
            pathOrReason = path;
            return true;
        }
        catch (Exception writing) when (writing is IOException or UnauthorizedAccessException)
        {
            pathOrReason = writing.Message;
            return false;
        }
    }
}
