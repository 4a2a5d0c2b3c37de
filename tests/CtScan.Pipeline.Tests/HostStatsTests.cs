using CtScan.LocalHost;

namespace CtScan.Pipeline.Tests;

/// <summary>The counts <c>--stats-file</c> and <c>ctscan bench soak</c> report come from the real process and folders.</summary>
public sealed class HostStatsTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-hoststats-");

    public void Dispose()
    {
        try { _temp.Delete(recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void OpenFileDescriptors_OwnProcess_RisesWithOpenFilesAndFallsWhenClosed()
    {
        const int opened = 40;
        var files = new List<FileStream>();
        int before = ProcessCounts.OpenFileDescriptors(Environment.ProcessId);
        int during;
        try
        {
            for (int i = 0; i < opened; i++) files.Add(File.Create(Path.Combine(_temp.FullName, $"held-{i}.bin")));
            during = ProcessCounts.OpenFileDescriptors(Environment.ProcessId);
        }
        finally
        {
            foreach (var file in files) file.Dispose();
        }
        int after = ProcessCounts.OpenFileDescriptors(Environment.ProcessId);

        Assert.True(before > 0, "a running process has descriptors open (stdin, stdout, the runtime's own)");
        // Other tests run in parallel and open and close files too: a margin, far below the 40 held here.
        Assert.InRange(during - before, opened - 10, opened + 10);
        Assert.InRange(during - after, opened - 10, opened + 10);
    }

    [Fact]
    public void Threads_OwnProcess_MatchesTheRuntimesCount()
    {
        int counted = ProcessCounts.Threads(Environment.ProcessId);
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        int runtime = process.Threads.Count;

        Assert.True(counted > 1, $"a .NET process has more than one thread; counted {counted}");
        Assert.InRange(counted, runtime - 10, runtime + 10); // thread-pool threads come and go between the two reads
    }

    [Fact]
    public void CountTempFiles_SpoolFilesAndModelCache_CountedOthersNot()
    {
        var options = PipelineOptions.ForConnectionString("UseDevelopmentStorage=true") with
        {
            SpoolDirectory = Path.Combine(_temp.FullName, "spool"),
            ModelCacheDirectory = Path.Combine(_temp.FullName, "models"),
        };
        Assert.Equal(0, HostStats.CountTempFiles(options)); // neither folder exists yet

        Directory.CreateDirectory(options.SpoolDirectory!);
        File.WriteAllText(Path.Combine(options.SpoolDirectory!, PipelineOptions.SpoolFilePattern.Replace("*", "left-behind", StringComparison.Ordinal)), "x");
        File.WriteAllText(Path.Combine(options.SpoolDirectory!, "someone-elses.tmp"), "x");
        int spoolOnly = HostStats.CountTempFiles(options);
        Directory.CreateDirectory(Path.Combine(options.ModelCacheDirectory!, "v1-abc.partial-1234"));
        File.WriteAllText(Path.Combine(options.ModelCacheDirectory!, "v1-abc.partial-1234", "model.onnx"), "x");
        int withCache = HostStats.CountTempFiles(options);

        Assert.Equal(1, spoolOnly);
        Assert.Equal(2, withCache);
    }

    [Fact]
    public void Now_WrittenAndReadBack_CarriesTheProcessCounts()
    {
        using var services = new PipelineServices(PipelineOptions.ForConnectionString("UseDevelopmentStorage=true") with
        {
            SpoolDirectory = Path.Combine(_temp.FullName, "spool"),
            ModelCacheDirectory = Path.Combine(_temp.FullName, "models"),
        });
        string path = Path.Combine(_temp.FullName, "stats.json");

        var stats = HostStats.Now(services);
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(stats, System.Text.Json.JsonSerializerOptions.Web));
        var read = HostStats.TryRead(path);

        Assert.Equal(Environment.ProcessId, stats.ProcessId);
        Assert.True(stats.WorkingSetBytes > 0 && stats.OpenFileDescriptors > 0 && stats.Threads > 1, stats.ToString());
        Assert.Equal(0, stats.TempFiles);
        Assert.Equal(stats, read);
    }
}
