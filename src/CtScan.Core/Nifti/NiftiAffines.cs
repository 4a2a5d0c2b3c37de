namespace CtScan.Nifti;

/// <summary>The qform and fallback affines, computed as nibabel does (float64 throughout).</summary>
internal static class NiftiAffines
{
    /// <summary>nibabel's quaternion threshold for NIfTI-1: 3 × float32 eps; below −threshold, 1 − b² − c² − d² is
    /// an error, between it and 0 it is taken as 0.</summary>
    public const double QuaternionThreshold = 3 * 1.1920928955078125e-07;

    private const double Float64Eps = 2.220446049250313e-16;

    public static double[,] FromQuaternion(NiftiHeader h)
    {
        double b = h.QuaternB, c = h.QuaternC, d = h.QuaternD;
        var w2 = 1.0 - (b * b + c * c + d * d);
        var a = w2 < 0 ? 0 : Math.Sqrt(w2);
        var r = QuaternionToMatrix(a, b, c, d);
        var qfac = h.PixDim[0] == -1 ? -1.0 : 1.0;
        double sx = Math.Abs(h.PixDim[1]), sy = Math.Abs(h.PixDim[2]), sz = Math.Abs(h.PixDim[3]) * qfac;
        return new double[4, 4]
        {
            { r[0, 0] * sx, r[0, 1] * sy, r[0, 2] * sz, h.QoffsetX },
            { r[1, 0] * sx, r[1, 1] * sy, r[1, 2] * sz, h.QoffsetY },
            { r[2, 0] * sx, r[2, 1] * sy, r[2, 2] * sz, h.QoffsetZ },
            { 0, 0, 0, 1 },
        };
    }

    /// <summary>nibabel's <c>shape_zoom_affine(shape[:3], zooms[:3], x_flip=True)</c>: voxel sizes on the diagonal,
    /// x negated, origin at the volume centre; missing dims count as 1 voxel of size 1.</summary>
    public static double[,] FromPixDim(NiftiHeader h)
    {
        var shape = h.DataShape;
        Span<double> n = stackalloc double[3];
        Span<double> z = stackalloc double[3];
        for (var i = 0; i < 3; i++)
        {
            n[i] = i < shape.Count ? shape[i] : 1;
            z[i] = i < shape.Count ? h.PixDim[i + 1] : 1;
        }
        z[0] = -z[0];
        return new double[4, 4]
        {
            { z[0], 0, 0, -(n[0] - 1) / 2.0 * z[0] },
            { 0, z[1], 0, -(n[1] - 1) / 2.0 * z[1] },
            { 0, 0, z[2], -(n[2] - 1) / 2.0 * z[2] },
            { 0, 0, 0, 1 },
        };
    }

    /// <summary>transforms3d's quat2mat for quaternion (w, x, y, z).</summary>
    private static double[,] QuaternionToMatrix(double w, double x, double y, double z)
    {
        var nq = w * w + x * x + y * y + z * z;
        if (nq < Float64Eps)
            return new double[3, 3] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        var s = 2.0 / nq;
        double bx = x * s, by = y * s, bz = z * s;
        double wX = w * bx, wY = w * by, wZ = w * bz;
        double xX = x * bx, xY = x * by, xZ = x * bz;
        double yY = y * by, yZ = y * bz, zZ = z * bz;
        return new double[3, 3]
        {
            { 1.0 - (yY + zZ), xY - wZ, xZ + wY },
            { xY + wZ, 1.0 - (xX + zZ), yZ - wX },
            { xZ - wY, yZ + wX, 1.0 - (xX + yY) },
        };
    }
}
