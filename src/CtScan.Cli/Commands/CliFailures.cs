using CtScan.Cli.Datasets;
using CtScan.Nifti;
using CtScan.Scoring;
using CtScan.Tensors;

namespace CtScan.Cli.Commands;

/// <summary>A failure the user can cause or fix: its exit code and the one line that names the cause.</summary>
internal readonly record struct CliFailure(int ExitCode, string Message);

/// <summary>Names the failures a user can cause or fix (see <see cref="CliErrors"/> for the exit codes); null for anything else.</summary>
internal static partial class CliFailures
{
    private const int MaxLineLength = 1000;

    public static CliFailure? Classify(Exception failure)
    {
        CliFailure? specific = null;
        ClassifyLocalHost(failure, ref specific);
        if (specific is null) ClassifyServices(failure, ref specific);
        if (specific is not null) return specific;
        switch (failure)
        {
            case ModelLoadException:
                return new(CliErrors.ModelUnusable, OneLine(failure.Message));
            case NiftiFormatException or NpyFormatException or IOException or ArgumentException or UnauthorizedAccessException
                or DatasetDownloadException or InvalidDataException:
                // IOException covers FileNotFoundException and DirectoryNotFoundException (whose messages name the path) and a full disk.
                return new(CliErrors.BadInput, OneLine(failure.Message));
            case TimeoutException:
                return new(CliErrors.Failure, OneLine(failure.Message));
        }
        return null;
    }

    /// <summary>The message on one line (line breaks become spaces), at most 1000 characters.</summary>
    public static string OneLine(string message)
    {
        string line = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= MaxLineLength ? line : line[..MaxLineLength] + " …";
    }

    /// <summary>
    /// The local host's failures (Azurite missing, a port in use): implemented in CliFailures.LocalHost.cs, which
    /// ctscan compiles and the training job's executable (no local host) does not.
    /// </summary>
    static partial void ClassifyLocalHost(Exception failure, ref CliFailure? result);

    /// <summary>
    /// The pipeline's and the storage account's failures: implemented in CliFailures.Services.cs, which ctscan and the
    /// training job compile and the native launcher (src/CtScan.Cli.Native: local files only, no Azure SDK) does not.
    /// </summary>
    static partial void ClassifyServices(Exception failure, ref CliFailure? result);
}
