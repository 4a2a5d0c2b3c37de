using CtScan.Nifti;

namespace CtScan.Phantoms;

/// <summary>Writes chest phantoms as NIfTI files the way a CT scanner export looks: int16 HU, 0.7 × 0.7 × 5 mm voxels.</summary>
public static class ChestPhantomFile
{
    /// <summary>In-plane voxel size and slice thickness in mm (MosMedData-like).</summary>
    public static readonly (double X, double Y, double Z) VoxelSizeMm = (0.7, 0.7, 5.0);

    /// <summary>The suffix of the lesion mask beside a phantom: <c>phantom-00001.nii.gz</c> → <c>phantom-00001.mask.nii.gz</c>.</summary>
    public const string MaskSuffix = ".mask";

    /// <summary>The mask's path beside the scan at <paramref name="scanPath"/>: <c>x.nii.gz</c> → <c>x.mask.nii.gz</c>, <c>x.nii</c> → <c>x.mask.nii</c>.</summary>
    public static string MaskPathFor(string scanPath)
    {
        ArgumentNullException.ThrowIfNull(scanPath);
        foreach (var extension in new[] { ".nii.gz", ".nii" })
            if (scanPath.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
                return scanPath[..^extension.Length] + MaskSuffix + scanPath[^extension.Length..];
        throw new ArgumentException($"{scanPath}: a phantom mask sits beside a .nii or .nii.gz scan", nameof(scanPath));
    }

    /// <summary>True for a path <see cref="MaskPathFor"/> makes (<c>*.mask.nii[.gz]</c>): not a scan, so scan listings skip it.</summary>
    public static bool IsMaskPath(string path) =>
        path.EndsWith(MaskSuffix + ".nii.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(MaskSuffix + ".nii", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Writes <paramref name="phantom"/>'s ground-glass opacity mask (uint8, 1 inside an opacity; see
    /// <see cref="ChestPhantom.ReadMaskSlice"/>) to <paramref name="path"/>, on the same grid and with the same affine
    /// as <see cref="Write"/> gives the scan, so it overlays the scan voxel for voxel.
    /// </summary>
    public static void WriteMask(string path, ChestPhantom phantom, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(phantom);
        var shape = phantom.Shape;
        var mask = new byte[shape.VoxelCount];
        int slice = shape.SliceVoxelCount;
        for (int k = 0; k < shape.Depth; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            phantom.ReadMaskSlice(k, mask.AsSpan(k * slice, slice));
        }
        NiftiWriter.Write<byte>(path, mask, GeometryOf(phantom.Options) with
        {
            Descrip = $"ctscan phantom seed {phantom.Options.Seed} ground-glass opacity mask",
        });
    }

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

        NiftiWriter.Write<short>(path, raw, GeometryOf(options) with
        {
            Descrip = $"ctscan phantom {options.Label.ToString().ToLowerInvariant()} seed {options.Seed} (synthetic, not a patient)",
        });
        return phantom;
    }

    /// <summary>The header of a phantom file: its shape, voxel size and LPS-like qform/sform, unscaled.</summary>
    private static NiftiWriteOptions GeometryOf(ChestPhantomOptions options)
    {
        var shape = options.Shape;
        var (dx, dy, dz) = VoxelSizeMm;
        double[] sform =
        [
            -dx, 0, 0, dx * (shape.Width - 1) / 2,
            0, -dy, 0, dy * (shape.Height - 1) / 2,
            0, 0, dz, -dz * (shape.Depth - 1) / 2,
        ];
        return new NiftiWriteOptions
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
        };
    }
}
