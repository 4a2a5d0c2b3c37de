using CtScan.Nifti;

namespace CtScan.Tests.Nifti;

/// <summary>
/// <see cref="InflateAheadStream"/> (inflating on a second thread) alone and under <see cref="GzipVerifyingStream"/>:
/// the same bytes and the same damage checks as inflating inline, a bounded lead, and a thread that stops on dispose.
/// </summary>
public sealed class InflateAheadTests
{
    private static byte[] Content(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        for (int i = 0; i < length; i += 3) bytes[i] = 0; // some redundancy, as in voxel data
        return bytes;
    }

    /// <summary>Three gzip members (2.5 MiB in all: many 256 KiB chunks) and their concatenated content.</summary>
    private static (byte[] Gzip, byte[] Content) ThreeMembers()
    {
        byte[][] parts = [Content(1_500_000, 1), Content(70_001, 2), Content(1_000_003, 3)];
        return ([.. parts.SelectMany(p => GzipBytes.Compress(p))], [.. parts.SelectMany(p => p)]);
    }

    private static byte[] ReadAll(Stream stream, int readSize)
    {
        var output = new MemoryStream();
        var buffer = new byte[readSize];
        int n;
        while ((n = stream.Read(buffer)) > 0) output.Write(buffer, 0, n);
        return output.ToArray();
    }

    [Theory]
    [InlineData(true, 7_777)]
    [InlineData(true, 1 << 20)]
    [InlineData(false, 7_777)]
    public void GzipVerifying_ThreeMembers_SameContentEitherWay(bool inflateAhead, int readSize)
    {
        var (gzip, content) = ThreeMembers();
        using var stream = new GzipVerifyingStream(new MemoryStream(gzip), "three.nii.gz", leaveOpen: false, inflateAhead);

        Assert.Equal(content, ReadAll(stream, readSize)); // the end is verified (ISIZE at a read boundary) or it throws
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GzipVerifying_TruncatedLastMember_ThrowsTruncatedEitherWay(bool inflateAhead)
    {
        var (gzip, _) = ThreeMembers();
        using var stream = new GzipVerifyingStream(new MemoryStream(gzip[..^3]), "cut.nii.gz", leaveOpen: false, inflateAhead);

        var error = Assert.Throws<NiftiFormatException>(() => ReadAll(stream, 65_536));
        Assert.Equal("gzip", error.Field);
        Assert.Contains("cut.nii.gz", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void GzipVerifying_CorruptBody_InflateAhead_ThrowsTheGzipErrorNamingTheFile()
    {
        var (gzip, _) = ThreeMembers();
        gzip[gzip.Length / 2] ^= 0x5A;
        using var stream = new GzipVerifyingStream(new MemoryStream(gzip), "bad.nii.gz", leaveOpen: false, inflateAhead: true);

        var error = Assert.Throws<NiftiFormatException>(() => ReadAll(stream, 65_536));
        Assert.Equal("gzip", error.Field);
        Assert.Contains("bad.nii.gz", error.Message);
        Assert.Contains("gzip data is corrupt", error.Message);
    }

    [Fact]
    public void OpenVolume_PhantomWithInflateAhead_SameSlicesAsInline()
    {
        string path = Path.Combine(Path.GetTempPath(), $"inflate-ahead-{Guid.NewGuid():N}.nii.gz");
        try
        {
            CtScan.Phantoms.ChestPhantomFile.Write(path, new CtScan.Phantoms.ChestPhantomOptions { Shape = new VolumeShape(96, 80, 24), Seed = 5 });

            Assert.Equal(Slices(path, inflateAhead: false), Slices(path, inflateAhead: true));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double[] Slices(string path, bool inflateAhead)
    {
        using var image = NiftiImage.Open(path, new NiftiReadOptions { InflateAhead = inflateAhead });
        var volume = image.OpenVolume();
        var all = new double[volume.Shape.VoxelCount];
        for (int k = 0; k < volume.Shape.Depth; k++)
            volume.ReadNextSlice(all.AsSpan(k * volume.Shape.SliceVoxelCount, volume.Shape.SliceVoxelCount));
        return all;
    }

    [Fact]
    public void Read_NeverCrossesASourceRead()
    {
        using var ahead = new InflateAheadStream(new ScriptedStream(chunk: 100, chunks: 10));

        var sizes = new List<int>();
        var buffer = new byte[1000];
        int n;
        while ((n = ahead.Read(buffer)) > 0) sizes.Add(n);

        Assert.Equal(Enumerable.Repeat(100, 10), sizes);
    }

    [Fact]
    public void Read_SourceFailsAfterTwoChunks_DeliversThemThenRethrows()
    {
        using var ahead = new InflateAheadStream(new ScriptedStream(chunk: 100, chunks: 2, thenThrow: true));
        var buffer = new byte[100];

        Assert.Equal(100, ahead.Read(buffer));
        Assert.Equal(100, ahead.Read(buffer));
        Assert.Equal("disk gone", Assert.Throws<IOException>(() => ahead.Read(buffer)).Message);
        Assert.Equal("disk gone", Assert.Throws<IOException>(() => ahead.Read(buffer)).Message); // and stays failed
    }

    [Fact]
    public void Dispose_AfterOneRead_StopsTheThreadWithinItsLead()
    {
        var source = new ScriptedStream(chunk: 1000, chunks: 1_000_000);
        var ahead = new InflateAheadStream(source);
        Assert.Equal(10, ahead.Read(new byte[10]));
        Thread.Sleep(200); // time for the thread to run as far ahead as it may

        ahead.Dispose();
        int readsAtDispose = source.Reads;
        Thread.Sleep(100);

        // At most the slots' worth of 1000-byte reads (plus the chunk in hand); never the million the source holds.
        Assert.InRange(readsAtDispose, 1, (InflateAheadStream.Slots + 1) * (InflateAheadStream.ChunkBytes / 1000 + 1));
        Assert.Equal(readsAtDispose, source.Reads);
    }

    /// <summary>A source of <c>chunks</c> reads of <c>chunk</c> bytes each (byte value = read index), then the end or an IOException.</summary>
    private sealed class ScriptedStream(int chunk, int chunks, bool thenThrow = false) : ForwardOnlyStream
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public override int Read(Span<byte> buffer)
        {
            int index = Interlocked.Increment(ref _reads) - 1;
            if (index >= chunks) return thenThrow ? throw new IOException("disk gone") : 0;
            int n = Math.Min(chunk, buffer.Length);
            buffer[..n].Fill((byte)index);
            return n;
        }
    }
}
