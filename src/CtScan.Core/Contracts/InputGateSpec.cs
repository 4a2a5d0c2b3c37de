using System.Globalization;

namespace CtScan.Contracts;

/// <summary>
/// <c>inputGate</c> in a model's manifest: the thresholds of the input gate (docs/input-gate.md). Every field is
/// optional; a missing field, or a manifest without the section, takes the chest-CT default below. "Hard" limits
/// reject the scan; "typical"/"recommended" ones only add a warning to the result.
/// </summary>
/// <remarks>
/// Settable rather than init-only on purpose: System.Text.Json's source generator sets every init-only property in
/// one object initializer, so a field missing from the JSON would become 0 instead of keeping its default.
/// </remarks>
public sealed record InputGateSpec
{
    /// <summary>A new instance with the defaults for chest CT in Hounsfield units.</summary>
    public static InputGateSpec CtDefaults => new();

    /// <summary>Hard: voxels per in-plane axis (array axes 0 and 1) at least this.</summary>
    public int MinInPlaneVoxels { get; set; } = 16;

    /// <summary>Hard: slices (array axis 2) at least this; a 2-D image stored as 3-D has one.</summary>
    public int MinSlices { get; set; } = 8;

    /// <summary>Soft: fewer slices than this gives the <c>few-slices</c> warning (the model saw more in training).</summary>
    public int RecommendedMinSlices { get; set; } = 16;

    /// <summary>Hard: in-plane field of view (voxels × spacing) per axis, in mm, at least this.</summary>
    public double MinFieldOfViewMm { get; set; } = 20;

    /// <summary>Hard: every voxel spacing in mm lies in [MinSpacingMm, MaxSpacingMm].</summary>
    public double MinSpacingMm { get; set; } = 0.05;

    public double MaxSpacingMm { get; set; } = 30;

    /// <summary>Soft: a spacing outside [TypicalMinSpacingMm, TypicalMaxSpacingMm] gives <c>unusual-spacing</c>.</summary>
    public double TypicalMinSpacingMm { get; set; } = 0.2;

    public double TypicalMaxSpacingMm { get; set; } = 10;

    /// <summary>Hard: the fraction of NaN/±∞ voxels allowed (default 0: any non-finite voxel rejects the scan).</summary>
    public double MaxNonFiniteFraction { get; set; }

    /// <summary>Hard: every finite value lies in [MinHu, MaxHu] (CT: −1024 air, padding down to −3024, dense metal up to tens of thousands).</summary>
    public double MinHu { get; set; } = -3100;

    public double MaxHu { get; set; } = 40000;

    /// <summary>Voxels at or below this value count as air.</summary>
    public double AirMaximumHu { get; set; } = -900;

    /// <summary>Hard: at least this fraction of voxels is air (a chest CT has air around the body and in the lungs).</summary>
    public double MinAirFraction { get; set; } = 0.01;

    /// <summary>
    /// Hard: the mean absolute difference of neighbouring voxels divided by the standard deviation is at most this.
    /// Independent noise gives about 1.13; a real image, whose neighbours resemble each other, far less.
    /// </summary>
    public double MaxNeighbourDifferenceRatio { get; set; } = 0.5;

    /// <summary>Soft: an axis further than this from its closest world axis gives <c>oblique-affine</c>.</summary>
    public double ObliqueToleranceDegrees { get; set; } = 1;

    /// <summary>Every problem, naming the field, the bad value and what is allowed; empty when usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Check(bool ok, string field, double value, string rule)
        {
            if (!ok) problems.Add($"{field}: {rule}; got {value.ToString(CultureInfo.InvariantCulture)}");
        }
        Check(MinInPlaneVoxels >= 1, "minInPlaneVoxels", MinInPlaneVoxels, "must be at least 1");
        Check(MinSlices >= 1, "minSlices", MinSlices, "must be at least 1");
        Check(RecommendedMinSlices >= MinSlices, "recommendedMinSlices", RecommendedMinSlices, $"must be at least minSlices ({MinSlices})");
        Check(MinFieldOfViewMm >= 0 && double.IsFinite(MinFieldOfViewMm), "minFieldOfViewMm", MinFieldOfViewMm, "must be a finite number ≥ 0");
        Check(MinSpacingMm > 0 && MinSpacingMm < MaxSpacingMm && double.IsFinite(MaxSpacingMm), "minSpacingMm", MinSpacingMm, $"must be > 0 and below a finite maxSpacingMm ({MaxSpacingMm.ToString(CultureInfo.InvariantCulture)})");
        Check(TypicalMinSpacingMm <= TypicalMaxSpacingMm, "typicalMinSpacingMm", TypicalMinSpacingMm, $"must not exceed typicalMaxSpacingMm ({TypicalMaxSpacingMm.ToString(CultureInfo.InvariantCulture)})");
        Check(MaxNonFiniteFraction is >= 0 and <= 1, "maxNonFiniteFraction", MaxNonFiniteFraction, "must be in [0, 1]");
        Check(MinHu < MaxHu, "minHu", MinHu, $"must be below maxHu ({MaxHu.ToString(CultureInfo.InvariantCulture)})");
        Check(MinAirFraction is >= 0 and <= 1, "minAirFraction", MinAirFraction, "must be in [0, 1]");
        Check(MaxNeighbourDifferenceRatio > 0, "maxNeighbourDifferenceRatio", MaxNeighbourDifferenceRatio, "must be > 0");
        Check(ObliqueToleranceDegrees is >= 0 and <= 45, "obliqueToleranceDegrees", ObliqueToleranceDegrees, "must be in [0, 45]");
        return problems;
    }
}
