using System.Diagnostics;
using CtScan.Contracts;
using CtScan.LocalHost.Azurite;
using CtScan.Phantoms;

namespace CtScan.Pipeline.Tests.EndToEnd;

/// <summary>
/// A private Azurite (in memory) and the local host as a separate process with fast polling (queues every second at
/// most, model pointer checked every second), both fixture models published and the 0.70 one current. Tests in the
/// collection run one after another and use their own scan prefixes.
/// </summary>
public sealed class EndToEndFixture : IAsyncLifetime
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-e2e-");
    private AzuriteServer? _azurite;

    public static readonly IReadOnlyDictionary<string, string> FastSettings = new Dictionary<string, string>
    {
        ["extensions__queues__maxPollingInterval"] = "00:00:01",
        ["extensions__queues__visibilityTimeout"] = "00:00:01",
        ["CtScan__ModelRefreshSeconds"] = "1",
        // The sweep re-ingests scans the Azurite container scan skipped (same-second Last-Modified) after 5 s.
        ["CtScan__PendingSweepSeconds"] = "2",
        ["CtScan__PendingGraceSeconds"] = "5",
        // A scan a killed host had queued (its blob tagged) is swept after 15 s, not the default 5 minutes.
        ["CtScan__PendingIngestedGraceSeconds"] = "15",
    };

    public string ConnectionString => _azurite!.ConnectionString;

    public AzuriteServer Azurite => _azurite!;

    public PipelineServices Services { get; private set; } = null!;

    internal LocalHostProcess Host { get; private set; } = null!;

    public string TempPath(string name) => Path.Combine(_temp.FullName, name);

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteServer.StartAsync();
        Services = new PipelineServices(PipelineOptions.ForConnectionString(ConnectionString) with { ModelCacheDirectory = TempPath("client-models") });
        await Services.Storage.EnsureCreatedAsync();
        await Services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(PipelineTestContext.ModelHigh), new PublishOptions { Promote = false });
        await Services.Registry.PublishAsync(PipelineTestContext.ModelDirectory(PipelineTestContext.ModelLow), new PublishOptions { Promote = false });
        await Services.Registry.PromoteAsync(PipelineTestContext.Manifest(PipelineTestContext.ModelLow).Version);
        Host = await StartHostAsync();
    }

    private Task<LocalHostProcess> StartHostAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>(FastSettings) { ["CtScan__ModelCacheDirectory"] = TempPath("host-models") };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) environment[key] = value;
        return LocalHostProcess.StartAsync(ConnectionString, _temp.FullName, environment);
    }

    /// <summary>Kills the host (SIGKILL) and starts a new one with <paramref name="extra"/> settings on top of the fast ones.</summary>
    internal async Task<LocalHostProcess> KillAndRestartHostAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        await Host.KillAsync();
        await Host.DisposeAsync();
        Host = await StartHostAsync(extra);
        return Host;
    }

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
        Services?.Dispose();
        if (_azurite is not null) await _azurite.DisposeAsync();
        try { _temp.Delete(recursive: true); } catch (IOException) { }
    }

    /// <summary>A phantom's .nii.gz bytes (small by default: 64×64×16).</summary>
    public byte[] Phantom(PhantomLabel label, int seed, VolumeShape? shape = null)
    {
        string path = TempPath($"phantom-{Guid.NewGuid():N}.nii.gz");
        ChestPhantomFile.Write(path, new ChestPhantomOptions { Shape = shape ?? new VolumeShape(64, 64, 16), Seed = seed, Label = label });
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    public Task UploadAsync(string name, byte[] content) => Services.Clients.Scans.UploadBlobAsync(name, BinaryData.FromBytes(content));

    /// <summary>The current model's version per the registry.</summary>
    public async Task<string> CurrentVersionAsync() => (await Services.Registry.GetCurrentAsync())!.Version;

    /// <summary>Polls until at least one of the names has a result; returns how many have one (0 on timeout).</summary>
    public async Task<int> WaitForAnyResultAsync(IEnumerable<string> names, TimeSpan timeout)
    {
        var all = names.ToList();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            foreach (var name in all)
                if (await Services.Clients.Results.GetBlobClient(ScanNames.ResultBlobName(name)).ExistsAsync()) return 1;
            await Task.Delay(100);
        }
        return 0;
    }

    /// <summary>How many of the names have a result now.</summary>
    public async Task<int> CountResultsAsync(IEnumerable<string> names)
    {
        int count = 0;
        foreach (var name in names)
            if (await Services.Clients.Results.GetBlobClient(ScanNames.ResultBlobName(name)).ExistsAsync()) count++;
        return count;
    }

    /// <summary>Polls until every name has a result, or <paramref name="timeout"/> passes; returns what arrived (and when).</summary>
    public async Task<Dictionary<string, (ScanResult Result, DateTimeOffset SeenAt)>> WaitForResultsAsync(IEnumerable<string> names, TimeSpan timeout)
    {
        var pending = new HashSet<string>(names, StringComparer.Ordinal);
        var found = new Dictionary<string, (ScanResult, DateTimeOffset)>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        while (pending.Count > 0 && clock.Elapsed < timeout)
        {
            foreach (var name in pending.ToList())
            {
                if ((await Services.Results.TryReadAsync(ScanNames.ResultBlobName(name)))?.Result is not { } result) continue;
                found[name] = (result, DateTimeOffset.UtcNow);
                pending.Remove(name);
            }
            if (pending.Count > 0) await Task.Delay(250);
        }
        return found;
    }
}

[CollectionDefinition(Name)]
public sealed class EndToEndCollection : ICollectionFixture<EndToEndFixture>
{
    public const string Name = "EndToEnd";
}
