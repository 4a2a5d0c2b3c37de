using CtScan.Nifti;

namespace CtScan.Phantoms;

/// <summary>Writes chest phantoms as NIfTI files the way a CT scanner export looks: int16 HU, 0.7 × 0.7 × 5 mm voxels.</summary>
public static class ChestPhantomFile
{
    /// <summary>In-plane voxel size and slice thickness in mm (MosMedData-like).</summary>
    public static readonly (double X, double Y, double Z) VoxelSizeMm = (0.7, 0.7, 5.0);

    /// <summary>
    /// Generates <paramref name="options"/>'s phantom and writes it to <paramref name="path"/> (.nii, .nii.gz, or a
    /// .hdr/.img pair), HU rounded to int16, unscaled, with the same LPS-like qform/sform as the reference script.
    /// </summary>
    public static ChestPhantom Write(string path, ChestPhantomOptions options, CancellationToken cancellationToken = default)
    {
        var phantom = new ChestPhantom(options);
        var shape = phantom.Shape;
        var raw = new short[shape.VoxelCount];
        var slice = new double[shape.SliceVoxelCount];
        for (int k = 0; k < shape.Depth; k++)
        {
            phantom.ReadNextSlice(slice, cancellationToken);
            var destination = raw.AsSpan(k * slice.Length, slice.Length);
            for (int v = 0; v < slice.Length; v++)
                destination[v] = (short)Math.Clamp(Math.Round(slice[v], MidpointRounding.ToEven), short.MinValue, short.MaxValue);
        }

        var (dx, dy, dz) = VoxelSizeMm;
        double[] sform =
        [
            -dx, 0, 0, dx * (shape.Width - 1) / 2,
            0, -dy, 0, dy * (shape.Height - 1) / 2,
            0, 0, dz, -dz * (shape.Depth - 1) / 2,
        ];
        NiftiWriter.Write<short>(path, raw, new NiftiWriteOptions
        {
            Shape = [shape.Width, shape.Height, shape.Depth],
            VoxelSize = [dx, dy, dz],
            SclSlope = double.NaN,
            SclInter = double.NaN,
            // diag(-1, -1, 1) is a rotation of 180° about z: quaternion (b, c, d) = (0, 0, 1).
            QformCode = 1,
            Quaternion = (0, 0, 1),
            QOffset = (sform[3], sform[7], sform[11]),
            SformCode = 1,
            Sform = sform,
            Descrip = $"ctscan phantom {options.Label.ToString().ToLowerInvariant()} seed {options.Seed} (synthetic, not a patient)",
        });
        return phantom;
    }
}
