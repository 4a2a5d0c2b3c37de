using System.Diagnostics;
using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Tensors;
using CtScan.Validation;

namespace CtScan.Scoring;

/// <summary>
/// Scores one file — a NIfTI scan (.nii, .nii.gz), preprocessed with the model's own parameters, or a preprocessed
/// .npy tensor — and describes the outcome as a <see cref="ScanResult"/>. Bad input never throws: it becomes a
/// <c>rejected</c> result with an error code; a model that fails to run, or returns no probability, becomes <c>failed</c>.
/// NIfTI scans go through <see cref="ScanIntake"/>, the same input gate and preprocessing the pipeline uses.
/// </summary>
public sealed class FileScorer
{
    private readonly OnnxScorer _scorer;
    private readonly ScanIntake _intake;
    private readonly TimeProvider _clock;
    private readonly NiftiReadOptions _readOptions;

    /// <param name="budget">What one scan may cost (<see cref="ScanWorkBudget"/>); default the documented defaults.</param>
    /// <param name="readOptions">The reader's bounds (data size, trailing data, vox_offset gap); default the documented defaults.</param>
    public FileScorer(OnnxScorer scorer, TimeProvider? clock = null, ScanWorkBudget? budget = null, NiftiReadOptions? readOptions = null)
    {
        _scorer = scorer ?? throw new ArgumentNullException(nameof(scorer));
        _clock = clock ?? TimeProvider.System;
        _intake = ScanIntake.For(scorer.Manifest.Preprocessing, scorer.Manifest.InputGate, budget);
        _readOptions = readOptions ?? NiftiReadOptions.Default;
    }

    /// <summary>The model this scorer runs.</summary>
    public OnnxScorer Model => _scorer;

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
        float[]? tensor;
        InputDescription input;
        IntakeResult? intake = null;
        try
        {
            sha256 = await Sha256Hex.OfFileAsync(path, cancellationToken);
            if (isNifti)
            {
                intake = Preprocess(path, timings, cancellationToken);
                (tensor, input) = (intake.Scan?.Tensor.Data, intake.Describe(sha256));
            }
            else
            {
                (tensor, input) = await ReadTensorAsync(path, sha256, timings, cancellationToken);
            }
        }
        catch (NiftiLimitException error)
        {
            return Rejected(scanName, ScanErrorCodes.TooLarge, error.Message, timings, total);
        }
        catch (Exception error) when (error is NiftiFormatException or NpyFormatException or InvalidDataException or EndOfStreamException)
        {
            return Rejected(scanName, ScanErrorCodes.UnreadableInput, error.Message, timings, total);
        }

        var warnings = intake?.ResultWarnings;
        if (intake?.Error is { } rejection)
            return Rejected(scanName, rejection.Code, $"{path}: {rejection.Message}", timings, total, input) with { Warnings = warnings };
        if (tensor is null) throw new InvalidOperationException("the intake passed a scan without a tensor");

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
            return Result(scanName, ScanStatus.Failed, timings, total, input) with { Error = new ScanError(ScanErrorCodes.InferenceFailed, error.Message), Warnings = warnings };
        }
        catch (InvalidModelOutputException error)
        {
            return Result(scanName, ScanStatus.Failed, timings, total, input) with { Error = new ScanError(ScanErrorCodes.InvalidModelOutput, $"{path}: {error.Message}"), Warnings = warnings };
        }
        timings["inference"] = inference.Elapsed.TotalMilliseconds;
        return Result(scanName, ScanStatus.Scored, timings, total, input) with
        {
            Warnings = warnings,
            ProbabilityAbnormal = score.ProbabilityAbnormal,
            Label = score.Label,
            Threshold = _scorer.Manifest.Threshold,
            Model = new ModelReference(_scorer.Manifest.Version, _scorer.Manifest.Sha256),
        };
    }

    // Voxels stream from the file while they are preprocessed, so "read" is opening the file and its header only.
    private IntakeResult Preprocess(string path, Dictionary<string, double> timings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var image = NiftiImage.Open(path, _readOptions);
        timings["read"] = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var intake = _intake.Process(image, cancellationToken);
        timings["preprocess"] = clock.Elapsed.TotalMilliseconds;
        return intake;
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
