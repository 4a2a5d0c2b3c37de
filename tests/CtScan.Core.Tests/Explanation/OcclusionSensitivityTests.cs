using CtScan.Contracts;
using CtScan.Explanation;
using CtScan.Nifti;
using CtScan.Phantoms;
using CtScan.Scoring;
using Microsoft.ML.OnnxRuntime;

namespace CtScan.Tests.Explanation;

public sealed class OcclusionSensitivityTests
{
    private static readonly VolumeShape PhantomShape = new(128, 128, 64);

    [Fact]
    public void TryExposeLogit_DemoModel_AddsTheSigmoidInputWhoseSigmoidIsTheProbability()
    {
        string dir = ExplanationFixtures.DemoModel;
        var manifest = ModelFolder.ReadManifest(dir);
        byte[] original = File.ReadAllBytes(Path.Combine(dir, manifest.ModelFile));

        var (model, logit) = OnnxLogitGraph.TryExposeLogit(original, manifest.Output.Name)!.Value;

        using var session = new InferenceSession(model);
        Assert.Contains(logit, session.OutputMetadata.Keys);
        var scan = new float[manifest.InputVolume.VoxelCount];
        for (int n = 0; n < scan.Length; n++) scan[n] = (n % 97) / 97f * 0.6f;
        using var input = OrtValue.CreateTensorValueFromMemory(scan, [1, 1, manifest.InputVolume.Width, manifest.InputVolume.Height, manifest.InputVolume.Depth]);
        using var outputs = session.Run(new RunOptions(), [manifest.Input.Name], [input], [manifest.Output.Name, logit]);
        float probability = outputs[0].GetTensorDataAsSpan<float>()[0], z = outputs[1].GetTensorDataAsSpan<float>()[0];
        Assert.Equal(probability, OnnxScorer.Sigmoid(z), 5);
    }

    [Fact]
    public void TryExposeLogit_OutputNotMadeByASigmoid_IsNull()
    {
        var manifest = ModelFolder.ReadManifest(ExplanationFixtures.DemoModel);
        byte[] original = File.ReadAllBytes(Path.Combine(ExplanationFixtures.DemoModel, manifest.ModelFile));

        Assert.Null(OnnxLogitGraph.TryExposeLogit(original, "no-such-output"));
        Assert.Throws<InvalidDataException>(() => OnnxLogitGraph.TryExposeLogit([0x0A, 0x7F, 1, 2], "probability"));
    }

    [Fact]
    public void Explain_DemoModelOnAPhantom_GivesAMapInZeroOneWithinTheBudgetedGrid()
    {
        using var folder = new TempFolder();
        var (scan, _) = ExplanationFixtures.AbnormalPhantom(folder.Path, 3, PhantomShape);
        using var occlusion = OcclusionSensitivity.Open(ExplanationFixtures.DemoModel);
        var input = ExplanationFixtures.ModelInput(scan, occlusion.Manifest);

        var map = occlusion.Explain(input);

        Assert.Equal(ExplanationMethods.Occlusion, map.Method);
        Assert.Equal("logit", occlusion.Score);
        Assert.Equal(occlusion.Manifest.InputVolume.VoxelCount, map.Values.Length);
        Assert.All(map.Values, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(1f, map.Values.Max());
        Assert.NotNull(map.Cost);
        Assert.InRange(map.Cost.Inferences, 2, new OcclusionOptions().MaxPatches + 1);
        Assert.True(map.Cost.OneInferenceMs > 0 && map.Cost.TotalMs > map.Cost.OneInferenceMs);
        Assert.InRange(map.ProbabilityAbnormal, 0.5, 1.0); // the demo model calls this phantom abnormal
    }

    [Fact]
    public void Explain_AirPatches_AreSkippedAndCostNothing()
    {
        // A scan that is air (the fill value) except one corner block: only the patches touching it are occluded.
        using var occlusion = OcclusionSensitivity.Open(ExplanationFixtures.DemoModel, new OcclusionOptions { MaxPatches = 8 });
        var grid = occlusion.Manifest.InputVolume;
        var input = new float[grid.VoxelCount];
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 10; j++)
                for (int k = 0; k < 10; k++) input[grid.IndexOf(i, j, k)] = 0.7f;

        var map = occlusion.Explain(input);

        Assert.Equal(map.Cost!.PatchGrid!.Value.VoxelCount - (map.Cost.Inferences - 1), map.Cost.PatchesSkipped);
        Assert.True(map.Cost.PatchesSkipped > 0, $"no patch skipped on a {map.Cost.PatchGrid} grid");
    }

    [Fact]
    public void Open_ModelFileNotTheManifests_IsRefused()
    {
        using var folder = new TempFolder();
        foreach (var file in Directory.GetFiles(ExplanationFixtures.DemoModel, "*.json").Append(Path.Combine(ExplanationFixtures.DemoModel, "model.onnx")))
            File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        using (var stream = File.OpenWrite(Path.Combine(folder.Path, "model.onnx"))) stream.WriteByte(0);

        var error = Assert.Throws<ModelLoadException>(() => OcclusionSensitivity.Open(folder.Path));

        Assert.Contains("SHA-256", error.Message);
    }
}
