using System.IO.Compression;
using System.Text;
using CtScan.Tensors;

namespace CtScan.Tests.Tensors;

public class NpyFileTests
{
    private static byte[] Save(float[] data, params int[] shape)
    {
        using var stream = new MemoryStream();
        NpyFile.Write(stream, data, shape);
        return stream.ToArray();
    }

    private static byte[] GoldenBytes(string file)
    {
        using var gzip = new GZipStream(File.OpenRead(Fixtures.Golden(file)), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }

    [Theory]
    [InlineData("p04_normal_64x64x20_float32.npy.gz")]
    [InlineData("p08_abnormal_256x203x45_int16.target32x32x16.npy.gz")]
    public void Write_GoldenTensor_IsByteIdenticalToNumpy(string file)
    {
        byte[] numpy = GoldenBytes(file);
        Float32Tensor tensor = NpyFile.Read(new MemoryStream(numpy));

        byte[] ours = Save(tensor.Data, [.. tensor.Shape]);

        Assert.Equal(numpy, ours);
    }

    [Fact]
    public void Write_SeedTargetShape_HeaderIsNumpysAnd128BytesLong()
    {
        byte[] bytes = Save(new float[128 * 128 * 64], 128, 128, 64);

        string header = Encoding.ASCII.GetString(bytes, 10, 118);
        Assert.Equal(0x76, bytes[8]);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (128, 128, 64), }", header);
        Assert.EndsWith("\n", header);
        Assert.Equal(128 + 128 * 128 * 64 * 4, bytes.Length);
    }

    [Theory]
    [InlineData(new int[0], "()")]
    [InlineData(new[] { 5 }, "(5,)")]
    [InlineData(new[] { 2, 3 }, "(2, 3)")]
    public void Write_AnyRank_RoundTripsWithPythonTupleRepr(int[] shape, string repr)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        float[] data = Enumerable.Range(0, count).Select(n => n * 0.5f - 1f).ToArray();

        byte[] bytes = Save(data, shape);
        Float32Tensor read = NpyFile.Read(new MemoryStream(bytes));

        Assert.Contains($"'shape': {repr}, }}", Encoding.ASCII.GetString(bytes));
        Assert.Equal(0, (bytes.Length - count * 4) % 64);
        Assert.Equal(shape, read.Shape);
        Assert.Equal(data, read.Data);
    }

    [Fact]
    public async Task ReadAsync_NonSeekableStream_ReadsWhatWriteAsyncWrote()
    {
        var tensor = new Float32Tensor([1f, float.NaN, -0f, float.MaxValue, 3.5f, 1e-40f], [3, 2]);
        using var stream = new MemoryStream();
        await NpyFile.WriteAsync(stream, tensor);

        Float32Tensor read = await NpyFile.ReadAsync(new NonSeekableStream(stream.ToArray()));

        Assert.Equal([3, 2], read.Shape);
        Assert.Equal(tensor.Data.Select(BitConverter.SingleToInt32Bits), read.Data.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Read_Version2Header_IsAccepted()
    {
        byte[] v1 = Save([1f, 2f], 2);
        var v2 = new List<byte>(v1[..6]) { 2, 0 };
        int headerLength = v1[8] | v1[9] << 8;
        v2.AddRange(BitConverter.GetBytes(headerLength));
        v2.AddRange(v1[10..]);

        Float32Tensor read = NpyFile.Read(new MemoryStream([.. v2]));

        Assert.Equal([1f, 2f], read.Data);
    }

    public static TheoryData<string, string> BadHeaders => new()
    {
        { "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", "dtype '<f8' is not supported" },
        { "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", "dtype '>f4' is not supported" },
        { "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", "Fortran order" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", "more than the" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", "extent -2" },
        { "{'descr': '<f4', 'fortran_order': False}", "must have 'descr', 'fortran_order' and 'shape'" },
        { "['descr']", "expected '{'" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Read_BadHeader_ThrowsNpyFormatExceptionSayingWhy(string dictionary, string expectedMessagePart)
    {
        byte[] bytes = WithHeader(dictionary, new byte[8]);

        var error = Assert.Throws<NpyFormatException>(() => NpyFile.Read(new MemoryStream(bytes)));

        Assert.Contains(expectedMessagePart, error.Message);
    }

    [Fact]
    public void Read_BadMagic_Throws()
    {
        byte[] bytes = Save([1f], 1);
        bytes[1] = (byte)'X';

        var error = Assert.Throws<NpyFormatException>(() => NpyFile.Read(new MemoryStream(bytes)));

        Assert.Contains("not a .npy file", error.Message);
    }

    [Fact]
    public void Read_Version3_Throws()
    {
        byte[] bytes = Save([1f], 1);
        bytes[6] = 3;

        var error = Assert.Throws<NpyFormatException>(() => NpyFile.Read(new MemoryStream(bytes)));

        Assert.Contains("version 3.0 is not supported", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Read_TruncatedData_Throws(bool seekable)
    {
        byte[] bytes = Save([1f, 2f, 3f], 3)[..^2];

        var error = Assert.Throws<NpyFormatException>(() => NpyFile.Read(seekable ? new MemoryStream(bytes) : new NonSeekableStream(bytes)));

        Assert.Contains("truncated", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadAsync_TrailingBytes_Throws(bool seekable)
    {
        byte[] bytes = [.. Save([1f, 2f, 3f], 3), 0];

        var error = await Assert.ThrowsAsync<NpyFormatException>(() => NpyFile.ReadAsync(seekable ? new MemoryStream(bytes) : new NonSeekableStream(bytes)));

        Assert.Contains("trailing bytes", error.Message);
    }

    [Fact]
    public void Read_StreamEndsInsideHeader_Throws()
    {
        byte[] bytes = Save([1f], 1)[..40];

        var error = Assert.Throws<NpyFormatException>(() => NpyFile.Read(new MemoryStream(bytes)));

        Assert.Contains("ends inside the header", error.Message);
    }

    [Fact]
    public void Read_ShapeOverTheCallersLimit_ThrowsBeforeAllocating()
    {
        byte[] bytes = Save(new float[1000], 10, 100);

        var error = Assert.Throws<NpyFormatException>(() => NpyFile.Read(new MemoryStream(bytes), maxElements: 999));

        Assert.Contains("(10, 100) holds more than the 999 values allowed", error.Message);
    }

    private static byte[] WithHeader(string dictionary, byte[] data)
    {
        string padded = dictionary.PadRight(64 * ((dictionary.Length + 11 + 63) / 64) - 11) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 };
        bytes.AddRange(BitConverter.GetBytes((ushort)padded.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(padded));
        bytes.AddRange(data);
        return [.. bytes];
    }

    /// <summary>A read-only stream that cannot seek, like a network or gzip stream.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}
