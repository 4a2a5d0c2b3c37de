using System.Runtime.ExceptionServices;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Host.Timers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CtScan.LocalHost;

/// <summary>
/// The first failure of a trigger listener in this host, if any. The WebJobs SDK's queue listener gives up when
/// storage stays unreachable past the client's retries (a 30 s outage is enough) and, by default, ends the process;
/// the Functions host restarts its job host instead. <see cref="LocalPipelineHost"/> does the same when
/// <see cref="LocalHostSettings.RestartOnListenerFault"/> is set: the fault is recorded here, the host stops, and
/// <see cref="LocalPipelineHost.RunAsync"/> builds a new one.
/// </summary>
public sealed class ListenerFaults
{
    private Exception? _fault;

    public Exception? Fault => Volatile.Read(ref _fault);

    internal void Record(Exception fault) => Interlocked.CompareExchange(ref _fault, fault, null);
}

/// <summary>Records a listener's unhandled exception in <see cref="ListenerFaults"/> and stops the host, instead of ending the process.</summary>
internal sealed class StopHostOnListenerFault(ListenerFaults faults, IHostApplicationLifetime lifetime, ILogger<StopHostOnListenerFault> logger)
    : IWebJobsExceptionHandlerFactory, IWebJobsExceptionHandler
{
    public IWebJobsExceptionHandler Create(IHost jobHost) => this;

    public void Initialize(JobHost host) { }

    public Task OnTimeoutExceptionAsync(ExceptionDispatchInfo exceptionInfo, TimeSpan timeoutGracePeriod) => OnUnhandledExceptionAsync(exceptionInfo);

    public Task OnUnhandledExceptionAsync(ExceptionDispatchInfo exceptionInfo)
    {
        ArgumentNullException.ThrowIfNull(exceptionInfo);
        faults.Record(exceptionInfo.SourceException);
        logger.LogCritical("A trigger listener failed ({Error}); stopping this job host so that a new one starts",
            CtScan.Pipeline.RetrySchedule.Brief(exceptionInfo.SourceException));
        lifetime.StopApplication();
        return Task.CompletedTask;
    }
}
