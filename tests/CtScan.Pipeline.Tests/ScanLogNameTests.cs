using System.Diagnostics;
using CtScan.Phantoms;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.TraceSource;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// Scan names may identify patients: the handlers' log lines name a scan by its content hash unless
/// <see cref="PipelineOptions.LogScanNames"/> allows names. Lines are read from a real logger provider (TraceSource into
/// a listener this test owns), as formatted for any sink.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ScanLogNameTests(AzuriteFixture azurite)
{
    private const string PatientName = "ward 3/doe-jane-1957-03-02/chest.nii.gz";
    private const string Identifying = "doe-jane-1957-03-02";

    [Fact]
    public async Task Handlers_ByDefault_LogTheContentHash_NeverTheScanName()
    {
        var (lines, sha) = await IngestScoreAndRejectAsync(logScanNames: false);

        Assert.DoesNotContain(lines, line => line.Contains(Identifying, StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains($"Queued sha256:{sha} ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains($"Scored sha256:{sha}: ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("Rejected sha256:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Handlers_LogScanNamesOn_LogTheName()
    {
        var (lines, _) = await IngestScoreAndRejectAsync(logScanNames: true);

        Assert.Contains(lines, line => line.Contains($"Queued {PatientName} ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains($"Scored {PatientName}: ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains($"Rejected {Identifying}-bad.nii: ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, null, ScanLogName.Withheld)]
    [InlineData(false, "ab12", "sha256:ab12")]
    [InlineData(true, "ab12", PatientName)]
    public void Of_NameOnlyWhenAllowed(bool allowNames, string? sha256, string expected)
    {
        var options = PipelineOptions.ForConnectionString("UseDevelopmentStorage=true") with { LogScanNames = allowNames };

        Assert.Equal(expected, ScanLogName.Of(options, PatientName, sha256));
    }

    private async Task<(List<string> Lines, string Sha)> IngestScoreAndRejectAsync(bool logScanNames)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, options => options with { LogScanNames = logScanNames });
        await t.PublishAsync(PipelineTestContext.ModelSmall);
        using var writer = new StringWriter();
        using var listener = new TextWriterTraceListener(writer);
        using (var logs = LoggerFactory.Create(builder => builder
                   .SetMinimumLevel(LogLevel.Information)
                   .AddProvider(new TraceSourceLoggerProvider(new SourceSwitch("ctscan-test") { Level = SourceLevels.All }, listener))))
        using (var services = new PipelineServices(t.Options, logs))
        {
            var bytes = t.Phantom(PhantomLabel.Abnormal, seed: 5);
            var ingested = await services.Ingestor.IngestAsync(PatientName, new MemoryStream(bytes), CancellationToken.None);
            Assert.True(ingested.Queued);
            var message = await t.ReceiveRequestAsync();
            var scored = await services.Scorer.HandleAsync(message!, CancellationToken.None);
            Assert.NotNull(scored.Result);
            var rejected = await services.Ingestor.IngestAsync($"{Identifying}-bad.nii", new MemoryStream("not a NIfTI file"u8.ToArray()), CancellationToken.None);
            Assert.False(rejected.Queued);
            listener.Flush();
            var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            Assert.True(lines.Count >= 3, $"expected the handlers' lines, got:\n{writer}");
            return (lines, ingested.Sha256!);
        }
    }
}
