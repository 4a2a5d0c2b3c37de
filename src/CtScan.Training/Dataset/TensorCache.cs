using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Tensors;
using CtScan.Validation;

namespace CtScan.Training;

/// <summary>
/// Preprocessed scans on disk, keyed by content: <c>FOLDER/</c> plus the pipeline's tensor name
/// (<see cref="TensorNames.For(string, PreprocessingOptions, int)"/>: scan hash, preprocessing version and a key of every
/// preprocessing option). A renamed or copied scan hits the same entry; changed bytes, options or version miss.
/// Entries are written under a temporary name and then moved, so a crash never leaves a half-written tensor.
/// </summary>
/// <remarks>
/// Safe to use from several threads: the counters are updated atomically. Scans go through <see cref="ScanIntake"/>,
/// the input gate the scorer and the pipeline use: a scan the gate rejects fails the run with an
/// <see cref="InvalidDataException"/> naming the file and the reason, rather than being skipped, because skipping would
/// silently change the training set (and its fingerprint) while the run still looked complete; remove or fix the file.
/// </remarks>
public sealed class TensorCache
{
    private readonly ScanIntake _intake;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _hashes = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> _orientations = new(StringComparer.Ordinal);
    private int _preprocessed;
    private int _hits;

    /// <param name="budget">What one scan may cost (<see cref="ScanWorkBudget"/>); a scan over it fails the run like any rejection.</param>
    public TensorCache(string folder, PreprocessingOptions options, ScanWorkBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Folder = Path.GetFullPath(folder);
        _intake = new ScanIntake(options, budget: budget);
    }

    public string Folder { get; }

    public PreprocessingOptions Options => _intake.Options;

    /// <summary>Scans this instance preprocessed because the cache had no entry for them.</summary>
    public int PreprocessedCount => _preprocessed;

    /// <summary>Scans this instance read from the cache.</summary>
    public int HitCount => _hits;

    /// <summary>The SHA-256 of every scan file this instance has read, by full path.</summary>
    public IReadOnlyDictionary<string, string> ScanHashes => _hashes;

    /// <summary>The axis codes (e.g. LPS) of every scan file this instance has read, by full path; null when its header has none.</summary>
    public IReadOnlyDictionary<string, string?> ScanOrientations => _orientations;

    /// <summary>
    /// The orientation the scans were trained in: the target orientation when preprocessing sets one, else the one
    /// orientation every scan read so far shares; null when they differ or one has none (then serving must not
    /// reorient either: the model learned the arrays as stored).
    /// </summary>
    public string? TrainingOrientation =>
        Options.TargetOrientation ?? (_orientations.Values.Distinct().ToList() is [{ } only] ? only : null);

    /// <summary>The cache file for a scan with content hash <paramref name="scanSha256"/>.</summary>
    public string EntryPath(string scanSha256) => Path.Combine(Folder, TensorNames.For(scanSha256, Options));

    private static string? OrientationOf(string scanPath)
    {
        // The header only: opening a NIfTI reads no voxel data.
        using var image = NiftiImage.Open(scanPath);
        var header = image.Header;
        return header.QformCode > 0 || header.SformCode > 0 ? AxisOrientation.FromAffine(header.GetBestAffine())?.Codes : null;
    }

    /// <summary>The preprocessed tensor of the scan at <paramref name="scanPath"/>, from the cache or computed and stored.</summary>
    public async Task<Float32Tensor> GetAsync(string scanPath, CancellationToken cancellationToken = default)
    {
        string sha256 = await Sha256Hex.OfFileAsync(scanPath, cancellationToken).ConfigureAwait(false);
        _hashes[Path.GetFullPath(scanPath)] = sha256;
        string entry = EntryPath(sha256);
        _orientations[Path.GetFullPath(scanPath)] = OrientationOf(scanPath);
        if (File.Exists(entry))
        {
            try
            {
                var cached = await NpyFile.ReadAsync(entry, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (cached.Shape.SequenceEqual([Options.TargetShape.Width, Options.TargetShape.Height, Options.TargetShape.Depth]))
                {
                    Interlocked.Increment(ref _hits);
                    return cached;
                }
            }
            catch (NpyFormatException)
            {
                // A damaged entry is recomputed and replaced below, never trusted.
            }
        }

        Float32Tensor tensor;
        using (var image = NiftiImage.Open(scanPath))
        {
            var intake = _intake.Process(image, cancellationToken);
            if (intake.Error is { } rejected)
                throw new InvalidDataException($"{scanPath}: rejected by the input gate ({rejected.Code}): {rejected.Message}; remove the file from the training data or fix it");
            tensor = intake.Scan!.Tensor;
        }
        Interlocked.Increment(ref _preprocessed);
        Directory.CreateDirectory(Folder);
        string temporary = $"{entry}.{Guid.NewGuid():N}.tmp";
        await using (var file = File.Create(temporary))
            await NpyFile.WriteAsync(file, tensor, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, entry, overwrite: true);
        return tensor;
    }
}
