using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Preprocessing;

namespace CtScan.Validation;

/// <summary>What <see cref="ScanIntake.Process"/> decided about one scan and, unless rejected, the model input.</summary>
/// <param name="Scan">The preprocessed scan; null when rejected.</param>
/// <param name="Rejection">The first failed hard check; null when the scan passed.</param>
/// <param name="Warnings">Soft findings, in check order.</param>
/// <param name="SourceShape">The shape as stored in the file.</param>
/// <param name="SpacingMm">The voxel spacing as stored (|pixdim| in mm).</param>
/// <param name="Orientation">Axis codes read from the affine; null when the header has none.</param>
public sealed record IntakeResult(
    PreprocessedScan? Scan,
    GateFinding? Rejection,
    IReadOnlyList<GateFinding> Warnings,
    VolumeShape SourceShape,
    (double X, double Y, double Z) SpacingMm,
    string Datatype,
    string? Orientation)
{
    /// <summary>The result's error for a rejected scan.</summary>
    public ScanError? Error => Rejection is null ? null : new ScanError(Rejection.Code, Rejection.Message);

    /// <summary>The result's warnings; null when there are none (omitted from the JSON).</summary>
    public IReadOnlyList<ScanWarning>? ResultWarnings =>
        Warnings.Count == 0 ? null : [.. Warnings.Select(w => new ScanWarning(w.Code, w.Message))];

    /// <summary>The result's input description for a scan file with hash <paramref name="sha256"/>.</summary>
    public InputDescription Describe(string sha256) =>
        new(sha256, [SourceShape.Width, SourceShape.Height, SourceShape.Depth], Datatype, [SpacingMm.X, SpacingMm.Y, SpacingMm.Z], Orientation);
}

/// <summary>
/// The one decision path from a NIfTI scan to a model input, shared by <c>ctscan score</c>, the pipeline's ingest
/// step and training: header checks of the <see cref="InputGate"/> (before any voxel is read) → reorientation to the
/// training orientation (axis permutation and flips only) → opt-in spacing resampling → the seed's preprocessing,
/// with a <see cref="VoxelSurvey"/> riding along the read → data checks. A rejected scan has no tensor.
/// Every scan is held to a <see cref="ScanWorkBudget"/>: the memory its path needs is estimated from the header before
/// any buffer is allocated, and decoding stops at the time budget; either rejects the scan with <c>too-large</c>.
/// </summary>
/// <remarks>Safe to share across threads, like <see cref="ScanPreprocessor"/>.</remarks>
public sealed class ScanIntake
{
    private readonly ScanPreprocessor _preprocessor;
    private readonly AxisOrientation? _targetOrientation;
    private readonly TimeProvider _time;

