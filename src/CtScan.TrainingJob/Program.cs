using System.CommandLine;
using CtScan.Cli.Commands;

// The training image's executable: `ctscan train …` (in the job, `train --from-storage --account-url …`), the same verb
// as the full CLI's. SIGTERM (the job's replica timeout) cancels the run: the report is not written, nothing is promoted.
var root = new RootCommand("ctscan (training image): the retraining job, `ctscan train --from-storage`, and local training runs")
{
    TrainCommand.Create(),
};
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
