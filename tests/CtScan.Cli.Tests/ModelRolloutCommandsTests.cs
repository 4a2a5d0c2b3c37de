using System.Text.Json;
using Azure.Storage.Blobs;
using CtScan.Contracts;
using CtScan.Scoring;
using CtScan.Tests;

namespace CtScan.Cli.Tests;

/// <summary>
/// <c>model publish</c>, <c>promote</c> and <c>rollback</c> run the model once on a zero scan before the pointer moves:
/// a broken model is refused with exit code 3 (model unusable) and current.json stays as it was.
/// </summary>
public sealed class ModelRolloutCommandsTests(CliAzuriteFixture azurite) : IClassFixture<CliAzuriteFixture>, IDisposable
{
    private const string Good = "fixture-small46-auc075";
    private readonly TempFolder _temp = new();
    private readonly ScoreChangingModel _network = new();

    public void Dispose()
    {
        _network.Dispose();
        _temp.Dispose();
    }

    /// <summary>A model folder of the network with <c>score = p (op) constant</c> and a manifest that describes it truly.</summary>
    private string BrokenFolder(string version, string op, float constant)
    {
        byte[] model = _network.Write(op, constant, _temp.Path($"{version}.onnx"));
        var good = ModelFolder.ReadManifest(Fixtures.Path("models", Good));
        var manifest = good with { Version = version, Sha256 = Sha256Hex.Of(model), Output = good.Output with { Name = "score" } };
        ModelFolder.Write(_temp.Path(version), model, manifest);
        return _temp.Path(version);
    }

    private BlobContainerClient Models => new(azurite.ConnectionString, "models");

    private async Task<(string Version, string Sha256)> CurrentAsync()
    {
        var pointer = JsonDocument.Parse((await Models.GetBlobClient("current.json").DownloadContentAsync()).Value.Content.ToString()).RootElement;
        return (pointer.GetProperty("version").GetString()!, pointer.GetProperty("sha256").GetString()!);
    }

    [Theory]
    [InlineData("Add", 2f, "returned 2.")]    // 2 + p: above 1
    [InlineData("Mul", float.NaN, "returned NaN")] // p × NaN
    public async Task PublishAndPromote_ModelThatIsNoProbability_Exit3_PointerStays(string op, float constant, string expected)
    {
        string c = azurite.ConnectionString;
        string version = $"bad-{op.ToLowerInvariant()}";
        var good = await CliRunner.RunAsync("model", "publish", Fixtures.Path("models", Good), "--force", "--connection", c);
        Assert.True(good.ExitCode == 0, good.Error);
        var before = await CurrentAsync();

        string folder = BrokenFolder(version, op, constant);
        var publish = await CliRunner.RunAsync("model", "publish", folder, "--force", "--connection", c);

        Assert.Equal(3, publish.ExitCode); // model unusable (docs/cli-errors.md)
        Assert.StartsWith($"error: refusing to publish {version}: ", publish.Error);
        Assert.Contains("gave no usable score for a zero scan of 46×46×46", publish.Error);
        Assert.Contains(expected, publish.Error);
        Assert.Contains("models/current.json is unchanged", publish.Error);
        Assert.Equal(before, await CurrentAsync());
        Assert.False(await Models.GetBlobClient($"{version}/manifest.json").ExistsAsync());

        // The same model uploaded behind the CLI's back: promote refuses it too.
        await Models.GetBlobClient($"{version}/model.onnx").UploadAsync(Path.Combine(folder, "model.onnx"), overwrite: true);
        await Models.GetBlobClient($"{version}/manifest.json").UploadAsync(Path.Combine(folder, "manifest.json"), overwrite: true);
        var promote = await CliRunner.RunAsync("model", "promote", version, "--connection", c);

        Assert.Equal(3, promote.ExitCode);
        Assert.StartsWith($"error: refusing to promote {version}: ", promote.Error);
        Assert.Contains(expected, promote.Error);
        Assert.Equal(before, await CurrentAsync());
    }

    [Fact]
    public async Task Promote_GarbageBytesBehindTheCliBack_Exit3_PointerStays()
    {
        string c = azurite.ConnectionString;
        var good = await CliRunner.RunAsync("model", "publish", Fixtures.Path("models", Good), "--force", "--connection", c);
        Assert.True(good.ExitCode == 0, good.Error);
        var before = await CurrentAsync();
        byte[] garbage = [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 31 + 7))];
        var manifest = ModelFolder.ReadManifest(Fixtures.Path("models", Good)) with { Version = "garbage", Sha256 = Sha256Hex.Of(garbage) };
        await Models.GetBlobClient("garbage/model.onnx").UploadAsync(BinaryData.FromBytes(garbage), overwrite: true);
        await Models.GetBlobClient("garbage/manifest.json").UploadAsync(BinaryData.FromString(ContractsJson.Serialize(manifest)), overwrite: true);

        var promote = await CliRunner.RunAsync("model", "promote", "garbage", "--connection", c);

        Assert.Equal(3, promote.ExitCode);
        Assert.StartsWith("error: refusing to promote garbage: ONNX Runtime cannot load ", promote.Error);
        Assert.Equal(before, await CurrentAsync());
    }
}
