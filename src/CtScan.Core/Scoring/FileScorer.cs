using System.Diagnostics;
using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Tensors;

namespace CtScan.Scoring;

/// <summary>
/// Scores one file — a NIfTI scan (.nii, .nii.gz), preprocessed with the model's own parameters, or a preprocessed
/// .npy tensor — and describes the outcome as a <see cref="ScanResult"/>. Bad input never throws: it becomes a
/// <c>rejected</c> result with an error code; a model that fails to run becomes <c>failed</c>.
/// </summary>
public sealed class FileScorer
{
    private readonly OnnxScorer _scorer;
    private readonly ScanPreprocessor _preprocessor;
    private readonly TimeProvider _clock;

    public FileScorer(OnnxScorer scorer, TimeProvider? clock = null)
    {
        _scorer = scorer ?? throw new ArgumentNullException(nameof(scorer));
        _clock = clock ?? TimeProvider.System;
        var spec = scorer.Manifest.Preprocessing;
        _preprocessor = new ScanPreprocessor(new PreprocessingOptions
        {
            WindowMinimumHu = spec.WindowMinimumHu,
            WindowMaximumHu = spec.WindowMaximumHu,
            TargetShape = new VolumeShape(spec.TargetShape[0], spec.TargetShape[1], spec.TargetShape[2]),
        });
    }

    /// <summary>Scores <paramref name="path"/>; <paramref name="scanName"/> (default: the path) goes into the result.</summary>
    public async Task<ScanResult> ScoreAsync(string path, string? scanName = null, CancellationToken cancellationToken = default)
    {
        scanName ??= path;
        var timings = new Dictionary<string, double>();
        var total = Stopwatch.StartNew();
        string lower = path.ToLowerInvariant();
        bool isNifti = lower.EndsWith(".nii", StringComparison.Ordinal) || lower.EndsWith(".nii.gz", StringComparison.Ordinal);
        if (!isNifti && !lower.EndsWith(".npy", StringComparison.Ordinal))
            return Rejected(scanName, ScanErrorCodes.UnsupportedFormat,
                $"{path}: expected a .nii, .nii.gz or .npy file", timings, total);

        string sha256;
        float[] tensor;
        InputDescription input;
        try
        {
            sha256 = await Sha256Hex.OfFileAsync(path, cancellationToken);
            (tensor, input) = isNifti
                ? Preprocess(path, sha256, timings, cancellationToken)
                : await ReadTensorAsync(path, sha256, timings, cancellationToken);
        }
        catch (Exception error) when (error is NiftiFormatException or NpyFormatException or InvalidDataException or EndOfStreamException)
        {
            return Rejected(scanName, ScanErrorCodes.UnreadableInput, error.Message, timings, total);
        }

        var expected = _scorer.Manifest.InputVolume;
        int[] expectedShape = [expected.Width, expected.Height, expected.Depth];
        if (!isNifti && !input.Shape.SequenceEqual(expectedShape))
            return Rejected(scanName, ScanErrorCodes.ShapeMismatch,
                $"tensor shape [{string.Join(", ", input.Shape)}]; model {_scorer.Manifest.Version} takes [{string.Join(", ", expectedShape)}]", timings, total, input);
        if (!AllFinite(tensor))
            return Rejected(scanName, ScanErrorCodes.NonFiniteValues, "the tensor holds NaN or infinite values", timings, total, input);

        ScanScore score;
        var inference = Stopwatch.StartNew();
        try
        {
            score = _scorer.Score(tensor, cancellationToken);
        }
        catch (Exception error) when (error is Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            return Result(scanName, ScanStatus.Failed, timings, total, input) with { Error = new ScanError(ScanErrorCodes.InferenceFailed, error.Message) };
        }
        timings["inference"] = inference.Elapsed.TotalMilliseconds;
        return Result(scanName, ScanStatus.Scored, timings, total, input) with
        {
            ProbabilityAbnormal = score.ProbabilityAbnormal,
            Label = score.Label,
            Threshold = _scorer.Manifest.Threshold,
            Model = new ModelReference(_scorer.Manifest.Version, _scorer.Manifest.Sha256),
        };
    }

    // Voxels stream from the file while they are preprocessed, so "read" is opening the file and its header only.
    private (float[], InputDescription) Preprocess(string path, string sha256, Dictionary<string, double> timings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var image = NiftiImage.Open(path);
        var source = image.VolumeShape;
        var spacing = image.Header.SpacingMm;
        timings["read"] = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var scan = _preprocessor.Process(image.OpenVolume(), cancellationToken);
        timings["preprocess"] = clock.Elapsed.TotalMilliseconds;
        return (scan.Tensor.Data, new InputDescription(sha256, [source.Width, source.Height, source.Depth],
            image.Header.DataType.Name(), [spacing.X, spacing.Y, spacing.Z]));
    }

    private static async Task<(float[], InputDescription)> ReadTensorAsync(string path, string sha256, Dictionary<string, double> timings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var tensor = await NpyFile.ReadAsync(path, cancellationToken: cancellationToken);
        timings["read"] = clock.Elapsed.TotalMilliseconds;
        return (tensor.Data, new InputDescription(sha256, [.. tensor.Shape], "float32"));
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values) if (!float.IsFinite(v)) return false;
        return true;
    }

    private ScanResult Rejected(string scan, string code, string message, Dictionary<string, double> timings, Stopwatch total, InputDescription? input = null) =>
        Result(scan, ScanStatus.Rejected, timings, total, input) with { Error = new ScanError(code, message) };

    private ScanResult Result(string scan, ScanStatus status, Dictionary<string, double> timings, Stopwatch total, InputDescription? input)
    {
        timings["total"] = total.Elapsed.TotalMilliseconds;
        return new ScanResult { Scan = scan, Status = status, Input = input, TimingsMs = timings, CreatedAt = _clock.GetUtcNow() };
    }
}
