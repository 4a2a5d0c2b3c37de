using System.Diagnostics;
using Azure;
using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.LocalHost;
using CtScan.Phantoms;
using CtScan.Tests;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// The WebJobs host in-process with the default container and queue names, on an Azurite of its own: a host lists
/// every blob in <c>scans</c>, so the shared emulator's leftovers from other tests would queue ahead of these scans.
/// </summary>
public sealed class LocalHostSmokeTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task LocalHost_NormalAndAbnormalPhantom_BothScoredByCurrentModel()
    {
        var cache = Directory.CreateTempSubdirectory("ctscan-localhost-test-");
        try
        {
            using var host = await LocalPipelineHost.BuildAsync(PipelineTestContext.InProcessHost(azurite.ConnectionString, cache.FullName));
            using var services = new PipelineServices(PipelineOptions.ForConnectionString(azurite.ConnectionString) with { ModelCacheDirectory = Path.Combine(cache.FullName, "cli-models") });
            var published = await services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(PipelineTestContext.ModelHigh));
            Assert.Contains(published.Outcome, new[] { PublishOutcome.Promoted, PublishOutcome.AlreadyCurrent });

            await host.StartAsync();
            var scans = new Dictionary<string, byte[]>();
            foreach (var label in new[] { PhantomLabel.Normal, PhantomLabel.Abnormal })
            {
                string path = Path.Combine(cache.FullName, $"{label}.nii.gz");
                ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 16), Seed = 21, Label = label });
                scans[$"smoke/{Guid.NewGuid():N}/{label.ToString().ToLowerInvariant()} scan.nii.gz"] = File.ReadAllBytes(path);
            }

            var clock = Stopwatch.StartNew();
            foreach (var (name, bytes) in scans)
                await services.Clients.Scans.UploadBlobAsync(name, BinaryData.FromBytes(bytes));

            var results = new Dictionary<string, (ScanResult Result, TimeSpan Seen)>();
            while (results.Count < scans.Count && clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                foreach (var name in scans.Keys.Where(n => !results.ContainsKey(n)))
                    if ((await services.Results.TryReadAsync(name + ".json"))?.Result is { } result)
                        results[name] = (result, clock.Elapsed);
                await Task.Delay(250);
            }
            await host.StopAsync();

            Assert.Equal(scans.Count, results.Count);
            var manifest = PipelineTestContext.Manifest(PipelineTestContext.ModelHigh);
            foreach (var (name, (result, seen)) in results)
            {
                output.WriteLine($"{name}: {result.Status} p={result.ProbabilityAbnormal:F4} {result.Label} after {seen.TotalSeconds:F1} s; timings {string.Join(", ", result.TimingsMs.Select(kv => $"{kv.Key}={kv.Value:F0}"))}");
                Assert.Equal(ScanStatus.Scored, result.Status);
                Assert.Equal(new ModelReference(manifest.Version, manifest.Sha256), result.Model);
                Assert.Equal(Sha256Hex.Of(scans[name]), result.Input!.Sha256);
                Assert.InRange(result.ProbabilityAbnormal!.Value, 0, 1);
                string json = (await services.Clients.Results.GetBlobClient(name + ".json").DownloadContentAsync()).Value.Content.ToString();
                Assert.Empty(CtScan.Tests.Contracts.ResultSchema.Errors(json));
            }
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }

    /// <summary>What `ctscan up` runs: scoring, then the explain step from its own queue, linking the map in the result.</summary>
    [Fact]
    public async Task LocalHost_ExplainOn_ResultGetsItsMapAndMontage()
    {
        var cache = Directory.CreateTempSubdirectory("ctscan-localhost-test-");
        try
        {
            using var host = await LocalPipelineHost.BuildAsync(PipelineTestContext.InProcessHost(azurite.ConnectionString, cache.FullName,
                new Dictionary<string, string?> { ["CtScan__Explain"] = "true" }));
            using var services = new PipelineServices(PipelineOptions.ForConnectionString(azurite.ConnectionString) with { ModelCacheDirectory = Path.Combine(cache.FullName, "cli-models") });
            await services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(PipelineTestContext.ModelHigh));
            await host.StartAsync();
            string path = Path.Combine(cache.FullName, "abnormal.nii.gz");
            ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 16), Seed = 23, Label = PhantomLabel.Abnormal });
            string name = $"explain/{Guid.NewGuid():N}.nii.gz";
            await services.Clients.Scans.UploadBlobAsync(name, BinaryData.FromBytes(File.ReadAllBytes(path)));

            ScanResult? result = null;
            var clock = Stopwatch.StartNew();
            while (result?.Explanation is null && clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                result = (await services.Results.TryReadAsync(name + ".json"))?.Result;
                await Task.Delay(250);
            }
            await host.StopAsync();

            Assert.NotNull(result?.Explanation);
            output.WriteLine($"{name}: explained after {clock.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(ScanStatus.Scored, result.Status);
            Assert.Equal(new ScanExplanation(ExplanationMethods.Occlusion, name + ExplanationMethods.MapSuffix, name + ExplanationMethods.MontageSuffix), result.Explanation);
            Assert.True(await services.Clients.Results.GetBlobClient(result.Explanation.Map).ExistsAsync());
            Assert.True(await services.Clients.Results.GetBlobClient(result.Explanation.Montage).ExistsAsync());
            string json = (await services.Clients.Results.GetBlobClient(name + ".json").DownloadContentAsync()).Value.Content.ToString();
            Assert.Empty(CtScan.Tests.Contracts.ResultSchema.Errors(json));
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }
}

