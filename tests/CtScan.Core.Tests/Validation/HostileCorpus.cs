using CtScan.Contracts;
using CtScan.Nifti;
using CtScan.Phantoms;

namespace CtScan.Tests.Validation;

/// <summary>One file of the hostile corpus and the outcome every entry point must give it.</summary>
internal sealed record HostileCase(string Name, ScanStatus Status, string? Code, string? Warning = null, string? Orientation = null)
{
    public override string ToString() => Name;
}

/// <summary>
/// Scans built to be refused (or warned about), one per input-gate check, plus the well-formed phantom stored in
/// other orientations. Written into a folder so that <c>ctscan score</c> (FileScorer) and the pipeline read the same
/// bytes. Shared by the Core and Pipeline tests (linked file).
/// </summary>
internal static class HostileCorpus
{
    /// <summary>A small phantom that passes the gate: 64×64×16, 0.7×0.7×5 mm, stored LPS like every phantom.</summary>
    public static readonly VolumeShape Shape = new(64, 64, 16);

    /// <summary>The orientation phantoms are written in (and the corpus model is given as its training orientation).</summary>
    public const string PhantomOrientation = "LPS";

    public static IReadOnlyList<HostileCase> Cases { get; } =
    [
        new("phantom-lps.nii", ScanStatus.Scored, null, Orientation: "LPS"),
        new("phantom-ras.nii", ScanStatus.Scored, null, Orientation: "RAS"),
        new("phantom-permuted.nii", ScanStatus.Scored, null, Orientation: "PLS"),
        new("oblique.nii", ScanStatus.Scored, null, ScanWarningCodes.ObliqueAffine, "LPS"),
        new("half-nan.nii", ScanStatus.Rejected, ScanErrorCodes.NonFiniteValues),
        new("all-nan.nii", ScanStatus.Rejected, ScanErrorCodes.NonFiniteValues),
        new("plus-inf.nii", ScanStatus.Rejected, ScanErrorCodes.NonFiniteValues),
        new("minus-inf.nii", ScanStatus.Rejected, ScanErrorCodes.NonFiniteValues),
        new("one-voxel.nii", ScanStatus.Rejected, ScanErrorCodes.VolumeTooSmall),
        new("single-slice.nii", ScanStatus.Rejected, ScanErrorCodes.VolumeTooSmall),
        new("tiny-field-of-view.nii", ScanStatus.Rejected, ScanErrorCodes.FieldOfViewTooSmall),
        new("noise.nii", ScanStatus.Rejected, ScanErrorCodes.NotACtVolume),
        new("uniform.nii", ScanStatus.Rejected, ScanErrorCodes.NotACtVolume),
        new("mr-t1.nii", ScanStatus.Rejected, ScanErrorCodes.NotACtVolume),
        new("unscaled-ct.nii", ScanStatus.Rejected, ScanErrorCodes.ImplausibleIntensities),
        new("hu-times-100.nii", ScanStatus.Rejected, ScanErrorCodes.ImplausibleIntensities),
        new("spacing-1000mm.nii", ScanStatus.Rejected, ScanErrorCodes.ImplausibleSpacing),
        new("spacing-zero.nii", ScanStatus.Rejected, ScanErrorCodes.ImplausibleSpacing),
        new("no-orientation.nii", ScanStatus.Rejected, ScanErrorCodes.OrientationUndetermined),
        new("singular-affine.nii", ScanStatus.Rejected, ScanErrorCodes.OrientationUndetermined),
    ];

    /// <summary>Writes every case into <paramref name="folder"/> (created); returns the folder.</summary>
    public static string Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var phantom = new ChestPhantom(new ChestPhantomOptions { Shape = Shape, Seed = 7, Label = PhantomLabel.Abnormal }).ToArray();
        string P(string name) => Path.Combine(folder, name);

