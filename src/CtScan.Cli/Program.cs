using System.CommandLine;
using CtScan.Cli;

// Ctrl+C / SIGTERM cancel the verb's token; `up` needs a few seconds to stop its host and Azurite cleanly.
return await CtScanCommand.InvokeAsync(args, new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
