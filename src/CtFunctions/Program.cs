using CtScan.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = FunctionsApplication.CreateBuilder(args);
builder.Services.AddApplicationInsightsTelemetryWorkerService().ConfigureFunctionsApplicationInsights();
// One PipelineServices per app instance: the same handlers, model cache and registry the local host wires up.
builder.Services.AddSingleton(sp => new PipelineServices(
    PipelineOptions.FromSettings(key => builder.Configuration[key]).Validated(), sp.GetRequiredService<ILoggerFactory>()));
builder.Services.AddSingleton(sp => sp.GetRequiredService<PipelineServices>().Ingestor);
builder.Services.AddSingleton(sp => sp.GetRequiredService<PipelineServices>().Scorer);
builder.Services.AddSingleton(sp => sp.GetRequiredService<PipelineServices>().Poison);
builder.Services.AddSingleton(sp => new ScheduledSweep(sp.GetRequiredService<PipelineServices>(),
    ScanSweepSettings.FromSettings(key => builder.Configuration[key]), sp.GetRequiredService<ILoggerFactory>()));
builder.Build().Run();
