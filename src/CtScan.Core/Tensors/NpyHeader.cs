using System.Globalization;
using System.Text;

namespace CtScan.Tensors;

/// <summary>
/// The .npy format constants and the header dictionary numpy writes, e.g.
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (128, 128, 64), }</c>.
/// </summary>
internal static class NpyHeader
{
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Magic, two version bytes and the header length (uint16 in version 1.0).</summary>
    public const int PrefixLengthV1 = 10;

    /// <summary>Version 2.0 stores the header length as uint32.</summary>
    public const int PrefixLengthV2 = 12;

    /// <summary>numpy aligns the data to this many bytes.</summary>
    public const int Alignment = 64;

    /// <summary>
    /// numpy (≥ 1.23) leaves room for the growth axis to reach this many digits, so that a header can be rewritten in
    /// place when appending; copied so that our headers are byte-identical to numpy's.
    /// </summary>
    public const int GrowthAxisMaxDigits = 21;

    public const string Float32Descr = "<f4";

    /// <summary>Largest header we accept when reading: numpy itself refuses headers over 10,000 bytes by default.</summary>
    public const int MaxHeaderLength = 65_535;

    /// <summary>The header dictionary as numpy 1.24 writes it, before padding.</summary>
    public static string FormatDictionary(ReadOnlySpan<long> shape)
    {
        var sb = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': ");
        string shapeRepr = FormatShape(shape);
        sb.Append(shapeRepr).Append(", }");
        if (shape.Length > 0)
        {
            // numpy pads for the first axis (C order) to grow to GrowthAxisMaxDigits digits.
            int firstAxisDigits = shape[0].ToString(CultureInfo.InvariantCulture).Length;
            sb.Append(' ', Math.Max(0, GrowthAxisMaxDigits - firstAxisDigits));
        }
        return sb.ToString();
    }

    /// <summary>Python's repr of a tuple of ints: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    public static string FormatShape(ReadOnlySpan<long> shape)
    {
        var sb = new StringBuilder("(");
        for (int d = 0; d < shape.Length; d++)
        {
            if (d > 0) sb.Append(", ");
            sb.Append(shape[d].ToString(CultureInfo.InvariantCulture));
        }
        if (shape.Length == 1) sb.Append(',');
        return sb.Append(')').ToString();
    }

    /// <summary>Complete version 1.0 header bytes: prefix, dictionary, space padding and a final newline.</summary>
    public static byte[] Build(ReadOnlySpan<long> shape)
    {
        string dict = FormatDictionary(shape);
        int unpadded = PrefixLengthV1 + dict.Length + 1;
        // numpy's formula: a header already on the boundary still gets a full Alignment of padding.
        int padding = Alignment - unpadded % Alignment;
        int headerLength = dict.Length + padding + 1;
        if (headerLength > ushort.MaxValue)
            throw new ArgumentException($"a shape of {shape.Length} axes needs a {headerLength}-byte header; version 1.0 allows {ushort.MaxValue}", nameof(shape));
        var bytes = new byte[PrefixLengthV1 + headerLength];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        bytes[8] = (byte)headerLength;
        bytes[9] = (byte)(headerLength >> 8);
        Encoding.ASCII.GetBytes(dict, bytes.AsSpan(PrefixLengthV1));
        bytes.AsSpan(PrefixLengthV1 + dict.Length, padding).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}
