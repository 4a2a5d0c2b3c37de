using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Training.Explanation;
using CtScan.Training.Onnx;

namespace CtScan.Training.Tests.Explanation;

public sealed class GradCamTests
{
    private static CtScanNet Model()
    {
        var model = new CtScanNet(ModelTestShapes.Small);
        KerasInitializer.Apply(model, seed: 1);
        model.eval();
        return model;
    }

    private static float[] Scan(VolumeShape shape)
    {
        var random = new Random(3);
        var scan = new float[shape.VoxelCount];
        for (int n = 0; n < scan.Length; n++) scan[n] = random.NextSingle();
        return scan;
    }

    [Fact]
    public void Explain_SmallModel_GivesAMapOnTheInputGridScaledToOne()
    {
        using var gradCam = new GradCam(Model());
        var grid = ModelTestShapes.Small.Input;

        var map = gradCam.Explain(Scan(grid));

        Assert.Equal(ExplanationMethods.GradCam, map.Method);
        Assert.Equal(grid, map.Grid);
        Assert.Equal(grid.VoxelCount, map.Values.Length);
        Assert.All(map.Values, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(1f, map.Values.Max());
        Assert.InRange(map.ProbabilityAbnormal, 0, 1);
        Assert.Equal(1, map.Cost!.Inferences);
        Assert.Contains("one forward and backward pass", map.Note);
    }

    [Fact]
    public void Explain_ProbabilityIsTheModelsOwn()
    {
        using var model = Model();
        var grid = ModelTestShapes.Small.Input;
        var scan = Scan(grid);
        using var input = TorchSharp.torch.tensor(scan, [1, 1, grid.Width, grid.Height, grid.Depth]);
        double expected;
        using (TorchSharp.torch.no_grad()) expected = model.call(input).item<float>();
        using var gradCam = new GradCam(Model());

        Assert.Equal(expected, gradCam.Explain(scan).ProbabilityAbnormal, 5);
    }

    [Fact]
    public void Explain_Guided_IsThePlainMapTimesAPositiveVoxelDetail_ZeroWhereThePlainMapIsZero()
    {
        var grid = ModelTestShapes.Small.Input;
        var scan = Scan(grid);
        using var plain = new GradCam(Model());
        using var guided = new GradCam(Model(), guided: true);

        var coarse = plain.Explain(scan);
        var fine = guided.Explain(scan);

        Assert.Equal(ExplanationMethods.GuidedGradCam, fine.Method);
        Assert.Equal(coarse.ProbabilityAbnormal, fine.ProbabilityAbnormal, 6);
        Assert.All(fine.Values, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(1f, fine.Values.Max());
        Assert.Contains("guided backpropagation", fine.Note);
        for (int n = 0; n < fine.Values.Length; n++)
            if (coarse.Values[n] == 0) Assert.Equal(0f, fine.Values[n]);
        // Voxel detail: many more distinct values than the plain map's smooth interpolation between 2×2×2 cells.
        Assert.True(fine.Values.Distinct().Count() > coarse.Values.Distinct().Count());
    }

    [Fact]
    public void Explain_Guided_IsZeroWhereTheInputIsZero()
    {
        // The detail term is guided gradient × input: a voxel at the fill value 0 (air) carries no evidence.
        var grid = ModelTestShapes.Small.Input;
        var scan = Scan(grid);
        for (int n = 0; n < scan.Length; n += 2) scan[n] = 0;
        using var guided = new GradCam(Model(), guided: true);

        var map = guided.Explain(scan);

        for (int n = 0; n < scan.Length; n += 2) Assert.Equal(0f, map.Values[n]);
    }

    [Fact]
    public void Upsample_OneHotCell_PeaksAtItsReceptiveFieldCentre()
    {
        using var gradCam = new GradCam(Model());
        var grid = ModelTestShapes.Small.Input; // 46³: the last conv output is 2×2×2 (8p + 18.5: centres 18.5 and 26.5)
        var cam = new float[8];
        cam[0] = 1; // cell (0, 0, 0)

        var map = gradCam.Upsample(cam, new VolumeShape(2, 2, 2));

        Assert.Equal(1f, map[grid.IndexOf(10, 10, 10)]);          // before the first centre: held
        Assert.Equal(1f, map[grid.IndexOf(18, 18, 18)]);
        Assert.Equal(1 - (22 - 18.5f) / 8, map[grid.IndexOf(22, 18, 18)], 5); // between the centres along i: linear
        Assert.Equal(0f, map[grid.IndexOf(40, 40, 40)]);
    }

    [Fact]
    public void Factory_GradCamWithCheckpoint_IsGradCamAndWithoutItOcclusionWithANote()
    {
        var folder = Directory.CreateTempSubdirectory("ctscan-gradcam-test-");
        try
        {
            using var model = Model();
            ModelExport.ToFolder(model, folder.FullName);
            // Export writes the checkpoint beside the model; without it, Grad-CAM falls back to occlusion with a note.
            string checkpoint = Path.Combine(folder.FullName, TrainingRunPaths.CheckpointFolderName);
            Assert.True(GradCam.HasWeights(folder.FullName));
            Directory.Delete(checkpoint, recursive: true);
            var notes = new List<string>();

            using (var fallback = SaliencyMethodFactory.Open(folder.FullName, ExplanationMethods.GradCam, note: notes.Add))
                Assert.IsType<OcclusionSensitivity>(fallback);
            Assert.Contains("no TorchSharp weights", Assert.Single(notes));

            ModelCheckpoint.Save(model, checkpoint);
            Assert.True(GradCam.HasWeights(folder.FullName));
            using var method = SaliencyMethodFactory.Open(folder.FullName, ExplanationMethods.GradCam, note: notes.Add);
            Assert.IsType<GradCam>(method);
            Assert.Single(notes);
            using var guided = SaliencyMethodFactory.Open(folder.FullName, ExplanationMethods.GuidedGradCam, note: notes.Add);
            Assert.Equal(ExplanationMethods.GuidedGradCam, Assert.IsType<GradCam>(guided).Method);
            Assert.Single(notes);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Factory_UnknownMethod_NamesTheChoices() =>
        Assert.Contains("occlusion, gradcam or guided-gradcam", Assert.Throws<ArgumentException>(() => SaliencyMethodFactory.Open(".", "lime")).Message);
}
