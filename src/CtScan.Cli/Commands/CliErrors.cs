using System.CommandLine;
using CtScan.Cli.Datasets;
using CtScan.Nifti;
using CtScan.Scoring;
using CtScan.Tensors;

namespace CtScan.Cli.Commands;

/// <summary>Turns the failures a user can cause (bad files, bad arguments) into one clear line and an exit code.</summary>
internal static class CliErrors
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadInput = 2;
    public const int Cancelled = 130;

    /// <summary>Runs a verb's action with the invocation's output writer; maps user-caused failures to exit codes.</summary>
    public static async Task<int> RunAsync(ParseResult parse, Func<TextWriter, CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            await action(parse.InvocationConfiguration.Output, cancellationToken);
            return Success;
        }
        catch (Exception failure) when (failure is NiftiFormatException or NpyFormatException or FileNotFoundException
                                          or DirectoryNotFoundException or ArgumentException or UnauthorizedAccessException
                                          or DatasetDownloadException or ModelLoadException or InvalidDataException
                                          or Pipeline.PipelineConfigurationException or Pipeline.ModelRegistryException)
        {
            error.WriteLine($"error: {failure.Message}");
            return BadInput;
        }
        catch (Exception failure) when (failure is TimeoutException or Azure.RequestFailedException)
        {
            // Not the input's fault: the storage account or the pipeline did not answer as expected.
            error.WriteLine($"error: {failure.Message}");
            return Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error.WriteLine("cancelled");
            return Cancelled;
        }
    }
}