    /// <param name="budget">Memory and time per scan; default <see cref="ScanWorkBudget.Default"/>.</param>
    /// <param name="time">The clock of the time budget (tests pass a fake one).</param>
    public ScanIntake(PreprocessingOptions options, InputGateSpec? gate = null, ScanWorkBudget? budget = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _preprocessor = new ScanPreprocessor(options);
        _targetOrientation = options.TargetOrientation is null ? null : AxisOrientation.Parse(options.TargetOrientation);
        Gate = new InputGate(gate);
        Budget = (budget ?? ScanWorkBudget.Default).Validated();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The intake a model's manifest describes: its preprocessing and its gate thresholds.</summary>
    public static ScanIntake For(PreprocessingSpec preprocessing, InputGateSpec? gate = null, ScanWorkBudget? budget = null) =>
        new(PreprocessingSpecs.ToOptions(preprocessing), gate, budget);

    public PreprocessingOptions Options => _preprocessor.Options;

    public ScanWorkBudget Budget { get; }

    public InputGate Gate { get; }

    /// <summary>Checks and preprocesses the first (or only) volume of <paramref name="image"/>.</summary>
    /// <exception cref="NiftiFormatException">The file cannot be read (truncated data, several volumes, …).</exception>
    public IntakeResult Process(NiftiImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var header = image.Header;
        var shape = image.VolumeShape;
        var (px, py, pz) = header.SpacingMm;
        (double X, double Y, double Z) spacing = (Math.Abs(px), Math.Abs(py), Math.Abs(pz));
        bool declared = header.QformCode > 0 || header.SformCode > 0;
        var orientation = declared ? AxisOrientation.FromAffine(header.GetBestAffine()) : null;
        string datatype = header.DataType.Name();

        // The header checks see the volume as preprocessing will: reoriented when the model asks for it.
        var map = _targetOrientation is not null && orientation is not null ? _targetOrientation.MappingFrom(orientation) : null;
        var reorient = map is not null && !Reorientation.IsIdentity(map);
        int[] n = [shape.Width, shape.Height, shape.Depth];
        double[] s = [spacing.X, spacing.Y, spacing.Z];
        var seen = map is null ? shape : new VolumeShape(n[map[0].SourceAxis], n[map[1].SourceAxis], n[map[2].SourceAxis]);
        var seenSpacing = map is null ? spacing : (s[map[0].SourceAxis], s[map[1].SourceAxis], s[map[2].SourceAxis]);
        var findings = new List<GateFinding>(Gate.CheckHeader(new GateGeometry(seen, seenSpacing, orientation, declared, _targetOrientation is not null)));
        IntakeResult Outcome(PreprocessedScan? scan) => new(
            findings.Any(f => f.Severity == GateSeverity.Rejection) ? null : scan,
            findings.FirstOrDefault(f => f.Severity == GateSeverity.Rejection),
            [.. findings.Where(f => f.Severity == GateSeverity.Warning)],
            shape, spacing, datatype, orientation?.Codes);
        if (findings.Any(f => f.Severity == GateSeverity.Rejection)) return Outcome(null);

        // Refused before any buffer exists: the reader's slice buffer plus the preprocessing path's peak.
        var resampled = Options.TargetSpacingMm is { } targetSpacing ? SpacingResampler.OutputShape(seen, seenSpacing, targetSpacing) : (VolumeShape?)null;
        long needed = (long)shape.SliceVoxelCount * header.DataType.BytesPerVoxel()
                      + PreprocessingMemory.Peak(shape, seen, Options.TargetShape, reorient, resampled);
        if (needed > Budget.MaxMemoryBytes)
        {
            string path = reorient || resampled is not null
                ? $"the whole volume in float64{(reorient ? ", its reoriented copy" : "")}{(resampled is { } r ? $", its resampling to {r}" : "")} and the resize to {Options.TargetShape}"
                : $"the streamed resize to {Options.TargetShape}";
            findings.Add(TooLarge(ScanWorkBudget.Megabytes(needed), ScanWorkBudget.Megabytes(Budget.MaxMemoryBytes),
                $"preprocessing this {shape} {datatype} scan needs ~{ScanWorkBudget.Megabytes(needed)} ({path}), " +
                $"budget {ScanWorkBudget.Megabytes(Budget.MaxMemoryBytes)}"));
            return Outcome(null);
        }

        using var timeout = new CancellationTokenSource(Budget.MaxDuration, _time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = _time.GetTimestamp();
        var survey = new VoxelSurvey(image.OpenVolume(), Gate.Spec.AirMaximumHu);
        try
        {
            IVolumeSlices slices = survey;
            if (reorient || resampled is not null)
            {
                // Permutations and spacing changes need the whole volume; scans in the training orientation keep streaming.
                var grid = VolumeGrid.Read(survey, spacing, deadline.Token);
                if (reorient) grid = Reorientation.Apply(grid, orientation!, _targetOrientation!);
                if (Options.TargetSpacingMm is { } target) grid = SpacingResampler.Apply(grid, target);
                slices = grid.ToSlices();
            }
            var preprocessed = _preprocessor.Process(slices, deadline.Token);
            findings.AddRange(Gate.CheckData(survey.Result));
            return Outcome(preprocessed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            var elapsed = _time.GetElapsedTime(started);
            findings.Add(TooLarge(Seconds(elapsed), Seconds(Budget.MaxDuration),
                $"decoding and preprocessing this {shape} {datatype} scan was stopped after {Seconds(elapsed)}, " +
                $"over the time budget of {Seconds(Budget.MaxDuration)}"));
            return Outcome(null);
        }
        catch (NiftiLimitException error)
        {
            findings.Add(TooLarge(error.Limit, error.Limit, error.Detail));
            return Outcome(null);
        }
        catch (OutOfMemoryException)
        {
            // Only a large array allocation of this scan can fail here (nothing is left half-built that others share),
            // so it is safe to answer; it means the host has less memory free than the budget assumes.
            findings.Add(TooLarge(ScanWorkBudget.Megabytes(needed), ScanWorkBudget.Megabytes(Budget.MaxMemoryBytes),
                $"the host ran out of memory preprocessing this {shape} {datatype} scan (estimated ~{ScanWorkBudget.Megabytes(needed)}, " +
                $"budget {ScanWorkBudget.Megabytes(Budget.MaxMemoryBytes)}); lower the memory budget to what the host has free"));
            return Outcome(null);
        }
    }

    private static GateFinding TooLarge(string measured, string threshold, string message) =>
        new(ScanErrorCodes.TooLarge, GateSeverity.Rejection, measured, threshold, message);

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " s";
}
