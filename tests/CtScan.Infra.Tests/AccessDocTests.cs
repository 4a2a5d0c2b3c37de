using System.Text;
using CtScan.Pipeline;

namespace CtScan.Infra.Tests;

/// <summary>docs/access.md's table is <see cref="StorageAccessMap"/>, rendered: change the map and the page together.</summary>
public sealed class AccessDocTests
{
    private const string Start = "<!-- access-table:start (generated from StorageAccessMap; tests/CtScan.Infra.Tests/AccessDocTests.cs) -->";
    private const string End = "<!-- access-table:end -->";

    private static readonly Dictionary<StoragePrincipal, string> PrincipalNames = new()
    {
        [StoragePrincipal.FunctionsApp] = "Functions app (`id-…-func-…`)",
        [StoragePrincipal.TrainingJob] = "Training job (`id-…-train-…`)",
        [StoragePrincipal.Uploader] = "Uploaders (`uploaderPrincipalIds`)",
        [StoragePrincipal.ResultReader] = "Result readers (`resultReaderPrincipalIds`)",
        [StoragePrincipal.Admin] = "Admins (`adminPrincipalIds`)",
        [StoragePrincipal.EventGrid] = "Event Grid system topic (its system-assigned identity)",
        [StoragePrincipal.Viewer] = "Results viewer (`id-…-view-…`, with `deployViewer`)",
    };

    private static readonly Dictionary<StorageRole, string> RoleNames = new()
    {
        [StorageRole.BlobDataReader] = "Storage Blob Data Reader",
        [StorageRole.BlobDataContributor] = "Storage Blob Data Contributor",
        [StorageRole.BlobWriter] = "CtScan scan writer (custom: create blobs only)",
        [StorageRole.QueueDataContributor] = "Storage Queue Data Contributor",
    };

    public static string RenderTable()
    {
        var table = new StringBuilder();
        table.Append("| Principal | Container / queue | Access | Role | Why |\n");
        table.Append("|---|---|---|---|---|\n");
        foreach (var grant in StorageAccessMap.Grants)
        {
            var resource = grant.Resource.IsAccountScope ? "all queues (account scope)" : $"`{grant.Resource.Name}`";
            var access = string.Join(", ", Enum.GetValues<StorageAccess>()
                .Where(a => a != StorageAccess.None && grant.Access.HasFlag(a))
                .Select(a => a.ToString().ToLowerInvariant()));
            var why = grant.BroaderBecause is { } broader ? $"{grant.Why}. Role broader than needed: {broader}" : grant.Why;
            table.Append($"| {PrincipalNames[grant.Principal]} | {resource} | {access} | {RoleNames[grant.Role]} | {why} |\n");
        }
        return table.ToString();
    }

    [Fact]
    public void AccessPage_TableIsTheAccessMap()
    {
        var path = Path.Combine(BicepCli.RepositoryRoot, "docs", "access.md");
        var page = File.ReadAllText(path).ReplaceLineEndings("\n");
        int start = page.IndexOf(Start, StringComparison.Ordinal);
        int end = page.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"{path}: no table between the markers {Start} and {End}");

        var table = page[(start + Start.Length)..end].Trim('\n') + "\n";

        var expected = RenderTable();
        if (table != expected)
        {
            var proposed = Path.Combine(Path.GetTempPath(), "ctscan-access-table.md");
            File.WriteAllText(proposed, expected);
            Assert.Fail($"{path}: the table differs from StorageAccessMap; the rendered table is in {proposed}");
        }
    }

    [Fact]
    public void RenderTable_ListsEveryGrantOnce()
    {
        var rows = RenderTable().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).ToList();

        Assert.Equal(StorageAccessMap.Grants.Count, rows.Count);
        Assert.Contains(rows, r => r.StartsWith("| Training job (`id-…-train-…`) | `tensors` | read, list | Storage Blob Data Reader |", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith("| Uploaders (`uploaderPrincipalIds`) | `scans` | write | CtScan scan writer", StringComparison.Ordinal));
    }
}
