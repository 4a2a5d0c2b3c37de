using System.CommandLine;
using CtScan.Pipeline;

namespace CtScan.Cli.Commands;

/// <summary>
/// <c>ctscan replay [--no-failed]</c>: once the cause of an outage is fixed, puts the work that ran out of retries back
/// into the pipeline (<see cref="PoisonReplayer"/>) and prints what it did and what the poison queues hold now.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var noFailed = new Option<bool>("--no-failed") { Description = "Only the poison queues: leave scans with a failed (retries-exhausted) result alone" };
        var storage = new StorageOptions();
        var command = new Command("replay",
            "Move poison messages back onto their queues and re-ingest scans whose retries ran out (run once the cause is fixed)") { noFailed };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(parse, async (stdout, ct) =>
        {
            using var services = new PipelineServices(storage.Resolve(parse));
            var report = await new PoisonReplayer(services).ReplayAsync(!parse.GetValue(noFailed), ct);
            foreach (var (queue, count) in report.Requeued)
                stdout.WriteLine($"{queue}: {count} score request(s) moved back to {services.Options.ScoreRequestsQueue}");
            foreach (var scan in report.ReIngested) stdout.WriteLine($"ingested again: {scan}");
            stdout.WriteLine($"{report.Requeued.Values.Sum()} request(s) requeued, {report.ReIngested.Count} scan(s) ingested again, " +
                $"{report.AlreadyAnswered} already answered, {report.Gone} gone, {report.Unreadable} unreadable left in place");
            foreach (var count in await PoisonQueues.CountAsync(services.Clients, ct))
                stdout.WriteLine($"{count.Queue.Name}: {count.ApproximateMessages} message(s) now{(count.Queue.HasTrigger ? "" : " (no trigger reads it)")}");
        }, cancellationToken));
        return command;
    }
}