        WriteShorts(P("phantom-lps.nii"), Round(phantom), Shape, Lps(Shape));
        var (ras, _) = Flip(phantom, Shape, flipI: true, flipJ: true);
        WriteShorts(P("phantom-ras.nii"), Round(ras), Shape, Ras(Shape));
        var (permuted, permutedShape) = SwapIJ(phantom, Shape);
        // Swapped axes, swapped affine columns: array axis 0 now runs along −y (P), axis 1 along −x (L).
        WriteShorts(P("phantom-permuted.nii"), Round(permuted), permutedShape, Sform(permutedShape, [0, -0.7, 0, -0.7, 0, 0, 0, 0, 5.0]));
        double angle = 10 * Math.PI / 180, c = Math.Cos(angle), s = Math.Sin(angle);
        WriteShorts(P("oblique.nii"), Round(phantom), Shape, Sform(Shape, [-0.7 * c, 0.7 * s, 0, -0.7 * s, -0.7 * c, 0, 0, 0, 5.0]));

        var halfNan = phantom.Select(v => (float)v).ToArray();
        for (int n = 0; n < halfNan.Length; n += 2) halfNan[n] = float.NaN;
        WriteFloats(P("half-nan.nii"), halfNan, Shape, Lps(Shape));
        WriteFloats(P("all-nan.nii"), [.. Enumerable.Repeat(float.NaN, (int)Shape.VoxelCount)], Shape, Lps(Shape));
        var plusInf = phantom.Select(v => (float)v).ToArray();
        plusInf[1234] = float.PositiveInfinity;
        WriteFloats(P("plus-inf.nii"), plusInf, Shape, Lps(Shape));
        var minusInf = phantom.Select(v => (float)v).ToArray();
        minusInf[4321] = float.NegativeInfinity;
        WriteFloats(P("minus-inf.nii"), minusInf, Shape, Lps(Shape));

        WriteShorts(P("one-voxel.nii"), [-1000], new VolumeShape(1, 1, 1), Lps(new VolumeShape(1, 1, 1)));
        var slice = new VolumeShape(64, 64, 1);
        WriteShorts(P("single-slice.nii"), Round(phantom.AsSpan(0, slice.SliceVoxelCount * 1).ToArray()), slice, Lps(slice));
        WriteShorts(P("tiny-field-of-view.nii"), Round(phantom), Shape, Lps(Shape) with { VoxelSize = [0.2, 0.2, 5.0], Sform = [-0.2, 0, 0, 0, 0, -0.2, 0, 0, 0, 0, 5.0, 0] });

        var random = new Random(11);
        WriteShorts(P("noise.nii"), [.. Enumerable.Range(0, (int)Shape.VoxelCount).Select(_ => (short)random.Next(-1024, 1500))], Shape, Lps(Shape));
        WriteShorts(P("uniform.nii"), [.. Enumerable.Repeat((short)-1000, (int)Shape.VoxelCount)], Shape, Lps(Shape));
        File.Copy(Fixtures.RealNifti("anatomical.nii"), P("mr-t1.nii"), overwrite: true);
        // A CT exported without its rescale intercept: raw = HU + 1024, clipped to 12 bits, and the header says unscaled.
        WriteShorts(P("unscaled-ct.nii"), [.. phantom.Select(v => (short)Math.Clamp(Math.Round(v) + 1024, 0, 4095))], Shape, Lps(Shape));
        WriteFloats(P("hu-times-100.nii"), [.. phantom.Select(v => (float)(v * 100))], Shape, Lps(Shape));

