using System.Globalization;
using CtScan.Contracts;
using CtScan.Preprocessing;

namespace CtScan.Validation;

/// <summary>Whether a finding rejects the scan or only warns.</summary>
public enum GateSeverity
{
    Warning,
    Rejection,
}

/// <summary>One check's verdict: its code, the value measured, the threshold it was held to, and a message naming both.</summary>
public sealed record GateFinding(string Code, GateSeverity Severity, string Measured, string Threshold, string Message);

/// <summary>The facts the header checks need: the volume's shape and spacing in the layout preprocessing will see
/// (after reorientation), the orientation read from the affine, and whether the header declared one.</summary>
public sealed record GateGeometry(VolumeShape Shape, (double X, double Y, double Z) SpacingMm, AxisOrientation? Orientation,
    bool HeaderDeclaresOrientation, bool OrientationRequired);

/// <summary>
/// The input gate: named checks with chest-CT thresholds from the model's manifest (<see cref="InputGateSpec"/>).
/// Header checks run before any voxel is read; data checks on a <see cref="VoxelSurveyResult"/>. Each returns
/// findings; the first rejection decides the result's error, warnings go to the result as they are.
/// docs/input-gate.md lists every code.
/// </summary>
public sealed class InputGate
{
    public InputGate(InputGateSpec? spec = null)
    {
        Spec = spec ?? InputGateSpec.CtDefaults;
        var problems = Spec.Validate();
        if (problems.Count > 0) throw new ArgumentException($"invalid input gate thresholds: {string.Join("; ", problems)}", nameof(spec));
    }

    public InputGateSpec Spec { get; }

    /// <summary>Extents, field of view, spacing and orientation, in that order.</summary>
    public IReadOnlyList<GateFinding> CheckHeader(GateGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var findings = new List<GateFinding>();
        var s = Spec;
        var shape = geometry.Shape;
        var (sx, sy, sz) = geometry.SpacingMm;

        if (geometry.Orientation is null && geometry.OrientationRequired)
            findings.Add(Reject(ScanErrorCodes.OrientationUndetermined, geometry.HeaderDeclaresOrientation ? "singular affine" : "no qform/sform",
                "an orthogonal or oblique affine",
                geometry.HeaderDeclaresOrientation
                    ? "the affine's rotation part is singular or not finite, so the scan's orientation cannot be read; the model needs it to lay the scan out as in training"
                    : "the header has neither a qform nor an sform (both codes are 0), so the scan's orientation is unknown; the model needs it to lay the scan out as in training"));
        else if (geometry.Orientation is null)
            findings.Add(Warn(ScanWarningCodes.OrientationUnknown, "none", "qform or sform",
                "the header gives no usable orientation; the array was used as stored"));
        else if (geometry.Orientation.ObliquityDegrees > s.ObliqueToleranceDegrees)
            findings.Add(Warn(ScanWarningCodes.ObliqueAffine, Degrees(geometry.Orientation.ObliquityDegrees), Degrees(s.ObliqueToleranceDegrees),
                $"the affine is oblique ({Degrees(geometry.Orientation.ObliquityDegrees)} from the closest axes, tolerance {Degrees(s.ObliqueToleranceDegrees)}); " +
                $"the scan was handled as its closest orthogonal orientation {geometry.Orientation.Codes}, without resampling"));

        if (shape.Width < s.MinInPlaneVoxels || shape.Height < s.MinInPlaneVoxels || shape.Depth < s.MinSlices)
            findings.Add(Reject(ScanErrorCodes.VolumeTooSmall, shape.ToString(), $"{s.MinInPlaneVoxels}×{s.MinInPlaneVoxels}×{s.MinSlices}",
                $"the volume is {shape} voxels; at least {s.MinInPlaneVoxels} per in-plane axis and {s.MinSlices} slices are needed " +
                (shape.Depth == 1 ? "(this is a single 2-D slice stored as 3-D)" : "(too small to be a chest CT)")));

        double[] spacing = [sx, sy, sz];
        if (spacing.Any(v => !(v >= s.MinSpacingMm && v <= s.MaxSpacingMm)))
            findings.Add(Reject(ScanErrorCodes.ImplausibleSpacing, Millimetres(spacing), $"[{Number(s.MinSpacingMm)}, {Number(s.MaxSpacingMm)}] mm",
                $"voxel spacing {Millimetres(spacing)} is outside the plausible range [{Number(s.MinSpacingMm)}, {Number(s.MaxSpacingMm)}] mm per axis (check pixdim and xyzt_units)"));
        else
        {
            double fovX = shape.Width * sx, fovY = shape.Height * sy;
            if (fovX < s.MinFieldOfViewMm || fovY < s.MinFieldOfViewMm)
                findings.Add(Reject(ScanErrorCodes.FieldOfViewTooSmall, Millimetres([fovX, fovY]), $"{Number(s.MinFieldOfViewMm)} mm",
                    $"the in-plane field of view is {Millimetres([fovX, fovY])}; at least {Number(s.MinFieldOfViewMm)} mm per axis is needed"));
            if (spacing.Any(v => v < s.TypicalMinSpacingMm || v > s.TypicalMaxSpacingMm))
                findings.Add(Warn(ScanWarningCodes.UnusualSpacing, Millimetres(spacing), $"[{Number(s.TypicalMinSpacingMm)}, {Number(s.TypicalMaxSpacingMm)}] mm",
                    $"voxel spacing {Millimetres(spacing)} is unusual for chest CT (typical: [{Number(s.TypicalMinSpacingMm)}, {Number(s.TypicalMaxSpacingMm)}] mm per axis)"));
        }
        if (shape.Depth >= s.MinSlices && shape.Depth < s.RecommendedMinSlices)
            findings.Add(Warn(ScanWarningCodes.FewSlices, shape.Depth.ToString(CultureInfo.InvariantCulture), s.RecommendedMinSlices.ToString(CultureInfo.InvariantCulture),
                $"the scan has {shape.Depth} slices; the model was made for at least {s.RecommendedMinSlices}"));
        return findings;
    }

