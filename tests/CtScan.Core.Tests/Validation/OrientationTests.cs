using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Scoring;
using CtScan.Validation;

namespace CtScan.Tests.Validation;

public sealed class AxisOrientationTests
{
    // Expected codes and obliquity from nibabel 5.0.0: nib.aff2axcodes(affine), np.degrees(nib.affines.obliquity(affine)).
    [Theory]
    [InlineData(new[] { -0.7, 0, 0, 0, -0.7, 0, 0, 0, 5.0 }, "LPS", 0)]
    [InlineData(new[] { 0.7, 0, 0, 0, 0.7, 0, 0, 0, 5.0 }, "RAS", 0)]
    [InlineData(new[] { 0, -0.7, 0, -0.7, 0, 0, 0, 0, 5.0 }, "PLS", 0)]
    [InlineData(new[] { 1.0, 0, 0, 0, 0, 1, 0, -1, 0 }, "RIA", 0)]
    [InlineData(new[] { 0.68936, -0.12155, 0, 0.12155, 0.68936, 0, 0, 0, 5.0 }, "RAS", 10)]
    [InlineData(new[] { 0.44995, -0.53623, 0, 0.53623, 0.44995, 0, 0, 0, 5.0 }, "ALS", 40)]
    public void FromAffine_MatchesNibabelsAxisCodes(double[] m, string codes, double obliquity)
    {
        var affine = new double[4, 4] { { m[0], m[1], m[2], 0 }, { m[3], m[4], m[5], 0 }, { m[6], m[7], m[8], 0 }, { 0, 0, 0, 1 } };

        var orientation = AxisOrientation.FromAffine(affine)!;

        Assert.Equal(codes, orientation.Codes);
        Assert.Equal(obliquity, orientation.ObliquityDegrees, 0.01);
    }

    [Fact]
    public void FromAffine_SingularOrZeroColumn_IsNull()
    {
        Assert.Null(AxisOrientation.FromAffine(new double[4, 4] { { 1, 1, 0, 0 }, { 0, 0, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } }));
        Assert.Null(AxisOrientation.FromAffine(new double[4, 4] { { 0, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } }));
    }

    [Theory]
    [InlineData("RAS", true)]
    [InlineData("lps", true)]
    [InlineData("RRS", false)]
    [InlineData("RA", false)]
    [InlineData("XYZ", false)]
    public void TryParse_AcceptsOneLetterPerWorldAxis(string codes, bool valid) =>
        Assert.Equal(valid, AxisOrientation.TryParse(codes, out _));

    [Fact]
    public void Reorientation_RasToLps_ReversesIAndJ()
    {
        var shape = new VolumeShape(3, 2, 2);
        double[] values = [.. Enumerable.Range(0, 12).Select(v => (double)v)];

        var grid = Reorientation.Apply(new VolumeGrid(values, shape, (1, 2, 3)), AxisOrientation.Parse("RAS"), AxisOrientation.Parse("LPS"));

        // out(i, j, k) = in(2 − i, 1 − j, k), file order i fastest.
        Assert.Equal([5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6], grid.Values);
        Assert.Equal(shape, grid.Shape);
    }

    [Fact]
    public void Reorientation_Permutation_SwapsExtentsAndSpacing()
    {
        var shape = new VolumeShape(3, 2, 1);
        double[] values = [0, 1, 2, 10, 11, 12]; // in(i, j) = 10 j + i

        var grid = Reorientation.Apply(new VolumeGrid(values, shape, (1, 2, 3)), AxisOrientation.Parse("PLS"), AxisOrientation.Parse("LPS"));

        Assert.Equal(new VolumeShape(2, 3, 1), grid.Shape);
        Assert.Equal((2.0, 1.0, 3.0), grid.SpacingMm);
        Assert.Equal([0, 10, 1, 11, 2, 12], grid.Values); // out(i, j) = in(j, i)
    }
}

/// <summary>One physical image stored three ways must be one model input (issue: 0.21 as written, 0.94 with axes swapped).</summary>
public sealed class OrientationInvarianceTests(HostileCorpusFixture corpus) : IClassFixture<HostileCorpusFixture>
{
    private static readonly string[] Layouts = ["phantom-lps.nii", "phantom-ras.nii", "phantom-permuted.nii"];

    private float[] Tensor(string name, string? orientation)
    {
        using var image = NiftiImage.Open(corpus.PathOf(name));
        var options = new PreprocessingOptions { TargetShape = new VolumeShape(46, 46, 46), TargetOrientation = orientation };
        return new ScanIntake(options).Process(image).Scan!.Tensor.Data;
    }

    [Fact]
    public void Intake_SameImageInRasLpsAndPermuted_GivesTheSameTensor()
    {
        var lps = Tensor(Layouts[0], "LPS");

        Assert.Equal(lps, Tensor(Layouts[1], "LPS"));
        Assert.Equal(lps, Tensor(Layouts[2], "LPS"));
    }

    [Fact]
    public void Intake_SeedBehaviourWithoutOrientation_UsesTheArrayAsStored()
    {
        // The seed's path (no target orientation) stays reachable: permuted storage then is a different input.
        var lps = Tensor(Layouts[0], null);
        var permuted = Tensor(Layouts[2], null);

        Assert.Equal(lps, Tensor(Layouts[0], "LPS"));
        Assert.True(lps.Zip(permuted).Max(p => Math.Abs(p.First - p.Second)) > 0.1f);
    }

    [Fact]
    public async Task FileScorer_SameImageInRasLpsAndPermuted_GivesProbabilitiesWithin1e5()
    {
        using var scorer = OnnxScorer.Open(corpus.Model);
        var fileScorer = new FileScorer(scorer);
        var probabilities = new List<double>();
        foreach (var name in Layouts)
            probabilities.Add((await fileScorer.ScoreAsync(corpus.PathOf(name))).ProbabilityAbnormal!.Value);

        Assert.Equal(probabilities[0], probabilities[1], 1e-5);
        Assert.Equal(probabilities[0], probabilities[2], 1e-5);
    }
}
