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
/// </summary>
/// <remarks>Safe to share across threads, like <see cref="ScanPreprocessor"/>.</remarks>
public sealed class ScanIntake
{
    private readonly ScanPreprocessor _preprocessor;
    private readonly AxisOrientation? _targetOrientation;

    public ScanIntake(PreprocessingOptions options, InputGateSpec? gate = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _preprocessor = new ScanPreprocessor(options);
        _targetOrientation = options.TargetOrientation is null ? null : AxisOrientation.Parse(options.TargetOrientation);
        Gate = new InputGate(gate);
    }

    /// <summary>The intake a model's manifest describes: its preprocessing and its gate thresholds.</summary>
    public static ScanIntake For(PreprocessingSpec preprocessing, InputGateSpec? gate = null) => new(OptionsOf(preprocessing), gate);

    /// <summary>The preprocessing options a manifest's <see cref="PreprocessingSpec"/> describes.</summary>
    public static PreprocessingOptions OptionsOf(PreprocessingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new PreprocessingOptions
        {
            WindowMinimumHu = spec.WindowMinimumHu,
            WindowMaximumHu = spec.WindowMaximumHu,
            TargetShape = new VolumeShape(spec.TargetShape[0], spec.TargetShape[1], spec.TargetShape[2]),
            TargetOrientation = spec.Orientation,
            TargetSpacingMm = spec.TargetSpacingMm is [var x, var y, var z] ? (x, y, z) : null,
        };
    }

    public PreprocessingOptions Options => _preprocessor.Options;

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

        var survey = new VoxelSurvey(image.OpenVolume(), Gate.Spec.AirMaximumHu);
        IVolumeSlices slices = survey;
        if (reorient || Options.TargetSpacingMm is not null)
        {
            // Permutations and spacing changes need the whole volume; scans in the training orientation keep streaming.
            var grid = VolumeGrid.Read(survey, spacing, cancellationToken);
            if (reorient) grid = Reorientation.Apply(grid, orientation!, _targetOrientation!);
            if (Options.TargetSpacingMm is { } target) grid = SpacingResampler.Apply(grid, target);
            slices = grid.ToSlices();
        }
        var preprocessed = _preprocessor.Process(slices, cancellationToken);
        findings.AddRange(Gate.CheckData(survey.Result));
        return Outcome(preprocessed);
    }
}
