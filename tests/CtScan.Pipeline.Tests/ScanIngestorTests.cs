using System.Text;
using CtScan.Contracts;
using CtScan.Phantoms;
using CtScan.Tensors;

namespace CtScan.Pipeline.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class ScanIngestorTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task IngestAsync_NoModelYet_WritesSeedTensorAndEnqueuesBase64Request()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        var bytes = t.Phantom(PhantomLabel.Normal);
        string sha = Sha256Hex.Of(bytes);

        var result = await t.IngestAsync("ward 3/patient é/scan 01.nii.gz", bytes);

        Assert.True(result.Queued);
        Assert.True(result.TensorCreated);
        Assert.Equal(sha, result.Sha256);
        Assert.Equal($"{sha}.npy", result.Tensor);
        var tensorBlob = await t.Services.Clients.Tensors.GetBlobClient($"{sha}.npy").DownloadContentAsync();
        var tensor = NpyFile.Read(tensorBlob.Value.Content.ToStream());
        Assert.Equal([128, 128, 64], tensor.Shape);
        var metadata = tensorBlob.Value.Details.Metadata;
        Assert.Equal("64,64,16", metadata[TensorMetadata.SourceShape]);
        Assert.Equal("int16", metadata[TensorMetadata.Datatype]);
        Assert.Equal(sha, metadata[TensorMetadata.Sha256]);
        var spacing = metadata[TensorMetadata.SpacingMm].Split(',').Select(double.Parse).ToArray();
        Assert.Equal(0.7, spacing[0], 5);
        Assert.Equal(5.0, spacing[2], 5);

        // On the wire the message is base64 (what both hosts' queue triggers decode by default).
        var raw = (await t.RawQueue(t.Options.ScoreRequestsQueue).PeekMessageAsync()).Value.Body.ToString();
        var request = ContractsJson.DeserializeScoreRequest(Encoding.UTF8.GetString(Convert.FromBase64String(raw)));
        Assert.Equal("ward 3/patient é/scan 01.nii.gz", request.Scan);
        Assert.Equal($"{sha}.npy", request.Tensor);
        Assert.Equal(sha, request.Sha256);
        Assert.True(DateTimeOffset.UtcNow - request.EnqueuedAt < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task IngestAsync_ModelWithOtherPreprocessing_NamesTensorByShapeAndWindow()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        await t.PublishAsync(PipelineTestContext.ModelSmall);
        var bytes = t.Phantom(PhantomLabel.Abnormal, seed: 2);
        string sha = Sha256Hex.Of(bytes);

        var result = await t.IngestAsync("s.nii.gz", bytes);

        Assert.Equal($"{sha}-46x46x46-hu-1000_400.npy", result.Tensor);
        var tensor = NpyFile.Read((await t.Services.Clients.Tensors.GetBlobClient(result.Tensor).DownloadContentAsync()).Value.Content.ToStream());
        Assert.Equal([46, 46, 46], tensor.Shape);
    }

    [Fact]
    public async Task IngestAsync_SameBytesUnderTwoNames_PreprocessesOnce()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        var bytes = t.Phantom(PhantomLabel.Normal, seed: 3, extension: ".nii");

        var first = await t.IngestAsync("a.nii", bytes);
        var tensor = t.Services.Clients.Tensors.GetBlobClient(first.Tensor);
        var etag = (await tensor.GetPropertiesAsync()).Value.ETag;
        var second = await t.IngestAsync("copies/b.nii", bytes);

        Assert.True(first.TensorCreated);
        Assert.False(second.TensorCreated);
        Assert.False(second.TimingsMs.ContainsKey("preprocess"));
        Assert.Equal(first.Tensor, second.Tensor);
        Assert.Equal(etag, (await tensor.GetPropertiesAsync()).Value.ETag);
        var scans = new[] { await t.ReceiveRequestAsync(), await t.ReceiveRequestAsync() }
            .Select(m => ContractsJson.DeserializeScoreRequest(m!)).Select(r => (r.Scan, r.Tensor)).OrderBy(x => x.Scan).ToArray();
        Assert.Equal([("a.nii", first.Tensor!), ("copies/b.nii", first.Tensor!)], scans);
    }

    [Theory]
    [InlineData("garbage.nii.gz", "not gzip at all, just text")]
    [InlineData("garbage.nii", "a text file renamed to .nii, long enough to pass as a header? no: it is only a sentence.")]
    public async Task IngestAsync_NotNifti_RejectsAtOnceNamingTheFile(string name, string content)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);

        var result = await t.IngestAsync(name, Encoding.UTF8.GetBytes(content));

        Assert.False(result.Queued);
        var stored = await t.ReadResultAsync(name + ".json");
        Assert.NotNull(stored);
        Assert.Equal(ScanStatus.Rejected, stored.Status);
        Assert.Equal(ScanErrorCodes.UnreadableInput, stored.Error!.Code);
        Assert.Contains(name, stored.Error.Message);
        Assert.Null(await t.ReceiveRequestAsync());
    }

    [Fact]
    public async Task IngestAsync_TruncatedScan_Rejected()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        var bytes = t.Phantom(PhantomLabel.Normal, extension: ".nii");

        var result = await t.IngestAsync("cut.nii", bytes[..(bytes.Length / 2)]);

        Assert.False(result.Queued);
        Assert.Equal(ScanErrorCodes.UnreadableInput, result.Error!.Code);
        Assert.Contains("cut.nii", result.Error.Message);
        Assert.Equal(ScanStatus.Rejected, (await t.ReadResultAsync("cut.nii.json"))!.Status);
    }

    [Theory]
    [InlineData("scan.dcm")]
    [InlineData("notes.txt")]
    [InlineData("scan.nii.zip")]
    public async Task IngestAsync_NotNiftiName_RejectedAsUnsupportedFormat(string name)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);

        var result = await t.IngestAsync(name, t.Phantom(PhantomLabel.Normal));

        Assert.Equal(ScanErrorCodes.UnsupportedFormat, result.Error!.Code);
        Assert.Equal(ScanErrorCodes.UnsupportedFormat, (await t.ReadResultAsync(name + ".json"))!.Error!.Code);
        Assert.Null(await t.ReceiveRequestAsync());
    }

    [Fact]
    public async Task IngestAsync_OverSizeLimit_RejectedAsTooLarge()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite, o => o with { MaxScanBytes = 10_000 });

        var result = await t.IngestAsync("big.nii", t.Phantom(PhantomLabel.Normal, extension: ".nii"));

        Assert.Equal(PipelineErrorCodes.ScanTooLarge, result.Error!.Code);
        Assert.Contains("10000", result.Error.Message);
        Assert.Equal(ScanStatus.Rejected, (await t.ReadResultAsync("big.nii.json"))!.Status);
    }

    [Fact]
    public async Task IngestAsync_AllVoxelsNaN_RejectedAsNonFinite()
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);
        string path = t.TempPath("nan.nii");
        // 16 slices: a smaller volume would be refused as volume-too-small before its voxels are read.
        var data = Enumerable.Repeat(float.NaN, 50 * 50 * 16).ToArray();
        Nifti.NiftiWriter.Write<float>(path, data, new Nifti.NiftiWriteOptions { Shape = [50, 50, 16], VoxelSize = [1, 1, 1] });

        var result = await t.IngestAsync("nan.nii", File.ReadAllBytes(path));

        Assert.Equal(ScanErrorCodes.NonFiniteValues, result.Error!.Code);
    }

    [Theory]
    [InlineData("../escape.nii.gz")]
    [InlineData("a/../../escape.nii.gz")]
    [InlineData("/rooted.nii.gz")]
    [InlineData("back\\slash.nii.gz")]
    [InlineData("dot/./seg.nii.gz")]
    [InlineData("ctl\u0001char.nii.gz")]
    [InlineData("double//slash.nii.gz")]
    public async Task IngestAsync_UnsafeName_RejectedUnderSafeNameInsideResults(string name)
    {
        await using var t = await PipelineTestContext.CreateAsync(azurite);

        var result = await t.IngestAsync(name, t.Phantom(PhantomLabel.Normal));

        Assert.Equal(PipelineErrorCodes.UnsafeName, result.Error!.Code);
        Assert.StartsWith(ScanNames.UnsafeNamesFolder + "/", result.ResultBlobName);
        var names = await t.ResultBlobNamesAsync();
        var only = Assert.Single(names);
        Assert.Equal(result.ResultBlobName, only);
        Assert.DoesNotContain("..", only.Split('/'));
        Assert.DoesNotContain('\\', only);
        var stored = await t.ReadResultAsync(only);
        Assert.Equal(name, stored!.Scan);
        Assert.Equal(ScanStatus.Rejected, stored.Status);
        // Nothing was written anywhere else in the account: only the test's own containers exist for its prefix.
        await foreach (var container in t.Services.Clients.BlobService.GetBlobContainersAsync(prefix: t.Options.ResultsContainer[..11]))
            Assert.Contains(container.Name, new[] { t.Options.ScansContainer, t.Options.TensorsContainer, t.Options.ResultsContainer, t.Options.ModelsContainer, t.Options.TrainingContainer });
    }

    [Theory]
    [InlineData("plain.nii.gz", "plain.nii.gz.json")]
    [InlineData("folder/sub folder/ünïcödé 名前.nii", "folder/sub folder/ünïcödé 名前.nii.json")]
    public void ResultBlobName_SafeNames_AreScanNamePlusJson(string scan, string expected) =>
        Assert.Equal(expected, ScanNames.ResultBlobName(scan));
}
