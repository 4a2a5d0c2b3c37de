using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Preprocessing;
using CtScan.Scoring;
using CtScan.Tests.Contracts;
using CtScan.Validation;

namespace CtScan.Tests.Validation;

/// <summary>Writes the hostile corpus and the corpus model once for the class.</summary>
public sealed class HostileCorpusFixture : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-corpus-");

    public HostileCorpusFixture()
    {
        Folder = HostileCorpus.Write(Path.Combine(_temp.FullName, "scans"));
        Model = HostileCorpus.WriteModel(Path.Combine(_temp.FullName, "model"));
    }

    public string Folder { get; }

    public string Model { get; }

    public string PathOf(string name) => Path.Combine(Folder, name);

    public void Dispose() => _temp.Delete(recursive: true);
}

/// <summary>Every check of the input gate against a file made to trip it, through ScanIntake and through FileScorer (ctscan score).</summary>
public sealed class InputGateCorpusTests(HostileCorpusFixture corpus) : IClassFixture<HostileCorpusFixture>
{
    public static TheoryData<string> CaseNames => [.. HostileCorpus.Cases.Select(c => c.Name)];

    private static HostileCase Case(string name) => HostileCorpus.Cases.Single(c => c.Name == name);

    private static readonly PreprocessingOptions CorpusOptions = new() { TargetShape = new VolumeShape(46, 46, 46), TargetOrientation = HostileCorpus.PhantomOrientation };

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Intake_HostileFile_RejectsWithItsCodeOrWarns(string name)
    {
        var expected = Case(name);
        using var image = NiftiImage.Open(corpus.PathOf(name));

        var result = new ScanIntake(CorpusOptions).Process(image);

        Assert.Equal(expected.Code, result.Rejection?.Code);
        Assert.Equal(expected.Status == ScanStatus.Scored, result.Scan is not null);
        Assert.Equal(expected.Warning, result.Warnings.SingleOrDefault()?.Code);
        if (expected.Orientation is not null) Assert.Equal(expected.Orientation, result.Orientation);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task FileScorer_HostileFile_GivesTheExpectedStatusCodeAndASchemaValidResult(string name)
    {
        var expected = Case(name);
        using var scorer = OnnxScorer.Open(corpus.Model);

        var result = await new FileScorer(scorer).ScoreAsync(corpus.PathOf(name), name);

        Assert.Equal(expected.Status, result.Status);
        Assert.Equal(expected.Code, result.Error?.Code);
        Assert.Equal(expected.Warning, result.Warnings?.Single().Code);
        Assert.Empty(ResultSchema.Errors(ContractsJson.Serialize(result)));
        if (expected.Status == ScanStatus.Rejected)
        {
            Assert.Null(result.ProbabilityAbnormal);
            Assert.Null(result.Label);
            Assert.Contains(name, result.Error!.Message);
        }
        if (expected.Orientation is not null) Assert.Equal(expected.Orientation, result.Input!.Orientation);
    }

    [Fact]
    public void Intake_HalfNaN_NamesTheCountsAndTheAllowedFraction()
    {
        using var image = NiftiImage.Open(corpus.PathOf("half-nan.nii"));

        var rejection = new ScanIntake(CorpusOptions).Process(image).Rejection!;

        long voxels = HostileCorpus.Shape.VoxelCount;
        Assert.Equal("50%", rejection.Measured);
        Assert.Equal("0%", rejection.Threshold);
        Assert.Contains($"{voxels / 2} of {voxels} voxels are not finite ({voxels / 2} NaN, 0 +inf, 0 -inf)", rejection.Message);
    }

    [Theory]
    [InlineData("mr-t1.nii", "MR image")]
    [InlineData("unscaled-ct.nii", "without its rescale intercept")]
    [InlineData("noise.nii", "random noise")]
    [InlineData("uniform.nii", "uniform")]
    [InlineData("hu-times-100.nii", "outside the Hounsfield range")]
    public void Intake_NotCt_SaysWhatTheVolumeLooksLike(string name, string phrase)
    {
        using var image = NiftiImage.Open(corpus.PathOf(name));

        var rejection = new ScanIntake(CorpusOptions).Process(image).Rejection!;

        Assert.Contains(phrase, rejection.Message);
    }

    [Fact]
    public void Intake_ManifestThresholds_ChangeTheDecision()
    {
        // The same file passes once the manifest allows half of the voxels to be NaN.
        using var image = NiftiImage.Open(corpus.PathOf("half-nan.nii"));

        var result = new ScanIntake(CorpusOptions, new InputGateSpec { MaxNonFiniteFraction = 0.6 }).Process(image);

        Assert.Null(result.Rejection);
        Assert.NotNull(result.Scan);
    }

    [Theory]
    [InlineData("p03_abnormal_512x400x37_int16.nii.gz")]
    [InlineData("p04_normal_64x64x20_float32.nii")]
    [InlineData("p06_normal_256x256x33_uint8_s8i-1024.nii")]
    [InlineData("p08_abnormal_256x203x45_int16.nii.gz")]
    public void Intake_GoldenPhantoms_PassTheDefaultGate(string file)
    {
        using var image = NiftiImage.Open(Fixtures.Golden(file));

        var result = new ScanIntake(new PreprocessingOptions { TargetShape = new VolumeShape(32, 32, 16) }).Process(image);

        Assert.Null(result.Rejection);
        // p04 was written with 5.6 × 5.6 × 16 mm voxels: scored, with a warning that 16 mm slices are unusual.
        Assert.Equal(file.StartsWith("p04", StringComparison.Ordinal) ? [ScanWarningCodes.UnusualSpacing] : [], result.Warnings.Select(w => w.Code));
        Assert.Equal("LPS", result.Orientation);
    }

    [Fact]
    public void Intake_DefaultPhantomOfCtscanPhantoms_PassesTheDefaultGate()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "phantom.nii.gz");
        ChestPhantomFile.Write(path, new ChestPhantomOptions { Label = PhantomLabel.Abnormal, Seed = 1 });
        using var image = NiftiImage.Open(path);

        var result = new ScanIntake(new PreprocessingOptions { TargetShape = new VolumeShape(32, 32, 16), TargetOrientation = "LPS" }).Process(image);

        Assert.Null(result.Rejection);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Intake_PassingScan_GivesTheSeedsTensorUnchanged()
    {
        // The gate only decides; for a valid scan in the training orientation the tensor is the seed's preprocessing.
        using var image = NiftiImage.Open(Fixtures.Golden("p04_normal_64x64x20_float32.nii"));
        using var again = NiftiImage.Open(Fixtures.Golden("p04_normal_64x64x20_float32.nii"));
        var options = new PreprocessingOptions { TargetShape = new VolumeShape(32, 32, 16), TargetOrientation = "LPS" };

        var gated = new ScanIntake(options).Process(image).Scan!.Tensor.Data;
        var seed = new ScanPreprocessor(options with { TargetOrientation = null }).Process(again.OpenVolume()).Tensor.Data;

        Assert.Equal(seed, gated);
    }

    private sealed class TempDirectory : IDisposable
    {
        private readonly DirectoryInfo _info = Directory.CreateTempSubdirectory("ctscan-gate-");

        public string Path => _info.FullName;

        public void Dispose() => _info.Delete(recursive: true);
    }
}
