using Azure;
using CtScan.Contracts;
using CtScan.Scoring;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CtScan.Pipeline;

/// <summary>No model can serve: none was ever promoted (publish one with <c>ctscan model publish</c>).</summary>
public sealed class ModelUnavailableException : Exception
{
    public ModelUnavailableException(string message) : base(message) { }
}

/// <summary>
/// The current model, kept ready: the pointer (models/current.json) is checked at most once per
/// <see cref="PipelineOptions.ModelRefreshInterval"/> (a conditional GET: If-None-Match the last ETag), a new version
/// is downloaded into the local cache (SHA-256 verified), loaded and run once on <see cref="ModelProbe"/>'s zero scan,
/// and the single <see cref="OnnxScorer"/> per version is shared by every request. A replaced scorer is disposed when
/// its last lease is released, so in-flight scores finish on the model they started with.
/// </summary>
/// <remarks>
/// A current version that cannot serve (not in the registry, hash mismatch, ONNX Runtime refuses it, fails the probe)
/// is remembered as broken by version and SHA-256 and never downloaded or tried again in this process; a re-promotion
/// naming other bytes is tried afresh. Meanwhile the last version that served in this process answers, or, when none
/// has yet, the newest earlier version in current.json's history that loads; its leases carry a
/// <see cref="ModelFallback"/>, which the result records (<c>model.fallback</c>). When no version serves at all,
/// <see cref="AcquireAsync"/> throws <see cref="ModelLoadException"/> as before (the host retries the message).
/// Storage errors are not the model's fault: they propagate and nothing is remembered.
/// </remarks>
public class ModelProvider : IDisposable
{
    private readonly ModelRegistryClient _registry;
    private readonly PipelineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InferenceGate? _inferences;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly SemaphoreSlim _load = new(1, 1);
    private readonly Dictionary<string, ModelManifest> _manifests = new(StringComparer.Ordinal);
    private readonly Dictionary<ModelKey, string> _broken = [];
    private readonly object _gate = new();

    private ModelPointer? _pointer;
    private ETag? _pointerETag;
    private DateTimeOffset _lastCheck = DateTimeOffset.MinValue;
    private ScorerEntry? _active; // the last version that served in this process
    private bool _disposed;

    protected ModelProvider()
    {
        _registry = null!;
        _options = null!;
        _time = TimeProvider.System;
        _logger = NullLogger.Instance;
    }