    /// <summary>Non-finite voxels, Hounsfield range, air, and structure, in that order; at most one rejection.</summary>
    public IReadOnlyList<GateFinding> CheckData(VoxelSurveyResult survey)
    {
        ArgumentNullException.ThrowIfNull(survey);
        var s = Spec;
        if (survey.NonFiniteCount > 0)
        {
            double fraction = (double)survey.NonFiniteCount / survey.VoxelCount;
            string counts = $"{survey.NonFiniteCount} of {survey.VoxelCount} voxels are not finite ({survey.NaNCount} NaN, {survey.PositiveInfinityCount} +inf, {survey.NegativeInfinityCount} -inf)";
            if (fraction > s.MaxNonFiniteFraction || survey.NonFiniteCount == survey.VoxelCount)
                return [Reject(ScanErrorCodes.NonFiniteValues, Percent(fraction), Percent(s.MaxNonFiniteFraction),
                    $"{counts}; allowed: {Percent(s.MaxNonFiniteFraction)}")];
        }
        if (survey.Min < s.MinHu || survey.Max > s.MaxHu)
            return [Reject(ScanErrorCodes.ImplausibleIntensities, Range(survey.Min, survey.Max), Range(s.MinHu, s.MaxHu),
                $"values range over {Range(survey.Min, survey.Max)}, outside the Hounsfield range {Range(s.MinHu, s.MaxHu)} of CT (a wrong scl_slope/scl_inter, or not a CT image)")];
        if (survey.AirFraction < s.MinAirFraction)
        {
            string measured = $"{Percent(survey.AirFraction)} of voxels ≤ {Number(s.AirMaximumHu)} HU, values {Range(survey.Min, survey.Max)}";
            string noAir = $"no air: {measured}; a chest CT has at least {Percent(s.MinAirFraction)} air around the body and in the lungs";
            // Shifted by the usual intercept, air and soft tissue would be where CT puts them: an unscaled CT.
            bool looksUnscaled = survey.Min >= 0 && survey.UnscaledAirFraction >= s.MinAirFraction && survey.UnscaledTissueFraction >= 0.05
                                 && survey.Max + VoxelSurvey.UsualRescaleIntercept <= s.MaxHu;
            if (looksUnscaled)
                return [Reject(ScanErrorCodes.ImplausibleIntensities, measured, $"{Percent(s.MinAirFraction)} air",
                    $"{noAir}. This looks like a CT stored without its rescale intercept (raw values, air near 0 and soft tissue near 1024 instead of -1000 and 40 HU): set scl_slope 1 and scl_inter -1024 when converting")];
            string looksLike = survey.Min >= 0
                ? "All values are non-negative and there is no air: this looks like an MR image or another modality, not CT in Hounsfield units"
                : "This looks like an MR image or another modality (or a CT cropped inside the body), not a chest CT in Hounsfield units";
            return [Reject(ScanErrorCodes.NotACtVolume, measured, $"{Percent(s.MinAirFraction)} air", $"{noAir}. {looksLike}")];
        }
        double ratio = survey.NeighbourDifferenceRatio;
        if (!(survey.StandardDeviation >= 1))
            return [Reject(ScanErrorCodes.NotACtVolume, $"standard deviation {Number(survey.StandardDeviation)} HU", "1 HU",
                $"the volume is uniform (standard deviation {Number(survey.StandardDeviation)} HU): there is no image in it")];
        // NaN: no two finite neighbours (only possible when non-finite voxels were allowed); nothing to measure.
        if (ratio > s.MaxNeighbourDifferenceRatio)
            return [Reject(ScanErrorCodes.NotACtVolume, Number(ratio), Number(s.MaxNeighbourDifferenceRatio),
                $"neighbouring voxels differ as much as random ones (mean difference / standard deviation {Number(ratio)}, at most {Number(s.MaxNeighbourDifferenceRatio)} for an image): this looks like random noise, not a scan")];
        return [];
    }

    private static GateFinding Reject(string code, string measured, string threshold, string message) => new(code, GateSeverity.Rejection, measured, threshold, message);

    private static GateFinding Warn(string code, string measured, string threshold, string message) => new(code, GateSeverity.Warning, measured, threshold, message);

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Degrees(double value) => value.ToString("0.##", CultureInfo.InvariantCulture) + "°";

    private static string Percent(double fraction) => (fraction * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";

    private static string Range(double min, double max) => $"[{Number(min)}, {Number(max)}]";

    private static string Millimetres(double[] values) => string.Join(" × ", values.Select(Number)) + " mm";
}