        WriteShorts(P("spacing-1000mm.nii"), Round(phantom), Shape, Lps(Shape) with { VoxelSize = [1000, 1000, 5000], Sform = [-1000, 0, 0, 0, 0, -1000, 0, 0, 0, 0, 5000, 0] });
        WriteShorts(P("spacing-zero.nii"), Round(phantom), Shape, Lps(Shape) with { VoxelSize = [0.7, 0.7, 0], QformCode = 0, SformCode = 1, Sform = [-0.7, 0, 0, 0, 0, -0.7, 0, 0, 0, 0, 5, 0] });
        WriteShorts(P("no-orientation.nii"), Round(phantom), Shape, new NiftiWriteOptions { Shape = [Shape.Width, Shape.Height, Shape.Depth], VoxelSize = [0.7, 0.7, 5.0] });
        WriteShorts(P("singular-affine.nii"), Round(phantom), Shape, Sform(Shape, [-0.7, -0.7, 0, 0, 0, 0, 0, 0, 5.0]));
        return folder;
    }

    /// <summary>
    /// A copy of the small fixture model (46³ input) whose manifest records <see cref="PhantomOrientation"/> as its
    /// training orientation, so that scans in other orientations are reoriented and headers without one are refused.
    /// </summary>
    public static string WriteModel(string folder, string? orientation = PhantomOrientation)
    {
        string source = Fixtures.Path("models", "fixture-small46-auc075");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(source, "model.onnx"), Path.Combine(folder, "model.onnx"), overwrite: true);
        var manifest = ContractsJson.DeserializeManifest(File.ReadAllText(Path.Combine(source, "manifest.json")));
        manifest = manifest with { Preprocessing = manifest.Preprocessing with { Orientation = orientation } };
        File.WriteAllText(Path.Combine(folder, "manifest.json"), ContractsJson.Serialize(manifest));
        return folder;
    }

    /// <summary>The phantom's own header (ChestPhantomFile): LPS, 0.7 × 0.7 × 5 mm, qform and sform.</summary>
    public static NiftiWriteOptions Lps(VolumeShape shape) => new()
    {
        Shape = [shape.Width, shape.Height, shape.Depth],
        VoxelSize = [0.7, 0.7, 5.0],
        QformCode = 1,
        Quaternion = (0, 0, 1),
        SformCode = 1,
        Sform = [-0.7, 0, 0, 0, 0, -0.7, 0, 0, 0, 0, 5.0, 0],
    };

    public static NiftiWriteOptions Ras(VolumeShape shape) => Sform(shape, [0.7, 0, 0, 0, 0.7, 0, 0, 0, 5.0]);

    /// <summary>A header whose orientation is the sform alone (3×3 rotation-zoom, row after row), no qform.</summary>
    public static NiftiWriteOptions Sform(VolumeShape shape, double[] m) => new()
    {
        Shape = [shape.Width, shape.Height, shape.Depth],
        VoxelSize = [Norm(m[0], m[3], m[6]), Norm(m[1], m[4], m[7]), Norm(m[2], m[5], m[8])],
        SformCode = 1,
        Sform = [m[0], m[1], m[2], 0, m[3], m[4], m[5], 0, m[6], m[7], m[8], 0],
    };

    /// <summary>File-order values reversed along i and/or j (the same physical image needs the matching affine).</summary>
    public static (double[] Values, VolumeShape Shape) Flip(double[] values, VolumeShape shape, bool flipI, bool flipJ)
    {
        var output = new double[values.Length];
        for (int k = 0; k < shape.Depth; k++)
            for (int j = 0; j < shape.Height; j++)
                for (int i = 0; i < shape.Width; i++)
                {
                    int si = flipI ? shape.Width - 1 - i : i, sj = flipJ ? shape.Height - 1 - j : j;
                    output[i + shape.Width * (j + shape.Height * k)] = values[si + shape.Width * (sj + shape.Height * k)];
                }
        return (output, shape);
    }

    /// <summary>File-order values with axes i and j exchanged.</summary>
    public static (double[] Values, VolumeShape Shape) SwapIJ(double[] values, VolumeShape shape)
    {
        var swapped = new VolumeShape(shape.Height, shape.Width, shape.Depth);
        var output = new double[values.Length];
        for (int k = 0; k < shape.Depth; k++)
            for (int j = 0; j < shape.Height; j++)
                for (int i = 0; i < shape.Width; i++)
                    output[j + swapped.Width * (i + swapped.Height * k)] = values[i + shape.Width * (j + shape.Height * k)];
        return (output, swapped);
    }

    public static short[] Round(double[] values) => [.. values.Select(v => (short)Math.Clamp(Math.Round(v, MidpointRounding.ToEven), short.MinValue, short.MaxValue))];

    private static double Norm(double a, double b, double c) => Math.Sqrt(a * a + b * b + c * c);

    private static void WriteShorts(string path, short[] data, VolumeShape shape, NiftiWriteOptions options) =>
        NiftiWriter.Write<short>(path, data, options with { Shape = [shape.Width, shape.Height, shape.Depth], SclSlope = double.NaN, SclInter = double.NaN });

    private static void WriteFloats(string path, float[] data, VolumeShape shape, NiftiWriteOptions options) =>
        NiftiWriter.Write<float>(path, data, options with { Shape = [shape.Width, shape.Height, shape.Depth], SclSlope = double.NaN, SclInter = double.NaN });
}
