using System.Globalization;

namespace CtScan.Scoring;

/// <summary>Default model versions: UTC minute plus the model's short hash, e.g. 20261129-0130-3fa2c1 (sortable, unique per file).</summary>
public static class ModelVersions
{
    public static string Default(DateTimeOffset created, string sha256) =>
        created.UtcDateTime.ToString("yyyyMMdd-HHmm", CultureInfo.InvariantCulture) + "-" + sha256[..6];
}
