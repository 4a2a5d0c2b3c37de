using CtScan.Quantization;
using CtScan.Tensors;

namespace CtScan.Pipeline.Tests;

/// <summary>
/// The registry treats an int8 model folder like any other: probed before it moves the pointer, gated on its manifest's
/// valAuc (the float32 source's, carried over by <c>ctscan model quantize</c>), and rolled back from.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class QuantizedModelRegistryTests(AzuriteFixture azurite) : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-int8-registry-");

    public void Dispose() => _temp.Delete(recursive: true);

    /// <summary>The fixture model quantized (its convs have 8 channels, so the eligibility floor is lowered to 1).</summary>
    private string Quantize(string fixture)
    {
        var manifest = PipelineTestContext.Manifest(fixture);
        var volume = manifest.InputVolume;
        var random = new Random(4);
        var data = new float[volume.VoxelCount];
        for (int n = 0; n < data.Length; n++) data[n] = random.NextSingle();
        string tensor = Path.Combine(_temp.FullName, $"{fixture}.npy");
        using (var file = File.Create(tensor)) NpyFile.Write(file, data, [volume.Width, volume.Height, volume.Depth]);
        string folder = Path.Combine(_temp.FullName, fixture + "-int8");
        ModelQuantizer.Quantize(PipelineTestContext.ModelDirectory(fixture), folder, [tensor], new ModelQuantizerOptions
        {
            Layers = new QdqQuantizerOptions { MinimumInputChannels = 1 },
            IntraOpThreads = 1,
        });
        return folder;
    }

    [Fact]
    public async Task PublishAsync_Int8CopyOfTheCurrentModel_PassesTheGateAndRollsBack()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelHigh);

        var result = await t.Services.Registry.PublishAsync(Quantize(PipelineTestContext.ModelHigh), new PublishOptions { Promote = true });

        Assert.Equal(PublishOutcome.Promoted, result.Outcome);
        Assert.Equal($"gate passed: valAuc 0.8 vs current {PipelineTestContext.ModelHigh}'s 0.8", result.Reason);
        var current = await t.Services.Registry.GetCurrentAsync();
        Assert.Equal(PipelineTestContext.ModelHigh + "-int8", current!.Version);
        var stored = await t.Services.Registry.GetManifestAsync(current.Version);
        Assert.Equal("int8", stored.Precision);

        await t.Services.Registry.RollbackAsync();
        Assert.Equal(PipelineTestContext.ModelHigh, (await t.Services.Registry.GetCurrentAsync())!.Version);
    }

    [Fact]
    public async Task PublishAsync_Int8CopyOfALowerAucModel_KeptOutLikeItsSource()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelHigh);

        var result = await t.Services.Registry.PublishAsync(Quantize(PipelineTestContext.ModelLow), new PublishOptions { Promote = true });

        Assert.Equal(PublishOutcome.KeptCurrent, result.Outcome);
        Assert.Equal(PipelineTestContext.ModelHigh, (await t.Services.Registry.GetCurrentAsync())!.Version);
    }
}
