using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace CtScan.Tests.Fuzzing;

/// <summary>
/// Deterministic mutations of seed inputs for the property-based smoke runs: everything follows from one integer seed,
/// so a failure prints (seed name, random seed) and replays exactly. Binary inputs get bit flips, byte overwrites,
/// truncation, insertions, deletions, appended junk and overwrites of NIfTI-1 header fields with extreme values
/// (huge dims, vox_offset, NaN scaling, …), optionally gzipped afterwards so the same damage reaches the .nii.gz path.
/// JSON inputs get values replaced with hostile JSON, properties removed, added or duplicated, then a byte mutation.
/// </summary>
internal static class Mutations
{
    /// <summary>Byte offsets of the NIfTI-1 header's fields (nifti1.h) whose values steer the reader.</summary>
    private static readonly int[] Nifti1Fields =
    [
        0, // sizeof_hdr
        40, 42, 44, 46, 48, 50, 52, 54, // dim[0..7]
        70, 72, // datatype, bitpix
        76, 80, 84, 88, 92, // pixdim[0..4]
        108, 112, 116, // vox_offset, scl_slope, scl_inter
        252, 254, 256, 260, 264, 268, 272, 276, // qform_code, sform_code, quatern_b/c/d, qoffset_x/y/z
        280, 284, 288, 292, 296, 300, 304, 308, 312, 316, 320, 324, // srow_x/y/z
        344, // magic
        348, // extension flag
        352, 356, // first extension's esize, ecode
    ];

    /// <summary>Values that break arithmetic: 16-bit and 32-bit extremes and float specials (as their bit patterns).</summary>
    private static readonly uint[] ExtremeValues =
    [
        0, 1, 2, 3, 7, 8, 0x7F, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        BitConverter.SingleToUInt32Bits(float.NaN), BitConverter.SingleToUInt32Bits(float.PositiveInfinity),
        BitConverter.SingleToUInt32Bits(float.NegativeInfinity), BitConverter.SingleToUInt32Bits(float.MaxValue),
        BitConverter.SingleToUInt32Bits(-0f), BitConverter.SingleToUInt32Bits(1e-40f), BitConverter.SingleToUInt32Bits(352f),
        BitConverter.SingleToUInt32Bits(353.5f), BitConverter.SingleToUInt32Bits(4.6e18f), BitConverter.SingleToUInt32Bits(-352f),
        BitConverter.SingleToUInt32Bits(2.1e9f), BitConverter.SingleToUInt32Bits(1e30f),
    ];

    public static byte[] Binary(byte[] seed, int randomSeed, bool niftiHeader)
    {
        var random = new Random(randomSeed);
        bool gzipAfter = niftiHeader && random.Next(4) == 0 && !IsGzip(seed);
        var bytes = new List<byte>(seed);
        int count = 1 + random.Next(6);
        for (int i = 0; i < count; i++)
        {
            int length = bytes.Count;
            int position = length == 0 ? 0 : random.Next(length);
            switch (random.Next(niftiHeader ? 9 : 7))
            {
                case 0 when length > 0: bytes[position] ^= (byte)(1 << random.Next(8)); break;
                case 1 when length > 0: bytes[position] = (byte)random.Next(256); break;
                case 2: TruncateTo(bytes, random.Next(length + 1)); break;
                case 3: bytes.InsertRange(random.Next(length + 1), RandomBytes(random, 1 + random.Next(16))); break;
                case 4 when length > 0: bytes.RemoveRange(position, Math.Min(length - position, 1 + random.Next(64))); break;
                case 5: bytes.AddRange(RandomBytes(random, 1 + random.Next(random.Next(2) == 0 ? 16 : 4096))); break;
                case 6 when length > 8: bytes.InsertRange(random.Next(length), bytes.GetRange(position, Math.Min(length - position, 1 + random.Next(32)))); break;
                default: OverwriteField(bytes, random); break;
            }
        }
        var result = bytes.ToArray();
        return gzipAfter ? Gzip(result) : result;
    }

    public static string Json(string seed, int randomSeed)
    {
        var random = new Random(randomSeed);
        var text = seed;
        JsonNode? root = null;
        try { root = JsonNode.Parse(seed); } catch (System.Text.Json.JsonException) { }
        if (root is not null)
        {
            int count = 1 + random.Next(4);
            for (int i = 0; i < count; i++) MutateTree(root, random);
            text = root.ToJsonString();
            if (random.Next(3) == 0) text = DuplicateAProperty(text, random);
            if (random.Next(20) == 0) text = new string('[', 70) + text + new string(']', 70); // past the reader's depth limit
        }
        if (random.Next(3) == 0)
            text = Encoding.UTF8.GetString(Binary(Encoding.UTF8.GetBytes(text), random.Next(), niftiHeader: false));
        return text;
    }

