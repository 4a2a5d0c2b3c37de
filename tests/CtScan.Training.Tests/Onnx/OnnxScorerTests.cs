using CtScan.Contracts;
using CtScan.Scoring;
using CtScan.Training.Onnx;

namespace CtScan.Training.Tests.Onnx;

public sealed class OnnxScorerTests : IDisposable
{
    private static readonly ModelOptions Small = ModelTestShapes.Small;
    private readonly ModelFolders _folders = new();
    private readonly CtScanNet _model = TrainedLookingModel.Create(Small, seed: 21);

    public void Dispose()
    {
        _model.Dispose();
        _folders.Dispose();
    }

    [Fact]
    public void Score_ExportedModel_GivesTorchSharpProbability()
    {
        var scan = OnnxTestInputs.Phantom(Small.Input, 1);
        using var scorer = OnnxScorer.Open(_folders.Export("m", _model), new OnnxScorerOptions { IntraOpThreads = 2 });

        var score = scorer.Score(scan);

        Assert.Equal(TrainedLookingModel.Forward(_model, scan, 1)[0], score.ProbabilityAbnormal, 1e-5);
    }

    [Fact]
    public void Score_NdhwcModel_EqualsNcdhwModel()
    {
        var scans = OnnxTestInputs.Concat(OnnxTestInputs.Random(Small.Input, 2), OnnxTestInputs.Phantom(Small.Input, 3));
        using var channelsFirst = OnnxScorer.Open(_folders.Export("first", _model));
        using var channelsLast = OnnxScorer.Open(_folders.Export("last", _model, new OnnxExportOptions { Layout = TensorLayout.Ndhwc }));

        var expected = channelsFirst.ScoreBatch(scans, 2);
        var actual = channelsLast.ScoreBatch(scans, 2);

        Assert.Equal(TensorLayout.Ndhwc, channelsLast.Manifest.Input.Layout);
        for (int n = 0; n < 2; n++) Assert.Equal(expected[n].ProbabilityAbnormal, actual[n].ProbabilityAbnormal, 1e-6);
    }

    [Fact]
    public void Score_LogitModel_GoesThroughSigmoid()
    {
        var scan = OnnxTestInputs.Random(Small.Input, 4);
        using var sigmoid = OnnxScorer.Open(_folders.Export("sigmoid", _model));
        using var logit = OnnxScorer.Open(_folders.Export("logit", _model, new OnnxExportOptions { Output = OutputKind.Logit }));

        Assert.Equal(sigmoid.Score(scan).ProbabilityAbnormal, logit.Score(scan).ProbabilityAbnormal, 1e-6);
    }

    [Fact]
    public void Score_Threshold_DecidesTheLabel()
    {
        var scan = OnnxTestInputs.Random(Small.Input, 5);
        double probability;
        using (var scorer = OnnxScorer.Open(_folders.Export("probe", _model))) probability = scorer.Score(scan).ProbabilityAbnormal;

        using var below = OnnxScorer.Open(_folders.Export("below", _model, threshold: probability - 0.01));
        using var above = OnnxScorer.Open(_folders.Export("above", _model, threshold: probability + 0.01));

        Assert.Equal(ScanLabels.Abnormal, below.Score(scan).Label);
        Assert.Equal(ScanLabels.Normal, above.Score(scan).Label);
    }

    [Fact]
    public void ScoreBatch_Two_EqualsTwoSingles()
    {
        var first = OnnxTestInputs.Random(Small.Input, 6);
        var second = OnnxTestInputs.Phantom(Small.Input, 7);
        using var scorer = OnnxScorer.Open(_folders.Export("m", _model));

        var batch = scorer.ScoreBatch(OnnxTestInputs.Concat(first, second), 2);

        Assert.Equal(scorer.Score(first).ProbabilityAbnormal, batch[0].ProbabilityAbnormal, 1e-6);
        Assert.Equal(scorer.Score(second).ProbabilityAbnormal, batch[1].ProbabilityAbnormal, 1e-6);
    }

    [Fact]
    public void Score_ConcurrentCalls_GiveTheSequentialResults()
    {
        var scans = Enumerable.Range(0, 4).Select(seed => OnnxTestInputs.Random(Small.Input, 100 + seed)).ToArray();
        using var scorer = OnnxScorer.Open(_folders.Export("m", _model));
        var expected = scans.Select(s => scorer.Score(s).ProbabilityAbnormal).ToArray();

        var actual = new double[scans.Length];
        Parallel.For(0, scans.Length * 4, i => actual[i % scans.Length] = scorer.Score(scans[i % scans.Length]).ProbabilityAbnormal);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Score_WrongLength_NamesTheExpectedShape()
    {
        using var scorer = OnnxScorer.Open(_folders.Export("m", _model));

        var error = Assert.Throws<ArgumentException>(() => scorer.Score(new float[10]));

        Assert.Contains("46×46×46", error.Message);
        Assert.Contains("got 10", error.Message);
    }

    [Fact]
    public void Open_ManifestInputNameNotInGraph_ListsTheGraphInputs()
    {
        var manifest = ModelFolders.ManifestFor(Small, new OnnxExportOptions());
        var folder = _folders.Write("m", CtScanOnnxExporter.Export(_model), manifest with { Input = manifest.Input with { Name = "volume" } });

        var error = Assert.Throws<ModelLoadException>(() => OnnxScorer.Open(folder));

        Assert.Contains("'volume'", error.Message);
        Assert.Contains("[scan]", error.Message);
    }

    [Fact]
    public void Open_ManifestOutputNameNotInGraph_ListsTheGraphOutputs()
    {
        var manifest = ModelFolders.ManifestFor(Small, new OnnxExportOptions());
        var folder = _folders.Write("m", CtScanOnnxExporter.Export(_model), manifest with { Output = manifest.Output with { Name = "p" } });

        var error = Assert.Throws<ModelLoadException>(() => OnnxScorer.Open(folder));

        Assert.Contains("[probability]", error.Message);
    }

    [Theory]
    [InlineData(TensorLayout.Ncdhw, 46, 46, 48)]   // wrong shape
    [InlineData(TensorLayout.Ndhwc, 46, 46, 46)]   // right shape, wrong layout
    public void Open_ManifestShapeOrLayoutDisagreesWithGraph_IsRefusedShowingBoth(TensorLayout layout, int w, int h, int d)
    {
        var manifest = ModelFolders.ManifestFor(Small, new OnnxExportOptions());
        manifest = manifest with
        {
            Input = manifest.Input with { Layout = layout, Shape = [w, h, d] },
            Preprocessing = manifest.Preprocessing with { TargetShape = [w, h, d] },
        };
        var folder = _folders.Write("m", CtScanOnnxExporter.Export(_model), manifest);

        var error = Assert.Throws<ModelLoadException>(() => OnnxScorer.Open(folder));

        Assert.Contains("[?, 1, 46, 46, 46]", error.Message);
        Assert.Contains(ContractNames.Of(layout), error.Message);
    }

    [Fact]
    public void Open_ModelFileChangedAfterExport_IsRefusedNamingBothHashes()
    {
        var folder = _folders.Export("m", _model);
        var manifest = ModelFolder.ReadManifest(folder);
        var other = CtScanOnnxExporter.Export(_model, new OnnxExportOptions { Output = OutputKind.Logit });
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), other);

        var error = Assert.Throws<ModelLoadException>(() => OnnxScorer.Open(folder));

        Assert.Contains(manifest.Sha256, error.Message);
        Assert.Contains(Sha256Hex.Of(other), error.Message);
    }
}