/// <summary>
/// A blob trigger that keeps failing ends in webjobs-blobtrigger-poison; the poison trigger re-ingests it later with
/// growing delays and records a failure once the retry window (here 4 s) has closed; on an Azurite of its own (see
/// <see cref="LocalHostSmokeTests"/>).
/// </summary>
public sealed class LocalHostPoisonTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private sealed class FailingIngestor(PipelineServices s) : ScanIngestor(s.Clients, s.Models, s.Results)
    {
        public int Calls;

        public override Task<IngestResult> IngestAsync(string scanName, Stream content, IngestSource source, CancellationToken cancellationToken = default)
        {
            if (!scanName.StartsWith("poison-test/", StringComparison.Ordinal)) return base.IngestAsync(scanName, content, source, cancellationToken);
            Interlocked.Increment(ref Calls);
            throw new IOException("simulated: the connection to storage was reset");
        }
    }

    [Fact]
    public async Task LocalHost_BlobTriggerKeepsFailing_DelayedReIngestsThenFailedAfterWindow()
    {
        var cache = Directory.CreateTempSubdirectory("ctscan-localhost-poison-");
        FailingIngestor? failing = null;
        try
        {
            using var host = await LocalPipelineHost.BuildAsync(PipelineTestContext.InProcessHost(azurite.ConnectionString, cache.FullName) with
            {
                Overrides = new Dictionary<string, string?>
                {
                    ["extensions:blobs:poisonBlobThreshold"] = "2",
                    ["extensions:queues:visibilityTimeout"] = "00:00:01",
                    ["extensions:queues:maxPollingInterval"] = "00:00:01",
                },
                ConfigurePipeline = o => o with
                {
                    ModelCacheDirectory = Path.Combine(cache.FullName, "models"), SpoolDirectory = cache.FullName,
                    RetryWindow = TimeSpan.FromSeconds(4), RetryBaseDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromSeconds(1),
                },
                ConfigureServices = services =>
                {
                    services.AddSingleton<ScanIngestor>(sp => failing ??= new FailingIngestor(sp.GetRequiredService<PipelineServices>()));
                    services.AddSingleton(sp =>
                    {
                        var s = sp.GetRequiredService<PipelineServices>();
                        return new PoisonHandler(s.Clients, s.Results, ingestor: sp.GetRequiredService<ScanIngestor>(), schedule: s.Retries);
                    });
                },
            });
            using var services = new PipelineServices(PipelineOptions.ForConnectionString(azurite.ConnectionString));
            string name = $"poison-test/{Guid.NewGuid():N}.nii.gz";
            await host.StartAsync();
            await services.Clients.Scans.UploadBlobAsync(name, BinaryData.FromString("any content"));

            ScanResult? result = null;
            var clock = Stopwatch.StartNew();
            while (result is null && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(250);
                result = (await services.Results.TryReadAsync(name + ".json"))?.Result;
            }
            await host.StopAsync();

            Assert.NotNull(result);
            Assert.Equal(ScanStatus.Failed, result.Status);
            Assert.Equal(PipelineErrorCodes.RetriesExhausted, result.Error!.Code);
            // The blob trigger's 2 immediate tries, then one delayed re-ingest a second apart until the 4 s window closed.
            Assert.Matches(@"^PreprocessScan failed on .* and on \d delayed re-ingest\(s\) over the retry window of 4 s; last error: IOException: simulated: the connection to storage was reset\.", result.Error.Message);
            int reIngests = int.Parse(System.Text.RegularExpressions.Regex.Match(result.Error.Message, @"and on (\d) delayed").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(reIngests, 2, 5);
            Assert.Equal(2 + reIngests, failing!.Calls);
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }
}
