using CtScan.Contracts;
using CtScan.Scoring;

namespace CtScan.Pipeline;

/// <summary>
/// <c>models/current.json</c>: the serving version and the versions that served before it (newest first), so a
/// rollback knows where to go. Replaced only by ETag-conditional writes.
/// </summary>
public sealed record ModelPointer
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string Version { get; init; }

    public required string Sha256 { get; init; }

    public required DateTimeOffset PromotedAt { get; init; }

    /// <summary>Why this version became current (publish gate, promote, rollback).</summary>
    public string? Reason { get; init; }

    /// <summary>Earlier current versions, newest first (bounded by <see cref="ModelRegistryClientOptions.HistoryLength"/>).</summary>
    public IReadOnlyList<ModelPointerEntry> Previous { get; init; } = [];
}

/// <summary>One earlier current version.</summary>
public sealed record ModelPointerEntry(string Version, string Sha256, DateTimeOffset PromotedAt);

/// <summary>Settings of <see cref="ModelRegistryClient.PublishAsync"/>.</summary>
public sealed record PublishOptions
{
    /// <summary>Promote even when the candidate's validation AUC is lower than the current model's.</summary>
    public bool Force { get; init; }

    /// <summary>Try to make the published version current (subject to the AUC gate unless <see cref="Force"/>).</summary>
    public bool Promote { get; init; } = true;

    /// <summary>
    /// The gate metric of the candidate and of the current model measured by the caller on the same data (retraining
    /// scores both on one validation split). Used instead of the manifests' values while <see cref="GateComparison.CurrentVersion"/>
    /// is still current; if another version became current meanwhile, the gate falls back to the manifests.
    /// </summary>
    public GateComparison? Comparison { get; init; }
}

/// <summary>The gate metric of a candidate and of the current version, measured on the same data (non-finite: unknown).</summary>
/// <param name="Basis">What was measured, for the pointer's reason (e.g. "both scored on the same 8 validation scans").</param>
public sealed record GateComparison(string CurrentVersion, double Candidate, double Current, string Basis);

/// <summary>What a publish did.</summary>
public enum PublishOutcome
{
    /// <summary>Uploaded (or already there) and now current.</summary>
    Promoted,
    /// <summary>Uploaded; the current model stays (the gate refused, or promotion was not asked for).</summary>
    KeptCurrent,
    /// <summary>It was current already.</summary>
    AlreadyCurrent,
}

/// <summary>The result of <see cref="ModelRegistryClient.PublishAsync"/>.</summary>
public sealed record PublishResult(string Version, string Sha256, bool Uploaded, PublishOutcome Outcome, string CurrentVersion, string Reason);

/// <summary>A version in the registry with a summary of its manifest.</summary>
public sealed record RegisteredModel(string Version, string Sha256, DateTimeOffset Created, double? ValAuc, double Threshold,
    IReadOnlyList<int> InputShape, bool IsCurrent)
{
    public static RegisteredModel From(ModelManifest manifest, bool isCurrent) =>
        new(manifest.Version, manifest.Sha256, manifest.Created, ModelRegistryClient.ValAucOf(manifest), manifest.Threshold,
            manifest.Input.Shape, isCurrent);
}

/// <summary>A registry operation cannot be done as asked (unknown version, nothing to roll back to, a version re-published with different bytes).</summary>
public sealed class ModelRegistryException : Exception
{
    public ModelRegistryException(string message) : base(message) { }
}

/// <summary>Settings of <see cref="ModelRegistryClient"/>.</summary>
public sealed record ModelRegistryClientOptions
{
    /// <summary>How many times a conflicting (412) update of current.json is re-read and retried.</summary>
    public int MaxUpdateAttempts { get; init; } = 20;

    /// <summary>How many earlier versions current.json remembers.</summary>
    public int HistoryLength { get; init; } = 20;

    /// <summary>The metric the publish gate compares (manifest.trainingMetrics).</summary>
    public string GateMetric { get; init; } = "valAuc";

    /// <summary>
    /// ONNX Runtime settings for the probe that publish, promote and rollback run before the pointer moves (one
    /// inference on a zero scan): lean by default, one thread, no arena, so the probe leaves no memory behind.
    /// </summary>
    public OnnxScorerOptions ProbeScorerOptions { get; init; } = OnnxScorerOptions.Lean(intraOpThreads: 1);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
