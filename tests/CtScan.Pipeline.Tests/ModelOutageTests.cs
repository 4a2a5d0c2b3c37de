using System.Diagnostics;
using CtScan.Contracts;
using CtScan.LocalHost;
using CtScan.Phantoms;
using CtScan.Tests;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// A model-loading outage shorter than the retry window costs time, not results: the local host (host.json with a 1 s
/// visibility timeout, so the hosts' own 5 tries take seconds) runs with no model current for 20 s while scans arrive,
/// then a model is published. Every scan must end <c>scored</c>, and no <c>failed</c> result may appear meanwhile (on
/// the hosts' own retries alone, all three were <c>failed</c> within seconds). On an Azurite of its own.
/// </summary>
public sealed class ModelOutageTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task LocalHost_NoModelForTwentySeconds_ScansRetriedAndScoredNeverFailed()
    {
        var cache = Directory.CreateTempSubdirectory("ctscan-model-outage-");
        try
        {
            using var host = await LocalPipelineHost.BuildAsync(PipelineTestContext.InProcessHost(azurite.ConnectionString, cache.FullName,
                new Dictionary<string, string?>
                {
                    ["extensions:queues:visibilityTimeout"] = "00:00:01",
                    ["extensions:queues:maxPollingInterval"] = "00:00:01",
                    ["CtScan:ModelRefreshSeconds"] = "1",
                    ["CtScan:RetryBaseDelaySeconds"] = "1",
                    ["CtScan:RetryMaxDelaySeconds"] = "4",
                    // The sweep would ingest scans without a result again and so hide what the retries do.
                    ["CtScan:PendingSweepSeconds"] = "0",
                }));
            using var services = new PipelineServices(PipelineOptions.ForConnectionString(azurite.ConnectionString) with { ModelCacheDirectory = Path.Combine(cache.FullName, "client") });
            await host.StartAsync();
            try
            {
                string prefix = $"outage/{Guid.NewGuid():N}/";
                var scans = new Dictionary<string, byte[]>();
                for (int i = 0; i < 3; i++)
                {
                    string path = Path.Combine(cache.FullName, $"p{i}.nii.gz");
                    ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 16), Seed = 600 + i, Label = PhantomLabel.Normal });
                    scans[prefix + $"scan-{i}.nii.gz"] = File.ReadAllBytes(path);
                }
                foreach (var (name, bytes) in scans)
                {
                    await services.Clients.Scans.UploadBlobAsync(name, BinaryData.FromBytes(bytes));
                    await Task.Delay(1100); // Azurite's blob scan can skip a blob committed in the same second as the last one it saw
                }

                // No model for 20 s: every attempt fails to load one.
                var failedMeanwhile = new List<string>();
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(20))
                {
                    foreach (var name in scans.Keys)
                        if ((await services.Results.TryReadAsync(ScanNames.ResultBlobName(name)))?.Result is { Status: ScanStatus.Failed } failed && !failedMeanwhile.Contains(name))
                        {
                            failedMeanwhile.Add(name);
                            output.WriteLine($"{name}: failed after {clock.Elapsed.TotalSeconds:F1} s: {failed.Error?.Message}");
                        }
                    await Task.Delay(500);
                }
                await services.Registry.PublishAsync(Fixtures.Path("models", "fixture-auc070"), new PublishOptions { Promote = true });

                var results = new Dictionary<string, ScanResult>();
                while (results.Count < scans.Count && clock.Elapsed < TimeSpan.FromSeconds(80))
                {
                    foreach (var name in scans.Keys)
                        if ((await services.Results.TryReadAsync(ScanNames.ResultBlobName(name)))?.Result is { Status: ScanStatus.Scored } scored) results[name] = scored;
                    await Task.Delay(250);
                }
                output.WriteLine($"{results.Count} of {scans.Count} scored {clock.Elapsed.TotalSeconds:F1} s after the last upload; {failedMeanwhile.Count} failed during the outage");

                Assert.Empty(failedMeanwhile);
                Assert.Equal(scans.Count, results.Count);
                Assert.All(results, r => Assert.Equal((Sha256Hex.Of(scans[r.Key]), "fixture-auc070"), (r.Value.Input!.Sha256, r.Value.Model!.Version)));
            }
            finally
            {
                await host.StopAsync();
            }
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }
}
