using CtScan.Preprocessing;
using CtScan.Tensors;

namespace CtScan.Training.Tests.Training;

public sealed class DataTests
{
    private static List<LabeledScan> Scans(int normal, int abnormal) =>
    [
        .. Enumerable.Range(0, normal).Select(n => new LabeledScan($"/d/CT-0/n{n:D3}.nii.gz", 0)),
        .. Enumerable.Range(0, abnormal).Select(n => new LabeledScan($"/d/CT-23/a{n:D3}.nii.gz", 1)),
    ];

    [Fact]
    public void DataSplit_HundredPerClass_HoldsOutThirtyOfEach()
    {
        var split = DataSplit.Create(Scans(100, 100), 0.3, seed: 1337);

        Assert.Equal(30, split.Validation.Count(s => s.Label == 0));
        Assert.Equal(30, split.Validation.Count(s => s.Label == 1));
        Assert.Equal(140, split.Training.Count);
        Assert.Empty(split.Training.Intersect(split.Validation));
    }

    [Fact]
    public void DataSplit_SameSeed_SameSplit_OtherSeed_Differs()
    {
        var scans = Scans(20, 20);

        Assert.Equal(DataSplit.Create(scans, 0.3, 5).Validation, DataSplit.Create(scans, 0.3, 5).Validation);
        Assert.NotEqual(DataSplit.Create(scans, 0.3, 5).Validation, DataSplit.Create(scans, 0.3, 6).Validation);
    }

    [Fact]
    public void DataSplit_OneScanInAClass_IsRefused()
    {
        Assert.Contains("class 1 has 1 scan", Assert.Throws<ArgumentException>(() => DataSplit.Create(Scans(4, 1), 0.3, 1)).Message);
    }

    [Fact]
    public void ScanCatalog_MosMedFolders_LabelsBySubfolder()
    {
        using var folder = new TempDirectory();
        folder.Touch("CT-0/a.nii.gz");
        folder.Touch("CT-0/notes.txt");
        folder.Touch("CT-23/b.nii");

        var scans = ScanCatalog.Discover(folder.Root);

        Assert.Equal([("a.nii.gz", 0), ("b.nii", 1)], scans.Select(s => (Path.GetFileName(s.Path), s.Label)));
    }

    [Fact]
    public void ScanCatalog_LabelsCsv_ResolvesPathsRelativeToTheCsv()
    {
        using var folder = new TempDirectory();
        folder.Touch("scans/x.nii");
        folder.Touch("scans/y.nii.gz");
        File.WriteAllText(Path.Combine(folder.Root, "labels.csv"), "scan,label\nscans/x.nii,1\nscans/y.nii.gz,0\n");

        var scans = ScanCatalog.Discover(folder.Root);

        Assert.Equal([(Path.Combine(folder.Root, "scans/x.nii"), 1), (Path.Combine(folder.Root, "scans/y.nii.gz"), 0)], scans.Select(s => (s.Path, s.Label)));
    }

    [Fact]
    public void ScanCatalog_BadInput_SaysWhatWasExpected()
    {
        using var folder = new TempDirectory();
        Assert.Contains("expected CT-0/ and CT-23/", Assert.Throws<ArgumentException>(() => ScanCatalog.Discover(folder.Root)).Message);

        folder.Touch("x.nii");
        File.WriteAllText(Path.Combine(folder.Root, "labels.csv"), "scan,label\nx.nii,abnormal\n");
        Assert.Contains("line 2: label must be 0 (normal) or 1 (abnormal); got 'abnormal'", Assert.Throws<ArgumentException>(() => ScanCatalog.Discover(folder.Root)).Message);
    }

