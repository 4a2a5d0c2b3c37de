using System.Text.Json;
using CtScan.LocalHost;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;
using CtScan.Tests;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CtScan.Cli.Tests;

/// <summary>A private Azurite for the pipeline verbs (default container names, so the local host can run on it).</summary>
public sealed class CliAzuriteFixture : IAsyncLifetime
{
    private AzuriteServer? _server;

    public string ConnectionString => _server!.ConnectionString;

    public async Task InitializeAsync() => _server = await AzuriteServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

public sealed class PipelineCommandsTests(CliAzuriteFixture azurite) : IClassFixture<CliAzuriteFixture>
{
    private static string Model(string name) => Fixtures.Path("models", name);

    [Fact]
    public async Task Submit_Wait_PrintsScoredResults_AndResultsListsThem()
    {
        using var temp = new TempFolder();
        var cache = temp.Path("cache");
        using var host = await LocalPipelineHost.BuildAsync(new LocalHostSettings
        {
            Connection = azurite.ConnectionString,
            MinimumLogLevel = LogLevel.Warning,
            ConfigurePipeline = o => o with { ModelCacheDirectory = cache, ModelRefreshInterval = TimeSpan.FromSeconds(1) },
        });
        await host.StartAsync();
        try
        {
            var publish = await CliRunner.RunAsync("model", "publish", Model("fixture-auc080"), "--connection", azurite.ConnectionString);
            Assert.Equal(0, publish.ExitCode);
            var files = new[] { PhantomLabel.Normal, PhantomLabel.Abnormal }.Select(label =>
            {
                string path = temp.Path($"{label.ToString().ToLowerInvariant()}.nii.gz");
                ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = new VolumeShape(64, 64, 16), Seed = 4, Label = label });
                return path;
            }).ToArray();

            var submit = await CliRunner.RunAsync(["submit", .. files, "--wait", "--timeout", "120", "--prefix", "cli-test/", "--connection", azurite.ConnectionString, "--poll", "0.2"]);

            Assert.True(submit.ExitCode == 0, submit.Error);
            Assert.Contains("uploaded scans/cli-test/normal.nii.gz", submit.Output);
            var results = await CliRunner.RunAsync("results", "--prefix", "cli-test/", "--json", "--connection", azurite.ConnectionString);
            var docs = JsonDocument.Parse(results.Output).RootElement.EnumerateArray().ToList();
            Assert.Equal(new[] { "cli-test/abnormal.nii.gz", "cli-test/normal.nii.gz" }, docs.Select(d => d.GetProperty("scan").GetString()).Order().ToArray());
            Assert.All(docs, d =>
            {
                Assert.Equal("scored", d.GetProperty("status").GetString());
                Assert.Equal("fixture-auc080", d.GetProperty("model").GetProperty("version").GetString());
            });
            var table = await CliRunner.RunAsync("results", "--prefix", "cli-test/", "--connection", azurite.ConnectionString);
            Assert.Contains("2 result(s): 2 scored", table.Output);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task Submit_MissingFile_ExitCode2()
    {
        var run = await CliRunner.RunAsync("submit", "/no/such/scan.nii.gz", "--connection", azurite.ConnectionString);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("/no/such/scan.nii.gz", run.Error);
    }

    [Fact]
    public async Task Submit_WaitWithoutHost_TimesOutWithExitCode1()
    {
        using var temp = new TempFolder();
        string path = temp.Path("lonely.nii.gz");
        ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = new VolumeShape(32, 32, 8) });
        var run = await CliRunner.RunAsync("submit", path, "--prefix", "no-host", "--wait", "--timeout", "1", "--poll", "0.2", "--connection", azurite.ConnectionString);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("no-host/lonely.nii.gz", run.Error);
    }
}

/// <summary>Its own Azurite: the registry's state must not depend on the other verbs' tests.</summary>
public sealed class ModelRegistryCommandsTests(CliAzuriteFixture azurite) : IClassFixture<CliAzuriteFixture>
{
    private static string Model(string name) => Fixtures.Path("models", name);

    [Fact]
    public async Task ModelVerbs_PublishGateListRollbackPromote()
    {
        string c = azurite.ConnectionString;

        var first = await CliRunner.RunAsync("model", "publish", Model("fixture-auc080"), "--connection", c);
        var lower = await CliRunner.RunAsync("model", "publish", Model("fixture-auc070"), "--connection", c);
        var list = await CliRunner.RunAsync("model", "list", "--json", "--connection", c);
        var forced = await CliRunner.RunAsync("model", "publish", Model("fixture-auc070"), "--force", "--connection", c);
        var rollback = await CliRunner.RunAsync("model", "rollback", "--connection", c);
        var promote = await CliRunner.RunAsync("model", "promote", "fixture-auc070", "--connection", c);
        var table = await CliRunner.RunAsync("model", "list", "--connection", c);
        var unknown = await CliRunner.RunAsync("model", "promote", "no-such-version", "--connection", c);

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("promoted", first.Output);
        Assert.Equal(0, lower.ExitCode);
        Assert.Contains("kept current fixture-auc080", lower.Output);
        var versions = JsonDocument.Parse(list.Output).RootElement.EnumerateArray()
            .ToDictionary(e => e.GetProperty("version").GetString()!, e => e.GetProperty("current").GetBoolean());
        Assert.True(versions["fixture-auc080"]);
        Assert.False(versions["fixture-auc070"]);
        Assert.Contains("promoted", forced.Output);
        Assert.Contains("current: fixture-auc080", rollback.Output);
        Assert.Contains("current: fixture-auc070", promote.Output);
        Assert.Contains("* fixture-auc070", table.Output);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no-such-version", unknown.Error);
    }
}
