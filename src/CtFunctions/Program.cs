using CtFunctions;
using CtScan.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Before the worker starts its threads and loads ONNX Runtime (NativeAllocator: glibc keeps freed memory per arena).
NativeAllocator.LimitArenas();
var builder = FunctionsApplication.CreateBuilder(args);
builder.Services.AddApplicationInsightsTelemetryWorkerService().ConfigureFunctionsApplicationInsights();
builder.Services.AddCtScanPipeline(builder.Configuration);
builder.Build().Run();