    [Fact]
    public async Task TensorCache_SecondRequest_DoesNotPreprocessAgain()
    {
        using var data = new PhantomData(2);
        var scan = ScanCatalog.Discover(data.Data)[0].Path;
        var options = new PreprocessingOptions { TargetShape = new VolumeShape(46, 46, 46) };
        string folder = data.Output("cache");

        var first = await new TensorCache(folder, options).GetAsync(scan);
        var cache = new TensorCache(folder, options);
        var second = await cache.GetAsync(scan);
        // Same bytes under another name: same content hash, same entry.
        string copy = data.Output("copy.nii");
        File.Copy(scan, copy);
        await cache.GetAsync(copy);

        Assert.Equal((0, 2), (cache.PreprocessedCount, cache.HitCount));
        Assert.Equal(first.Data, second.Data);
        Assert.Single(Directory.GetFiles(folder, "*.npy"));
        Assert.Equal(46 * 46 * 46, (await NpyFile.ReadAsync(Directory.GetFiles(folder, "*.npy")[0])).Data.Length);
    }

    [Fact]
    public async Task TensorCache_OtherParameters_PreprocessAgain()
    {
        using var data = new PhantomData(2);
        var scan = ScanCatalog.Discover(data.Data)[0].Path;
        string folder = data.Output("cache");
        await new TensorCache(folder, new PreprocessingOptions { TargetShape = new VolumeShape(46, 46, 46) }).GetAsync(scan);

        var other = new TensorCache(folder, new PreprocessingOptions { TargetShape = new VolumeShape(48, 48, 46) });
        await other.GetAsync(scan);

        Assert.Equal((1, 0), (other.PreprocessedCount, other.HitCount));
        Assert.Equal(2, Directory.GetFiles(folder, "*.npy").Length);
    }

    [Fact]
    public async Task TensorCache_ScanTheInputGateRejects_FailsNamingTheFileAndTheCode()
    {
        using var data = new PhantomData(2);
        string path = data.Output("half-nan.nii");
        var values = Enumerable.Range(0, 64 * 64 * 48).Select(n => n % 2 == 0 ? float.NaN : -1000f).ToArray();
        Nifti.NiftiWriter.Write<float>(path, values, new Nifti.NiftiWriteOptions { Shape = [64, 64, 48], VoxelSize = [0.7, 0.7, 5] });
        var cache = new TensorCache(data.Output("cache"), new PreprocessingOptions { TargetShape = new VolumeShape(46, 46, 46) });

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => cache.GetAsync(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("non-finite-values", error.Message);
        Assert.Equal(0, cache.PreprocessedCount);
        Assert.False(Directory.Exists(data.Output("cache")) && Directory.GetFiles(data.Output("cache"), "*.npy").Length > 0);
    }

    [Fact]
    public async Task TensorCache_Phantoms_RecordTheirCommonOrientation()
    {
        using var data = new PhantomData(2);
        var cache = new TensorCache(data.Output("cache"), new PreprocessingOptions { TargetShape = new VolumeShape(46, 46, 46) });
        foreach (var scan in ScanCatalog.Discover(data.Data)) await cache.GetAsync(scan.Path);

        Assert.All(cache.ScanOrientations.Values, codes => Assert.Equal("LPS", codes));
        Assert.Equal("LPS", cache.TrainingOrientation);
    }

    [Fact]
    public async Task TensorCache_MixedOrientations_RecordNoTrainingOrientation()
    {
        using var data = new PhantomData(2);
        string unoriented = data.Output("no-orientation.nii");
        Nifti.NiftiWriter.Write<short>(unoriented, Enumerable.Range(0, 64 * 64 * 48).Select(n => (short)(n % 64 < 32 ? -1000 : 40)).ToArray(),
            new Nifti.NiftiWriteOptions { Shape = [64, 64, 48], VoxelSize = [0.7, 0.7, 5] });
        var cache = new TensorCache(data.Output("cache"), new PreprocessingOptions { TargetShape = new VolumeShape(46, 46, 46) });
        await cache.GetAsync(ScanCatalog.Discover(data.Data)[0].Path);
        await cache.GetAsync(unoriented);

        Assert.Null(cache.TrainingOrientation);
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("ctscan-data-test-").FullName;

        public void Touch(string relative)
        {
            string path = Path.Combine(Root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "");
        }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}
