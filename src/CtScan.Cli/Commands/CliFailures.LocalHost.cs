using CtScan.LocalHost.Azurite;

namespace CtScan.Cli.Commands;

internal static partial class CliFailures
{
    static partial void ClassifyLocalHost(Exception failure, ref CliFailure? result)
    {
        if (failure is AzuriteException azurite)
            result = new(azurite.Failure == AzuriteFailure.PortInUse ? CliErrors.PortInUse : CliErrors.MissingPrerequisite, OneLine(azurite.Message));
        else if (failure is CtScan.Viewer.ViewerPortInUseException viewer)
            result = new(CliErrors.PortInUse, OneLine(viewer.Message));
    }
}
