using TorchSharp;

namespace CtScan.Training.Tests;

public class ModelCheckpointTests
{
    [Fact]
    public void SaveThenLoad_GivesTheSameOutputsAndOptions()
    {
        var options = new ModelOptions { Input = new VolumeShape(46, 48, 46), WidthMultiplier = 0.25 };
        using var model = new CtScanNet(options);
        KerasInitializer.Apply(model, seed: 11);
        // Train-mode steps move the BatchNorm running statistics away from 0/1, so the test covers them too.
        model.train();
        using (var warm = torch.rand([2, 1, 46, 48, 46], generator: new torch.Generator(2))) model.call(warm).Dispose();
        model.eval();
        var folder = Directory.CreateTempSubdirectory("ctscan-checkpoint-test-").FullName;
        try
        {
            ModelCheckpoint.Save(model, folder);
            using var loaded = ModelCheckpoint.Load(folder);

            Assert.Equal(options, loaded.Options with { });
            Assert.False(loaded.training);
            using var input = torch.rand([3, 1, 46, 48, 46], generator: new torch.Generator(9));
            using var expected = model.call(input);
            using var actual = loaded.call(input);
            Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Load_MissingWeights_NamesTheFile()
    {
        var folder = Directory.CreateTempSubdirectory("ctscan-checkpoint-test-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, ModelCheckpoint.OptionsFileName), """{"inputWidth":46,"inputHeight":46,"inputDepth":46,"widthMultiplier":0.25}""");
            var error = Assert.Throws<FileNotFoundException>(() => ModelCheckpoint.Load(folder));
            Assert.Contains(ModelCheckpoint.WeightsFileName, error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
