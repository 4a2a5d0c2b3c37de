namespace CtScan.Preprocessing;

/// <summary>
/// Sine and cosine of an angle in degrees, as scipy.special.sindg/cosdg (Cephes) compute them: reduction into
/// 45° octants, then a polynomial. Exact at multiples of 90° (cosdg(90) is −0.0), and for other angles it matches
/// scipy bit for bit, which cos(deg·π/180) does not (it differs by an ulp for some angles).
/// </summary>
internal static class DegreeTrigonometry
{
    private static ReadOnlySpan<double> SinCoefficients =>
    [
        1.58962301572218447952E-10, -2.50507477628503540135E-8, 2.75573136213856773549E-6,
        -1.98412698295895384658E-4, 8.33333333332211858862E-3, -1.66666666666666307295E-1,
    ];

    private static ReadOnlySpan<double> CosCoefficients =>
    [
        1.13678171382044553091E-11, -2.08758833757683644217E-9, 2.75573155429816611547E-7,
        -2.48015872936186303776E-5, 1.38888888888806666760E-3, -4.16666666666666348141E-2,
        4.99999999999999999798E-1,
    ];

    /// <summary>π/180 as Cephes writes it.</summary>
    private const double RadiansPerDegree = 1.74532925199432957692E-2;

    /// <summary>Cephes gives up (returns 0) above this magnitude.</summary>
    private const double LossThreshold = 1.0e14;

    public static double Sindg(double degrees)
    {
        int sign = 1;
        double x = degrees;
        if (x < 0)
        {
            x = -x;
            sign = -1;
        }
        if (x > LossThreshold) return 0.0;
        (double y, int j) = Octant(x);
        if (j > 3)
        {
            sign = -sign;
            j -= 4;
        }
        double result = Evaluate(x, y, useCosine: j is 1 or 2);
        return sign < 0 ? -result : result;
    }

    public static double Cosdg(double degrees)
    {
        int sign = 1;
        double x = Math.Abs(degrees);
        if (x > LossThreshold) return 0.0;
        (double y, int j) = Octant(x);
        if (j > 3)
        {
            j -= 4;
            sign = -sign;
        }
        if (j > 1) sign = -sign;
        double result = Evaluate(x, y, useCosine: j is not (1 or 2));
        return sign < 0 ? -result : result;
    }

    /// <summary>Octant number y = floor(x/45) rounded up to even, and j = y mod 8 (Cephes' phase bookkeeping).</summary>
    private static (double Y, int J) Octant(double x)
    {
        double y = Math.Floor(x / 45.0);
        double z = Math.Floor(Math.ScaleB(y, -4));
        z = y - Math.ScaleB(z, 4);
        int j = (int)z;
        if ((j & 1) != 0)
        {
            j += 1;
            y += 1.0;
        }
        return (y, j & 7);
    }

    private static double Evaluate(double x, double y, bool useCosine)
    {
        double z = x - y * 45.0;
        z *= RadiansPerDegree;
        double zz = z * z;
        return useCosine
            ? 1.0 - zz * Polynomial(zz, CosCoefficients)
            : z + z * (zz * Polynomial(zz, SinCoefficients));
    }

    /// <summary>Cephes polevl: Horner's scheme, highest coefficient first.</summary>
    private static double Polynomial(double x, ReadOnlySpan<double> coefficients)
    {
        double result = coefficients[0];
        for (int n = 1; n < coefficients.Length; n++)
            result = result * x + coefficients[n];
        return result;
    }
}
