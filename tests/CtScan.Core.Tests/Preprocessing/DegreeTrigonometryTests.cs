using System.Globalization;
using CtScan.Preprocessing;

namespace CtScan.Tests.Preprocessing;

public class DegreeTrigonometryTests
{
    /// <summary>scipy.special.cosdg/sindg as hex doubles, from golden/manifest.json "augmentation_p02_stats".</summary>
    [Theory]
    [InlineData(-20, "0x1.e11f642522d1cp-1", "-0x1.5e3a8748a0bf5p-2")]
    [InlineData(-10, "0x1.f838b8c811c17p-1", "-0x1.63a1a7e0b7389p-3")]
    [InlineData(-5, "0x1.fe0d3b41815a2p-1", "-0x1.64fd6b8c28102p-4")]
    [InlineData(5, "0x1.fe0d3b41815a2p-1", "0x1.64fd6b8c28102p-4")]
    [InlineData(10, "0x1.f838b8c811c17p-1", "0x1.63a1a7e0b7389p-3")]
    [InlineData(20, "0x1.e11f642522d1cp-1", "0x1.5e3a8748a0bf5p-2")]
    public void CosdgSindg_AugmentationAngles_MatchScipyBitForBit(double degrees, string cosHex, string sinHex)
    {
        Assert.Equal(ParseHexDouble(cosHex), DegreeTrigonometry.Cosdg(degrees));
        Assert.Equal(ParseHexDouble(sinHex), DegreeTrigonometry.Sindg(degrees));
    }

    [Theory]
    [InlineData(0, 1.0, 0.0)]
    [InlineData(90, 0.0, 1.0)]
    [InlineData(180, -1.0, 0.0)]
    [InlineData(-90, 0.0, -1.0)]
    [InlineData(270, 0.0, -1.0)]
    [InlineData(360, 1.0, 0.0)]
    public void CosdgSindg_MultiplesOf90_AreExact(double degrees, double cos, double sin)
    {
        Assert.Equal(cos, DegreeTrigonometry.Cosdg(degrees));
        Assert.Equal(sin, DegreeTrigonometry.Sindg(degrees));
    }

    /// <summary>Parses C99 hex-float text ("0x1.8p-1") exactly: mantissa bits from the hex digits, then the exponent.</summary>
    private static double ParseHexDouble(string text)
    {
        bool negative = text.StartsWith('-');
        string body = text.TrimStart('-')[2..];
        int p = body.IndexOf('p');
        string[] mantissa = body[..p].Split('.');
        int exponent = int.Parse(body[(p + 1)..], CultureInfo.InvariantCulture);
        long bits = long.Parse(mantissa[0] + mantissa[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        double value = Math.ScaleB(bits, exponent - 4 * mantissa[1].Length);
        return negative ? -value : value;
    }
}
