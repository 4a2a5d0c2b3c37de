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
/// is downloaded into the local cache (SHA-256 verified) and loaded once, and the single <see cref="OnnxScorer"/> per
/// version is shared by every request. A replaced scorer is disposed when its last lease is released, so in-flight
/// scores finish on the model they started with.
/// </summary>
public class ModelProvider : IDisposable
{
    private readonly ModelRegistryClient _registry;
    private readonly PipelineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly SemaphoreSlim _load = new(1, 1);
    private readonly Dictionary<string, ModelManifest> _manifests = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    private ModelPointer? _pointer;
    private ETag? _pointerETag;
    private DateTimeOffset _lastCheck = DateTimeOffset.MinValue;
    private ScorerEntry? _active;
    private bool _disposed;

    protected ModelProvider()
    {
        _registry = null!;
        _options = null!;
        _time = TimeProvider.System;
        _logger = NullLogger.Instance;
    }

    public ModelProvider(ModelRegistryClient registry, PipelineOptions options, ILogger<ModelProvider>? logger = null, TimeProvider? timeProvider = null)
    {
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

    private int _scorersCreated;
    private int _scorersLive;

    /// <summary>
    /// The current model's manifest (cheap: no model download), or null when no model is current. The scan
    /// ingestor preprocesses with its preprocessing parameters.
    /// </summary>
    public virtual async Task<ModelManifest?> GetCurrentManifestAsync(CancellationToken cancellationToken = default)
    {
        var pointer = await GetPointerAsync(cancellationToken).ConfigureAwait(false);
        if (pointer is null) return null;
        lock (_gate)
            if (_manifests.TryGetValue(pointer.Version, out var cached)) return cached;
        var manifest = await _registry.GetManifestAsync(pointer.Version, cancellationToken).ConfigureAwait(false);
        lock (_gate) _manifests[pointer.Version] = manifest;
        return manifest;
    }

    /// <summary>
    /// A lease on the current model's scorer; dispose it when the score is written. Loads (downloads, verifies)
    /// a new current version on first use.
    /// </summary>
    /// <exception cref="ModelUnavailableException">No model is current.</exception>
    /// <exception cref="ModelLoadException">The current version cannot be served (hash mismatch, graph not as its manifest says).</exception>
    public virtual async Task<ModelLease> AcquireAsync(CancellationToken cancellationToken = default)
    {
        var pointer = await GetPointerAsync(cancellationToken).ConfigureAwait(false)
                      ?? throw new ModelUnavailableException($"no model is current ({_registry.Container.Name}/{ModelRegistryClient.PointerBlobName} does not exist); publish one with `ctscan model publish DIR`");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_active is { } active && active.Manifest.Version == pointer.Version && active.Manifest.Sha256 == pointer.Sha256)
                return active.Lease();
        }

        await _load.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
                if (_active is { } active && active.Manifest.Version == pointer.Version && active.Manifest.Sha256 == pointer.Sha256)
                    return active.Lease();
            var scorer = await LoadAsync(pointer, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _scorersCreated);
            Interlocked.Increment(ref _scorersLive);
            var entry = new ScorerEntry(scorer, () => Interlocked.Decrement(ref _scorersLive));
            ScorerEntry? replaced;
            ModelLease lease;
            lock (_gate)
            {
                replaced = _active;
                _active = entry;
                lease = entry.Lease();
            }
            replaced?.Release(); // the provider's own reference; disposed once in-flight leases end
            _logger.LogInformation("Serving model {Version} (sha256 {Sha256})", pointer.Version, pointer.Sha256);
            return lease;
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

    private async Task<OnnxScorer> LoadAsync(ModelPointer pointer, CancellationToken cancellationToken)
    {
        string root = _options.EffectiveModelCacheDirectory;
        Directory.CreateDirectory(root);
        string directory = Path.Combine(root, $"{pointer.Version}-{pointer.Sha256[..12]}");
        if (!File.Exists(Path.Combine(directory, ModelFolder.ManifestFileName)))
            await _registry.DownloadAsync(pointer.Version, directory, cancellationToken).ConfigureAwait(false);
        var manifest = ModelFolder.ReadManifest(directory);
        if (manifest.Sha256 != pointer.Sha256)
            throw new ModelLoadException($"{ModelRegistryClient.PointerBlobName} names {pointer.Version} with SHA-256 {pointer.Sha256}; its manifest says {manifest.Sha256}");
        // OnnxScorer hashes the file again before loading: a damaged cache is refused, not served.
        try
        {
            return new OnnxScorer(Path.Combine(directory, manifest.ModelFile), manifest, _options.OnnxScorerOptions);
        }
        catch (ModelLoadException)
        {
            Directory.Delete(directory, recursive: true); // download afresh next time
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
    private sealed class ScorerEntry(OnnxScorer scorer, Action disposed)
    {
        private int _references = 1;

        public OnnxScorer Scorer { get; } = scorer;

        public ModelManifest Manifest => Scorer.Manifest;

        public ModelLease Lease()
        {
            Interlocked.Increment(ref _references);
            return new ModelLease(Scorer, Release);
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) != 0) return;
            Scorer.Dispose();
            disposed();
        }
    }
}

/// <summary>The right to use a model's scorer until disposed; the scorer stays alive at least that long.</summary>
public sealed class ModelLease : IDisposable
{
    private Action? _release;

    internal ModelLease(OnnxScorer scorer, Action release)
    {
        Scorer = scorer;
        _release = release;
    }

    public OnnxScorer Scorer { get; }

    public ModelManifest Manifest => Scorer.Manifest;

    public ModelReference Reference => new(Manifest.Version, Manifest.Sha256);

    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