    private static void TruncateTo(List<byte> bytes, int length)
    {
        if (length < bytes.Count) bytes.RemoveRange(length, bytes.Count - length);
    }

    private static void OverwriteField(List<byte> bytes, Random random)
    {
        // The seeds are little-endian NIfTI-1 but for one big-endian NIfTI-2; offsets beyond the input are skipped.
        int offset = Nifti1Fields[random.Next(Nifti1Fields.Length)];
        uint value = ExtremeValues[random.Next(ExtremeValues.Length)];
        int size = random.Next(3) switch { 0 => 2, 1 => 4, _ => offset is >= 40 and < 56 or 70 or 72 or 252 or 254 ? 2 : 4 };
        Span<byte> field = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(field, size == 2 ? (value > 0xFFFF ? value >> 16 : value) : value);
        for (int i = 0; i < size && offset + i < bytes.Count; i++) bytes[offset + i] = field[i];
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static bool IsGzip(byte[] bytes) => bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B;

    private static byte[] Gzip(byte[] bytes)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(bytes);
        return stream.ToArray();
    }

    private static void MutateTree(JsonNode root, Random random)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var node = nodes[random.Next(nodes.Count)];
        var parent = node.Parent;
        switch (random.Next(4))
        {
            case 0 when parent is JsonObject o: o.Remove(node.GetPropertyName()); break;
            case 1 when node is JsonObject o: o[RandomName(random)] = RandomValue(random, 2); break;
            default:
                if (parent is JsonObject po) po[node.GetPropertyName()] = RandomValue(random, 2);
                else if (parent is JsonArray pa) pa[node.GetElementIndex()] = RandomValue(random, 2);
                break;
        }
    }

    private static void Collect(JsonNode? node, List<JsonNode> nodes)
    {
        if (node is null) return;
        nodes.Add(node);
        if (node is JsonObject o) foreach (var (_, child) in o) Collect(child, nodes);
        else if (node is JsonArray a) foreach (var child in a) Collect(child, nodes);
    }

    private static readonly string[] Names = ["scan", "tensor", "sha256", "enqueuedAt", "scanETag", "version", "input", "output", "shape", "layout", "kind", "targetShape", "inputGate", "preprocessing", "trainingMetrics", "$type", "$ref", "$id", ""];

    private static string RandomName(Random random) => Names[random.Next(Names.Length)];

    private static JsonNode? RandomValue(Random random, int depth) => random.Next(depth > 0 ? 16 : 13) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(long.MaxValue),
        3 => JsonValue.Create(int.MinValue),
        4 => JsonValue.Create(-1),
        5 => JsonValue.Create(0),
        6 => JsonValue.Create(1e308),
        7 => JsonValue.Create(-0.0),
        8 => JsonValue.Create(""),
        9 => JsonValue.Create(new string('9', 1 + random.Next(400))),
        10 => JsonValue.Create("\u0000..\\/\ud800"),
        11 => JsonValue.Create("2026-13-45T99:00:00Z"),
        12 => JsonValue.Create(random.Next(2) == 0 ? "NCDHW" : "logit"),
        13 => new JsonArray([.. Enumerable.Range(0, random.Next(5)).Select(_ => RandomValue(random, depth - 1))]),
        14 => JsonNode.Parse(new string('[', 40) + new string(']', 40)),
        _ => new JsonObject { [RandomName(random)] = RandomValue(random, depth - 1) },
    };

    /// <summary>Repeats one "name": value pair of the text, a duplicate key a tree cannot hold.</summary>
    private static string DuplicateAProperty(string text, Random random)
    {
        int colon = text.IndexOf("\":", random.Next(Math.Max(1, text.Length)), StringComparison.Ordinal);
        if (colon < 0) colon = text.IndexOf("\":", StringComparison.Ordinal);
        if (colon < 0) return text;
        int start = text.LastIndexOf('"', colon - 1);
        int end = text.IndexOfAny([',', '}'], colon);
        if (start < 0 || end < 0) return text;
        string pair = text[start..end];
        return text.Insert(start, pair + ",");
    }
}
