using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Tests.Validation;
using CtScan.Validation;

namespace CtScan.Tests.Preprocessing;

/// <summary>
/// The lean whole-volume path (<see cref="CompactVolume"/> read through <see cref="ReorientedSlices"/> and
/// <see cref="SpacingResampler.Resample"/>) gives the float64 path's values bit for bit (<see cref="VolumeGrid"/>,
/// <see cref="Reorientation.Apply"/>, <see cref="SpacingResampler.Apply"/>) for every stored datatype, and allocates
/// no more than <see cref="PreprocessingMemory"/> says.
/// </summary>
public sealed class LeanReorientationTests : IDisposable
{
    private static readonly VolumeShape Shape = new(9, 7, 5);
    private static readonly AxisOrientation Lps = AxisOrientation.Parse("LPS");
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("ctscan-lean-");

    public void Dispose() => _temp.Delete(recursive: true);

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var type in new[] { "int16", "uint8", "float32", "scaled-int16", "lossy-int16", "scaled-uint8", "uint16", "int8", "int32", "float64" })
            foreach (var orientation in new[] { "ras", "permuted" })
                data.Add(type, orientation);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reoriented_EveryDatatype_BitIdenticalToTheFloat64Path(string type, string orientation)
    {
        using var image = Write(type, orientation);
        var (expected, stored) = OldPath(image, resample: null);

        using var again = NiftiImage.Open(image.FileName);
        var lean = LeanPath(again, resample: null);

        Assert.Equal(expected.Shape, lean.Shape);
        AssertBitIdentical(expected, lean);
        if (orientation == "permuted") Assert.NotEqual(stored, expected.Shape);
    }

    [Theory]
    [InlineData("int16", "ras")]
    [InlineData("scaled-int16", "permuted")]
    [InlineData("float32", "ras")]
    [InlineData("uint8", "permuted")]
    public void ReorientedAndResampled_BitIdenticalToTheFloat64Path(string type, string orientation)
    {
        using var image = Write(type, orientation);
        (double, double, double) target = (1.1, 0.9, 3.0);
        var (expected, _) = OldPath(image, target);

        using var again = NiftiImage.Open(image.FileName);
        var lean = LeanPath(again, target);

        Assert.Equal(expected.Shape, lean.Shape);
        AssertBitIdentical(expected, lean);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Intake_ChestPhantomStoredRas_TensorBitIdenticalAndAllocationWithinTheEstimate(bool resample)
    {
        var shape = new VolumeShape(96, 80, 24);
        var phantom = new CtScan.Phantoms.ChestPhantom(new CtScan.Phantoms.ChestPhantomOptions { Shape = shape, Seed = 5 }).ToArray();
        short[] voxels = [.. phantom.Select(v => (short)Math.Round(v))];
        string path = Path.Combine(_temp.FullName, "chest-ras.nii");
        NiftiWriter.Write<short>(path, voxels, HostileCorpus.Ras(shape) with { SclSlope = 1, SclInter = -7 });
        var options = new PreprocessingOptions
        {
            TargetShape = new VolumeShape(46, 46, 46), TargetOrientation = "LPS",
            TargetSpacingMm = resample ? (1.0, 1.0, 4.0) : null,
        };
        var intake = new ScanIntake(options);
        using (var warm = NiftiImage.Open(path)) intake.Process(warm);
        using var image = NiftiImage.Open(path);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = intake.Process(image);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.NotNull(result.Scan);
        using var old = NiftiImage.Open(path);
        long oldBefore = GC.GetAllocatedBytesForCurrentThread();
        var (expected, _) = OldPath(old, options.TargetSpacingMm);
        var oldTensor = new ScanPreprocessor(options).Process(new ArrayVolumeSlices(expected.Values, expected.Shape));
        long oldAllocated = GC.GetAllocatedBytesForCurrentThread() - oldBefore;
        Assert.Equal(oldTensor.Tensor.Data, result.Scan!.Tensor.Data);
        VolumeShape? resampled = resample ? SpacingResampler.OutputShape(shape, (0.7, 0.7, 5.0), (1.0, 1.0, 4.0)) : null;
        long estimate = PreprocessingMemory.Peak(shape, shape, options.TargetShape, reorient: true, resampled,
                            CompactVolume.StorageOf(NiftiDataType.Int16, scaled: true)) + shape.SliceVoxelCount * 2L;
        Assert.True(allocated <= estimate + (1 << 20), $"allocated {allocated} bytes, estimated {estimate}");
        // The float64 path held the volume and its reoriented copy (16 bytes a voxel); the lean one the int16 voxels
        // once and the 64K-entry value table: at least a float64 volume less, though the survey rides along too.
        Assert.True(allocated + shape.VoxelCount * 8L < oldAllocated, $"lean path allocated {allocated} bytes, float64 path {oldAllocated}");
    }

    [Fact]
    public void Peak_512By512By300Int16Ras_TheInt16VolumeOnceAndTheStreamedResize()
    {
        var shape = new VolumeShape(512, 512, 300);
        var target = new VolumeShape(128, 128, 64);
        long lean = PreprocessingMemory.Peak(shape, shape, target, true, null, CompactVolume.StorageOf(NiftiDataType.Int16, scaled: true));
        long float64 = PreprocessingMemory.Peak(shape, shape, target, true, null);

        long expected = shape.VoxelCount * 2L + 65536 * 48 + shape.SliceVoxelCount * 8L + PreprocessingMemory.Streaming(shape, target);
        Assert.Equal(expected, lean);
        Assert.InRange(lean, 200_000_000, 220_000_000); // the figure docs/deployment.md and the template quote (~210 MB)
        Assert.True(lean * 3 < float64, $"int16 {lean}, float64 {float64}");
    }

    [Fact]
    public void Store_ValueNoInt16DecodesTo_ThrowsNamingTheValue()
    {
        var volume = CompactVolume.Create(NiftiDataType.Int16, new ScaleFactors(2, 0.5), new VolumeShape(2, 1, 1));

        var error = Assert.Throws<ArgumentException>(() => volume.Store(0, [2.5, 3.0]));

        Assert.Contains("3 is not a value Int16 data scaled by 2 and 0.5 decodes to", error.Message);
    }

    private NiftiImage Write(string type, string orientation)
    {
        var header = orientation == "ras"
            ? HostileCorpus.Ras(Shape)
            : HostileCorpus.Sform(Shape, [0, 0.7, 0, -0.9, 0, 0, 0, 0, 5.0]); // i runs along y, j along −x
        string path = Path.Combine(_temp.FullName, $"{type}-{orientation}.nii");
        int count = (int)Shape.VoxelCount;
        var random = new Random(type.Length * 31 + orientation.Length);
        switch (type)
        {
            case "int16":
                NiftiWriter.Write<short>(path, Fill(count, n => n switch { 0 => short.MinValue, 1 => short.MaxValue, _ => (short)random.Next(-32768, 32768) }),
                    header with { SclSlope = 0 });
                break;
            case "scaled-int16":
                NiftiWriter.Write<short>(path, Fill(count, n => (short)random.Next(-32768, 32768)), header with { SclSlope = 0.37, SclInter = -1024.3 });
                break;
            case "lossy-int16":
                // Many raw values round to one value: the inverse of the scaling is ambiguous.
                NiftiWriter.Write<short>(path, Fill(count, n => (short)random.Next(-32768, 32768)), header with { SclSlope = 1e-12, SclInter = 1000 });
                break;
            case "uint8":
                NiftiWriter.Write<byte>(path, Fill(count, n => (byte)random.Next(256)), header with { SclSlope = 0 });
                break;
            case "scaled-uint8":
                NiftiWriter.Write<byte>(path, Fill(count, n => (byte)random.Next(256)), header with { SclSlope = -3.3, SclInter = 7 });
                break;
            case "uint16":
                NiftiWriter.Write<ushort>(path, Fill(count, n => (ushort)random.Next(65536)), header with { SclSlope = 0 });
                break;
            case "int8":
                NiftiWriter.Write<sbyte>(path, Fill(count, n => (sbyte)random.Next(-128, 128)), header with { SclSlope = 0 });
                break;
            case "int32":
                NiftiWriter.Write<int>(path, Fill(count, n => random.Next(int.MinValue, int.MaxValue)), header);
                break;
            case "float32":
                float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue, BitConverter.Int32BitsToSingle(0x7fa00001)];
                NiftiWriter.Write<float>(path, Fill(count, n => n < special.Length ? special[n] : (float)(random.NextDouble() * 4000 - 2000)), header with { SclSlope = 0 });
                break;
            case "float64":
                NiftiWriter.Write<double>(path, Fill(count, n => n == 0 ? double.NaN : random.NextDouble() * 1e6), header with { SclSlope = 0 });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "no such case");
        }
        return NiftiImage.Open(path);
    }

    private static T[] Fill<T>(int count, Func<int, T> value)
    {
        var values = new T[count];
        for (int n = 0; n < count; n++) values[n] = value(n);
        return values;
    }

    /// <summary>The float64 path ScanIntake took before: the whole volume in float64, reoriented, resampled.</summary>
    private static (VolumeGrid Grid, VolumeShape Stored) OldPath(NiftiImage image, (double, double, double)? resample)
    {
        var from = AxisOrientation.FromAffine(image.Header.GetBestAffine())!;
        var (x, y, z) = image.Header.SpacingMm;
        var grid = VolumeGrid.Read(image.OpenVolume(), (Math.Abs(x), Math.Abs(y), Math.Abs(z)));
        var stored = grid.Shape;
        grid = Reorientation.Apply(grid, from, Lps);
        if (resample is { } target) grid = SpacingResampler.Apply(grid, target);
        return (grid, stored);
    }

    private static IVolumeSlices LeanPath(NiftiImage image, (double, double, double)? resample)
    {
        var from = AxisOrientation.FromAffine(image.Header.GetBestAffine())!;
        var map = Lps.MappingFrom(from);
        var volume = CompactVolume.Read(image.OpenVolume(), image.Header.DataType, image.Scaling);
        IVolumeSlices slices = new ReorientedSlices(volume, map);
        if (resample is { } target)
        {
            var (x, y, z) = image.Header.SpacingMm;
            double[] s = [Math.Abs(x), Math.Abs(y), Math.Abs(z)];
            slices = SpacingResampler.Resample(slices, (s[map[0].SourceAxis], s[map[1].SourceAxis], s[map[2].SourceAxis]), target);
        }
        return slices;
    }

    private static void AssertBitIdentical(VolumeGrid expected, IVolumeSlices lean)
    {
        int slice = expected.Shape.SliceVoxelCount;
        var values = new double[slice];
        for (int k = 0; k < expected.Shape.Depth; k++)
        {
            lean.ReadNextSlice(values);
            for (int n = 0; n < slice; n++)
            {
                long want = BitConverter.DoubleToInt64Bits(expected.Values[k * slice + n]);
                long got = BitConverter.DoubleToInt64Bits(values[n]);
                if (want != got) Assert.Fail($"slice {k}, voxel {n}: expected {expected.Values[k * slice + n]} ({want:x16}), got {values[n]} ({got:x16})");
            }
        }
    }
}
