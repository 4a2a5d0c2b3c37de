using System.Globalization;
using System.Text.RegularExpressions;

namespace CtScan.Pipeline;

/// <summary>
/// Settings of the Functions app's scheduled sweep (<see cref="ScheduledSweep"/>), from app settings:
/// <c>CtScan__SweepGraceMinutes</c> (how long a scan may stay without a result before it is ingested again; default
/// <see cref="DefaultGrace"/>) and <c>CtScan__DeadLetterContainer</c> (where Event Grid writes the events it could not
/// deliver; default <see cref="DefaultDeadLetterContainer"/>).
/// </summary>
public sealed partial record ScanSweepSettings
{
    public const string DefaultDeadLetterContainer = StorageAccessMap.EventGridDeadLetterContainer;
    public const string GraceSetting = "CtScan__SweepGraceMinutes";
    public const string DeadLetterContainerSetting = "CtScan__DeadLetterContainer";

    /// <summary>
    /// 15 minutes: well past a normal scan's way through the pipeline (seconds to a minute) and as long as the default
    /// retry window (<see cref="PipelineOptions.RetryWindow"/>), so a scan is rarely ingested twice while its retries
    /// are still running; when it is, that is duplicate work, not a wrong result.
    /// </summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromMinutes(15);

    public TimeSpan Grace { get; init; } = DefaultGrace;

    public string DeadLetterContainer { get; init; } = DefaultDeadLetterContainer;

    public static ScanSweepSettings FromSettings(Func<string, string?> setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        string? Get(string key) => HostSettings.Read(setting, key);
        var settings = new ScanSweepSettings();
        if (Get(GraceSetting) is { } grace)
            settings = settings with
            {
                Grace = double.TryParse(grace, NumberStyles.Float, CultureInfo.InvariantCulture, out double minutes) && double.IsFinite(minutes) && minutes > 0
                    ? TimeSpan.FromMinutes(minutes)
                    : throw new PipelineConfigurationException($"{GraceSetting} must be a positive number of minutes; got '{grace}'"),
            };
        if (Get(DeadLetterContainerSetting) is { } container)
            settings = settings with
            {
                DeadLetterContainer = ContainerName().IsMatch(container) && !container.Contains("--", StringComparison.Ordinal)
                    ? container
                    : throw new PipelineConfigurationException($"{DeadLetterContainerSetting} must be a blob container name (3-63 lower-case letters, digits and single hyphens); got '{container}'"),
            };
        return settings;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex ContainerName();
}