    /// <param name="inferences">The instance's inference bound; the probe of a newly loaded version takes a slot like any inference.</param>
    public ModelProvider(ModelRegistryClient registry, PipelineOptions options, ILogger<ModelProvider>? logger = null, TimeProvider? timeProvider = null,
        InferenceGate? inferences = null)
    {
        _inferences = inferences;
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>How many times the pointer was fetched or checked (tests use it to see the interval respected).</summary>
    public int PointerChecks { get; private set; }

    /// <summary>How many ONNX Runtime sessions (one <see cref="OnnxScorer"/> per model version) this provider has created.</summary>
    public int ScorersCreated => Volatile.Read(ref _scorersCreated);

    /// <summary>How many of them are still alive (the current one, plus replaced ones with leases in flight).</summary>
    public int ScorersLive => Volatile.Read(ref _scorersLive);

    /// <summary>The versions (with their SHA-256) found unable to serve in this process, and why.</summary>
    public IReadOnlyDictionary<ModelKey, string> BrokenVersions
    {
        get { lock (_gate) return new Dictionary<ModelKey, string>(_broken); }
    }

    private int _scorersCreated;
    private int _scorersLive;

    /// <summary>
    /// The manifest of the model that serves now (cheap: no model download), or null when no model is current. The
    /// scan ingestor preprocesses with its preprocessing parameters. While the current version is known to be broken,
    /// that is the fallback's manifest, so tensors are made for the model that will score them.
    /// </summary>
    public virtual async Task<ModelManifest?> GetCurrentManifestAsync(CancellationToken cancellationToken = default)
    {
        var pointer = await GetPointerAsync(cancellationToken).ConfigureAwait(false);
        if (pointer is null) return null;
        lock (_gate)
        {
            if (_active is { } active && (active.Key == ModelKey.Of(pointer) || _broken.ContainsKey(ModelKey.Of(pointer)))) return active.Manifest;
            if (_manifests.TryGetValue(pointer.Version, out var cached) && cached.Sha256 == pointer.Sha256) return cached;
        }
        ModelManifest manifest;
        try
        {
            manifest = await _registry.GetManifestAsync(pointer.Version, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (IsModelFault(error))
        {
            // The current version cannot serve: the model that will answer decides the preprocessing.
            using var lease = await AcquireAsync(cancellationToken).ConfigureAwait(false);
            return lease.Manifest;
        }
        lock (_gate) _manifests[pointer.Version] = manifest;
        return manifest;
    }

    /// <summary>
    /// A lease on the scorer of the model that serves now; dispose it when the score is written. Loads (downloads,
    /// verifies, probes) a new current version on first use; a current version that cannot serve is replaced by the
    /// last one that did (the lease's <see cref="ModelLease.Fallback"/> says so).
    /// </summary>
    /// <exception cref="ModelUnavailableException">No model is current.</exception>
    /// <exception cref="ModelLoadException">The current version cannot be served and no version has served in this process, nor does any earlier one in the history.</exception>
    public virtual async Task<ModelLease> AcquireAsync(CancellationToken cancellationToken = default)
    {
        var pointer = await GetPointerAsync(cancellationToken).ConfigureAwait(false)
                      ?? throw new ModelUnavailableException($"no model is current ({_registry.Container.Name}/{ModelRegistryClient.PointerBlobName} does not exist); publish one with `ctscan model publish DIR`");
        var key = ModelKey.Of(pointer);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (TryLease(key, out var lease)) return lease;
        }

        await _load.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string? broken;
            lock (_gate)
            {
                if (TryLease(key, out var lease)) return lease;
                _broken.TryGetValue(key, out broken);
            }
            if (broken is null)
            {
                try
                {
                    var scorer = await LoadAsync(key, cancellationToken).ConfigureAwait(false);
                    _logger.LogInformation("Serving model {Version} (sha256 {Sha256})", key.Version, key.Sha256);
                    return Activate(scorer, LastThatServed);
                }
                catch (Exception error) when (IsModelFault(error))
                {
                    broken = Remember(key, error);
                    _logger.LogError(error, "Current model {Version} (sha256 {Sha256}) cannot serve; it is not tried again in this process unless current.json names other bytes: {Reason}",
                        key.Version, key.Sha256, broken);
                    lock (_gate)
                        if (TryLease(key, out var lease)) return lease; // the last version that served answers
                }
            }
            return await FallBackToHistoryAsync(pointer, broken, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _load.Release();
        }
    }

    /// <summary>Checks the pointer now, whatever the interval (e.g. right after a promotion).</summary>
    public virtual async Task<ModelPointer?> RefreshAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) _lastCheck = DateTimeOffset.MinValue;
        return await GetPointerAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Under <see cref="_gate"/>: a lease when the current version serves, or when it is broken and another has served.</summary>
    private bool TryLease(ModelKey current, out ModelLease lease)
    {
        lease = null!;
        if (_active is not { } active) return false;
        if (active.Key == current)
        {
            lease = active.Lease(null);
            return true;
        }
        if (!_broken.TryGetValue(current, out var reason)) return false;
        lease = active.Lease(new ModelFallback(current.Version, current.Sha256,
            $"current model {current.Version} cannot serve: {reason}; {active.Key.Version}, {active.Origin}, answered instead"));
        return true;
    }

    /// <summary>
    /// No version has served in this process yet: the newest earlier version in the pointer's history that loads
    /// serves instead (each tried once per process, like the current one).
    /// </summary>
    private async Task<ModelLease> FallBackToHistoryAsync(ModelPointer pointer, string reason, CancellationToken cancellationToken)
    {
        int tried = 0;
        foreach (var entry in pointer.Previous)
        {
            var key = new ModelKey(entry.Version, entry.Sha256);
            lock (_gate)
                if (_broken.ContainsKey(key)) continue;
            tried++;
            try
            {
                var scorer = await LoadAsync(key, cancellationToken).ConfigureAwait(false);
                _logger.LogError("Current model {Current} cannot serve; serving {Version} (sha256 {Sha256}), the newest earlier version in its history that loads",
                    pointer.Version, key.Version, key.Sha256);
                Activate(scorer, "the newest earlier version in current.json's history that loads").Dispose();
                lock (_gate)
                    if (TryLease(ModelKey.Of(pointer), out var lease)) return lease;
            }
            catch (Exception error) when (IsModelFault(error))
            {
                _logger.LogError(error, "Earlier model {Version} (sha256 {Sha256}) cannot serve either: {Reason}", key.Version, key.Sha256, Remember(key, error));
            }
        }
        throw new ModelLoadException(
            $"current model {pointer.Version} cannot serve: {reason}; no version has served in this process and " +
            (pointer.Previous.Count == 0 ? "current.json records no earlier version" : $"none of the {pointer.Previous.Count} earlier versions in current.json's history loads ({tried} tried now, the rest before)"));
    }

    private string Remember(ModelKey key, Exception error)
    {
        lock (_gate)
        {
            _broken[key] = error.Message;
            return error.Message;
        }
    }

    private const string LastThatServed = "the last version that served in this process";

    /// <summary>Makes a loaded scorer the one that serves (the previous one is released) and leases it.</summary>
    /// <param name="origin">How it was chosen, for a fallback's reason.</param>
    private ModelLease Activate(OnnxScorer scorer, string origin)
    {
        Interlocked.Increment(ref _scorersCreated);
        Interlocked.Increment(ref _scorersLive);
        var entry = new ScorerEntry(scorer, origin, () => Interlocked.Decrement(ref _scorersLive));
        ScorerEntry? replaced;
        ModelLease lease;
        lock (_gate)
        {
            replaced = _active;
            _active = entry;
            lease = entry.Lease(null);
        }
        replaced?.Release(); // the provider's own reference; disposed once in-flight leases end
        return lease;
    }

    /// <summary>
    /// The model's fault, not a passing one: the version is not (fully) in the registry, its manifest is invalid, its
    /// bytes differ from the hash, or ONNX Runtime refuses it or it fails the probe. Storage outages are none of these.
    /// </summary>
    private static bool IsModelFault(Exception error) => error switch
    {
        ModelLoadException or ModelRegistryException or InvalidDataException => true,
        RequestFailedException { Status: 404 } => true,
        _ => false,
    };

    private async Task<ModelPointer?> GetPointerAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
            if (_time.GetUtcNow() - _lastCheck < _options.ModelRefreshInterval) return _pointer;
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
                if (_time.GetUtcNow() - _lastCheck < _options.ModelRefreshInterval) return _pointer;
            PointerChecks++;
            var (pointer, etag, unchanged) = await _registry.ReadPointerAsync(cancellationToken, _pointerETag).ConfigureAwait(false);
            lock (_gate)
            {
                if (!unchanged)
                {
                    if (pointer?.Version != _pointer?.Version)
                        _logger.LogInformation("Current model is now {Version}", pointer?.Version ?? "(none)");
                    _pointer = pointer;
                    _pointerETag = etag;
                }
                _lastCheck = _time.GetUtcNow();
                return _pointer;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Downloads (unless cached), verifies, loads and probes one version.</summary>
    private async Task<OnnxScorer> LoadAsync(ModelKey key, CancellationToken cancellationToken)
    {
        var (directory, manifest) = await _registry.GetCachedAsync(key.Version, key.Sha256, _options.EffectiveModelCacheDirectory, cancellationToken).ConfigureAwait(false);
        // OnnxScorer hashes the file again before loading: a damaged cache is refused, not served.
        OnnxScorer? scorer = null;
        try
        {
            scorer = new OnnxScorer(Path.Combine(directory, manifest.ModelFile), manifest, _options.OnnxScorerOptions);
            // The probe's activations count against the memory budget like a scan's.
            using (_inferences is null ? null : await _inferences.EnterAsync(cancellationToken).ConfigureAwait(false))
                ModelProbe.Check(scorer, $"model {key.Version}", cancellationToken);
            return scorer;
        }
        catch (Exception error)
        {
            scorer?.Dispose();
            // Nothing of a version that cannot serve stays in the cache.
            if (error is ModelLoadException) Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        ScorerEntry? active;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            active = _active;
            _active = null;
        }
        active?.Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>A scorer with a reference count: the provider holds one reference, each lease another.</summary>
    private sealed class ScorerEntry(OnnxScorer scorer, string origin, Action disposed)
    {
        private int _references = 1;

        public OnnxScorer Scorer { get; } = scorer;

        public string Origin { get; } = origin;

        public ModelManifest Manifest => Scorer.Manifest;

        public ModelKey Key { get; } = new(scorer.Manifest.Version, scorer.Manifest.Sha256);

        public ModelLease Lease(ModelFallback? fallback)
        {
            Interlocked.Increment(ref _references);
            return new ModelLease(Scorer, Release, fallback);
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) != 0) return;
            Scorer.Dispose();
            disposed();
        }
    }
}

/// <summary>A model version and the SHA-256 of its bytes: what "broken" is remembered by.</summary>
public readonly record struct ModelKey(string Version, string Sha256)
{
    public static ModelKey Of(ModelPointer pointer) => new(pointer.Version, pointer.Sha256);
}

/// <summary>Why a lease's model is not the current one: the current version and why it cannot serve.</summary>
public sealed record ModelFallback(string FromVersion, string FromSha256, string Reason);

/// <summary>The right to use a model's scorer until disposed; the scorer stays alive at least that long.</summary>
public sealed class ModelLease : IDisposable
{
    private Action? _release;

    internal ModelLease(OnnxScorer scorer, Action release, ModelFallback? fallback = null)
    {
        Scorer = scorer;
        _release = release;
        Fallback = fallback;
    }

    public OnnxScorer Scorer { get; }

    public ModelManifest Manifest => Scorer.Manifest;

    /// <summary>Set when this model answers because the current version cannot serve.</summary>
    public ModelFallback? Fallback { get; }

    /// <summary>What the result records as <c>model</c>, including the fallback fields when <see cref="Fallback"/> is set.</summary>
    public ModelReference Reference => Fallback is { } fallback
        ? new(Manifest.Version, Manifest.Sha256) { Fallback = true, FallbackFrom = fallback.FromVersion, FallbackReason = fallback.Reason }
        : new(Manifest.Version, Manifest.Sha256);

    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
