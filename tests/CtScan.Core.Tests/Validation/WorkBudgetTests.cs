using System.IO.Compression;
using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Scoring;
using CtScan.Validation;

namespace CtScan.Tests.Validation;

/// <summary>
/// The work budget per scan: data after the voxels and the gap before vox_offset are bounded by the reader, the memory
/// preprocessing needs is estimated from the header and refused beyond the budget, decoding stops at the time budget
/// and on cancellation. Each construction is the benchmark's (<c>ctscan bench hostile</c>), made small.
/// </summary>
public sealed class WorkBudgetTests : IDisposable
{
    private static readonly VolumeShape SmallPhantom = new(32, 32, 16);
    private static readonly PreprocessingOptions Lps = new() { TargetShape = new VolumeShape(46, 46, 46), TargetOrientation = "LPS" };
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-budget-");

    public void Dispose() => _temp.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_temp.FullName, name);

    [Fact]
    public void Process_64MiBOfGzippedZerosAfterTheVoxels_RejectedTooLargeNamingTheLimit()
    {
        string path = PathOf("bomb.nii.gz");
        BudgetConstructions.WriteTrailingZeros(path, SmallPhantom, 64L << 20);
        Assert.True(new FileInfo(path).Length < 1 << 20, "64 MiB of zeros gzip to well under 1 MB");
        using var image = NiftiImage.Open(path);

        var result = new ScanIntake(Lps).Process(image);

        Assert.Null(result.Scan);
        Assert.Equal(ScanErrorCodes.TooLarge, result.Rejection?.Code);
        Assert.Contains("more than 4 MiB (4194304 bytes) of decompressed data follow the voxel data", result.Rejection!.Message);
        Assert.Contains(nameof(NiftiReadOptions.MaxTrailingDataBytes), result.Rejection.Message);
    }

    [Fact]
    public void Process_1MiBOfZerosAfterTheVoxels_StillScoredWithinTheBound()
    {
        string path = PathOf("junk.nii.gz");
        BudgetConstructions.WriteTrailingZeros(path, SmallPhantom, 1L << 20);
        using var image = NiftiImage.Open(path);

        var result = new ScanIntake(Lps).Process(image);

        Assert.Null(result.Rejection);
        Assert.Equal(new VolumeShape(46, 46, 46), result.Scan!.Tensor.ToVolumeShape());
    }

    [Fact]
    public void ReadVolume_TrailingZerosWithTheBoundRaised_ReadsThemAndVerifiesTheTrailer()
    {
        string path = PathOf("bomb.nii.gz");
        BudgetConstructions.WriteTrailingZeros(path, SmallPhantom, 8L << 20);
        using var image = NiftiImage.Open(path, NiftiReadOptions.Default with { MaxTrailingDataBytes = 16L << 20 });

        var statistics = image.ComputeStatistics();

        Assert.Equal(SmallPhantom.VoxelCount, statistics.VoxelCount);
    }

    [Fact]
    public void Open_VoxOffsetGapOf16MiB_RefusedBeforeInflatingIt()
    {
        string path = PathOf("gap.nii.gz");
        BudgetConstructions.WriteOffsetGap(path, SmallPhantom, 1L << 24);

        var error = Assert.Throws<NiftiLimitException>(() => NiftiImage.Open(path));

        Assert.Equal(nameof(NiftiReadOptions.MaxDataOffsetGapBytes), error.Limit);
        Assert.StartsWith($"{path}: vox_offset 16777216 leaves a gap of 16776868 bytes before the voxel data; at most 4194304 bytes", error.Message);
    }

    [Fact]
    public void Open_VoxOffsetGapWithTheBoundRaised_ReadsThePhantomBehindIt()
    {
        string path = PathOf("gap.nii.gz");
        BudgetConstructions.WriteOffsetGap(path, SmallPhantom, 1L << 24);
        using var image = NiftiImage.Open(path, NiftiReadOptions.Default with { MaxDataOffsetGapBytes = 32L << 20 });

        var result = new ScanIntake(Lps).Process(image);

        Assert.Null(result.Rejection);
        Assert.NotNull(result.Scan);
    }

    [Fact]
    public void Process_16384SlicesStoredRas_RefusedFromTheHeaderWithTheFigure()
    {
        // Header only: the estimate refuses the scan before a voxel is read, so the missing data never matters.
        string path = WriteHeaderOnly("slices-ras.nii.gz", new VolumeShape(256, 256, 16384), NiftiDataType.Int16, ras: true);
        using var image = NiftiImage.Open(path);

        var result = new ScanIntake(Lps).Process(image);

        Assert.Equal(ScanErrorCodes.TooLarge, result.Rejection?.Code);
        // The int16 volume held once with the slice its read decodes into, the streamed resize, the raw int16 slice.
        var shape = new VolumeShape(256, 256, 16384);
        long expected = 2L * shape.VoxelCount + 8L * shape.SliceVoxelCount + PreprocessingMemory.Streaming(shape, Lps.TargetShape)
                        + 2L * shape.SliceVoxelCount + CompactVolume.StorageOf(NiftiDataType.Int16, image.Scaling is not null).TableBytes;
        Assert.Equal(ScanWorkBudget.Megabytes(expected), result.Rejection!.Measured);
        Assert.StartsWith($"preprocessing this 256×256×16384 int16 scan needs ~{ScanWorkBudget.Megabytes(expected)} (the whole volume held as 2 bytes a voxel and the resize to 46×46×46), budget 2,147 MB",
            result.Rejection.Message);
    }

    [Fact]
    public void Process_40000By40000Plane_RefusedByTheBudgetWhenTheGateAllowsOneSlice()
    {
        string path = WriteHeaderOnly("plane.nii.gz", new VolumeShape(40000, 40000, 1), NiftiDataType.UInt8, ras: false);
        using var image = NiftiImage.Open(path);
        var gate = new InputGateSpec { MinSlices = 1, RecommendedMinSlices = 1 };

        var result = new ScanIntake(Lps, gate).Process(image);

        Assert.Equal(ScanErrorCodes.TooLarge, result.Rejection?.Code);
        // The decoded float64 slice, the spline's float64 coefficients and the raw uint8 slice: 17 bytes per voxel.
        Assert.StartsWith("27,2", result.Rejection!.Measured);
        Assert.Contains($"needs ~{result.Rejection.Measured} (the streamed resize to 46×46×46), budget 2,147 MB", result.Rejection.Message);
    }

    [Fact]
    public void Process_NormalPhantomOverATinyMemoryBudget_RefusedWithTheFigure()
    {
        string path = PathOf("normal.nii.gz");
        BudgetConstructions.WriteTrailingZeros(path, SmallPhantom, 0);
        using var image = NiftiImage.Open(path);

        var result = new ScanIntake(Lps, budget: new ScanWorkBudget { MaxMemoryBytes = 100_000 }).Process(image);

        Assert.Equal(ScanErrorCodes.TooLarge, result.Rejection?.Code);
        Assert.Equal("0 MB", result.Rejection!.Threshold);
        Assert.Contains("needs ~", result.Rejection.Message);
    }

    [Fact]
    public void Process_TimeBudgetOf1MsRunsOutWhileReading_StoppedAndRejectedTooLarge()
    {
        string path = PathOf("slow.nii.gz");
        BudgetConstructions.WriteZeroVolume(path, new VolumeShape(256, 256, 512), NiftiDataType.Int16);
        using var image = NiftiImage.Open(path);
        // The budget's timer fires as the work starts: with the system clock a 1 ms timer on a loaded machine fired
        // only after the whole volume was read (a CI run got the data check's not-a-ct-volume instead).
        var clock = new TimersDueAtNextReading();

        var result = new ScanIntake(Lps, budget: new ScanWorkBudget { MaxDuration = TimeSpan.FromMilliseconds(1) }, time: clock).Process(image);

        Assert.Equal(1, clock.Fired);
        Assert.Equal(ScanErrorCodes.TooLarge, result.Rejection?.Code);
        Assert.Contains("was stopped after", result.Rejection!.Message);
        Assert.Contains("over the time budget of 0.001 s", result.Rejection.Message);
    }

    /// <summary>The system clock, except that a timer fires at the next reading of the clock, whatever its due time.</summary>
    private sealed class TimersDueAtNextReading : TimeProvider
    {
        private readonly List<(TimerCallback Callback, object? State)> _pending = [];

        public int Fired { get; private set; }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _pending.Add((callback, state));
            return System.CreateTimer(static _ => { }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        public override long GetTimestamp()
        {
            foreach (var (callback, state) in _pending) callback(state);
            Fired += _pending.Count;
            _pending.Clear();
            return base.GetTimestamp();
        }
    }

    [Fact]
    public void ReadNextSlice_CancelledWhileTheTrailingDataInflates_StopsAfterLittleInput()
    {
        string path = PathOf("bomb.nii.gz");
        BudgetConstructions.WriteTrailingZeros(path, SmallPhantom, 256L << 20);
        using var cancel = new CancellationTokenSource();
        using var file = new CountingStream(File.OpenRead(path));
        using var image = NiftiImage.Read(file, path, NiftiReadOptions.Default with { MaxTrailingDataBytes = long.MaxValue });
        var volume = image.OpenVolume();
        var slice = new double[SmallPhantom.SliceVoxelCount];
        for (int k = 0; k < SmallPhantom.Depth - 1; k++) volume.ReadNextSlice(slice);
        // Cancelled once the reader has gone some way into the trailing zeros.
        long atLastSlice = file.BytesRead;
        file.OnRead = () => { if (file.BytesRead > atLastSlice + 16384) cancel.Cancel(); };

        Assert.Throws<OperationCanceledException>(() => volume.ReadNextSlice(slice, cancel.Token));

        Assert.True(file.BytesRead < new FileInfo(path).Length / 2, $"read {file.BytesRead} of {new FileInfo(path).Length} bytes");
    }

    [Fact]
    public void Process_TallVolume_KeepsOnlyTheSlicesTheResizeReads()
    {
        // 64×64×8192 to 32×32×16: the resize reads 32 of the 8192 slices; keeping all rotated planes took 128 MB.
        var shape = new VolumeShape(64, 64, 8192);
        var preprocessor = new ScanPreprocessor(new PreprocessingOptions { TargetShape = new VolumeShape(32, 32, 16) });
        var source = new ConstantSlices(shape, -500);
        preprocessor.Process(new ConstantSlices(new VolumeShape(64, 64, 16), -500)); // plan and JIT outside the count

        long before = GC.GetAllocatedBytesForCurrentThread();
        var scan = preprocessor.Process(source);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
        Assert.True(allocated <= PreprocessingMemory.Streaming(shape, new VolumeShape(32, 32, 16)), "the estimate bounds what is allocated");
        float expected = (float)((-500 - HuWindow.SeedMinimumHu) / (HuWindow.SeedMaximumHu - HuWindow.SeedMinimumHu));
        Assert.All(scan.Tensor.Data, v => Assert.Equal(expected, v, 1e-6f));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Peak_PhantomThroughTheIntake_BoundsWhatIsAllocated(bool ras)
    {
        string path = PathOf(ras ? "ras.nii" : "lps.nii");
        var shape = new VolumeShape(96, 80, 24);
        var phantom = new CtScan.Phantoms.ChestPhantom(new CtScan.Phantoms.ChestPhantomOptions { Shape = shape, Seed = 3 }).ToArray();
        short[] voxels = [.. phantom.Select(v => (short)Math.Round(v))];
        NiftiWriter.Write<short>(path, voxels, ras ? HostileCorpus.Ras(shape) : HostileCorpus.Lps(shape));
        var intake = new ScanIntake(Lps);
        using (var warm = NiftiImage.Open(path)) intake.Process(warm);
        using var image = NiftiImage.Open(path);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = intake.Process(image);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.NotNull(result.Scan);
        long estimate = PreprocessingMemory.Peak(shape, shape, Lps.TargetShape, reorient: ras, resampled: null) + (long)shape.SliceVoxelCount * 2;
        Assert.True(allocated <= estimate + (1 << 20), $"allocated {allocated} bytes, estimated {estimate}");
    }

    [Fact]
    public void Streaming_256By256By16384_NeedsUnder500MB()
    {
        long bytes = PreprocessingMemory.Streaming(new VolumeShape(256, 256, 16384), new VolumeShape(128, 128, 64));

        Assert.True(bytes < 100_000_000, $"{bytes} bytes");
    }

    private string WriteHeaderOnly(string name, VolumeShape shape, NiftiDataType type, bool ras)
    {
        string path = PathOf(name);
        var header = NiftiWriter.BuildHeader(type, new NiftiWriteOptions
        {
            Shape = [shape.Width, shape.Height, shape.Depth],
            Version = shape.Width > short.MaxValue ? 2 : 1,
            VoxelSize = [1, 1, 1],
            QformCode = 1,
            Quaternion = ras ? (0, 0, 0) : (0, 0, 1),
        }, pair: false);
        using var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        gzip.Write(header);
        return path;
    }

    private sealed class ConstantSlices(VolumeShape shape, double value) : IVolumeSlices
    {
        public VolumeShape Shape => shape;

        public void ReadNextSlice(Span<double> destination, CancellationToken cancellationToken = default) => destination.Fill(value);
    }

    /// <summary>Counts the bytes read through it and calls <see cref="OnRead"/> after each read.</summary>
    private sealed class CountingStream(Stream inner) : ForwardOnlyStream
    {
        public long BytesRead { get; private set; }

        public Action? OnRead { get; set; }

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            BytesRead += n;
            OnRead?.Invoke();
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
