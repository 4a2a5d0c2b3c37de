using CtScan.Nifti;
using CtScan.Tensors;

namespace CtScan.Cli.Commands;

/// <summary>Turns the failures a user can cause (bad files, bad arguments) into one clear line and an exit code.</summary>
internal static class CliErrors
{
    public const int Success = 0;
    public const int BadInput = 2;
    public const int Cancelled = 130;

    public static async Task<int> RunAsync(Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        try
        {
            await action(cancellationToken);
            return Success;
        }
        catch (Exception error) when (error is NiftiFormatException or NpyFormatException or FileNotFoundException
                                          or DirectoryNotFoundException or ArgumentException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {error.Message}");
            return BadInput;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine("cancelled");
            return Cancelled;
        }
    }
}
