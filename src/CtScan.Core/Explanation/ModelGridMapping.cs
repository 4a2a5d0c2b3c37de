using System.Runtime.CompilerServices;
using CtScan.Nifti;
using CtScan.Preprocessing;

namespace CtScan.Explanation;

/// <summary>
/// Where each voxel of a scan's original grid lands on the model's input grid, composing the preprocessing's own
/// steps as <see cref="Validation.ScanIntake"/> applies them: reorientation to the training orientation (axis
/// permutation and flips), the opt-in spacing resample (corner-aligned zoom), the seed's in-plane rotation by 90°
/// about the plane's centre (scipy's rotate, reshape=False) and the corner-aligned zoom to the target shape. Used
/// to carry a map made on the model grid back onto the uploaded file's grid, so it overlays the file in any viewer.
/// </summary>
public sealed class ModelGridMapping
{
    private readonly int[] _sourceAxis = [0, 1, 2];   // per reoriented axis: the file axis it comes from
    private readonly bool[] _flip = new bool[3];       // per reoriented axis: reversed
    private readonly int[] _reoriented;               // reoriented extents (before the spacing resample)
    private readonly double[] _spacingScale = [1, 1, 1]; // reoriented index → resampled index
    private readonly int[] _plane;                    // extents the rotation and zoom see (after resampling)
    private readonly double _cos, _sin;

    /// <param name="source">The file's shape (i, j, k).</param>
    /// <param name="sourceOrientation">The file's axis codes from its affine; null when the header declares none
    /// (then, as in the intake, the array is used as stored).</param>
    /// <param name="spacingMm">The file's voxel spacing (|pixdim|), used only with a target spacing.</param>
    /// <param name="options">The model's preprocessing.</param>
    public ModelGridMapping(VolumeShape source, AxisOrientation? sourceOrientation, (double X, double Y, double Z) spacingMm, PreprocessingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Source = source.Validated(nameof(source));
        Target = options.Validated().TargetShape;
        int[] n = [source.Width, source.Height, source.Depth];
        double[] spacing = [spacingMm.X, spacingMm.Y, spacingMm.Z];
        if (options.TargetOrientation is { } codes && sourceOrientation is not null)
        {
            var map = AxisOrientation.Parse(codes).MappingFrom(sourceOrientation);
            for (int a = 0; a < 3; a++) (_sourceAxis[a], _flip[a]) = map[a];
        }
        _reoriented = [n[_sourceAxis[0]], n[_sourceAxis[1]], n[_sourceAxis[2]]];
        _plane = (int[])_reoriented.Clone();
        if (options.TargetSpacingMm is { } target)
        {
            var reorientedSpacing = (spacing[_sourceAxis[0]], spacing[_sourceAxis[1]], spacing[_sourceAxis[2]]);
            var resampled = SpacingResampler.OutputShape(new VolumeShape(_reoriented[0], _reoriented[1], _reoriented[2]), reorientedSpacing, target);
            _plane = [resampled.Width, resampled.Height, resampled.Depth];
            for (int a = 0; a < 3; a++) _spacingScale[a] = CornerAligned(_reoriented[a], _plane[a]);
        }
        _cos = DegreeTrigonometry.Cosdg(ScanPreprocessor.SeedRotationDegrees);
        _sin = DegreeTrigonometry.Sindg(ScanPreprocessor.SeedRotationDegrees);
    }

    /// <summary>The mapping for a NIfTI file's header and a model's preprocessing.</summary>
    public static ModelGridMapping For(NiftiHeader header, VolumeShape shape, PreprocessingOptions options)
    {
        ArgumentNullException.ThrowIfNull(header);
        bool declared = header.QformCode > 0 || header.SformCode > 0;
        var orientation = declared ? AxisOrientation.FromAffine(header.GetBestAffine()) : null;
        var (px, py, pz) = header.SpacingMm;
        return new ModelGridMapping(shape, orientation, (Math.Abs(px), Math.Abs(py), Math.Abs(pz)), options);
    }

    public VolumeShape Source { get; }

    public VolumeShape Target { get; }

    /// <summary>The continuous model-grid coordinates (i, j, k of the C-order input tensor) of file voxel (i, j, k).</summary>
    public (double I, double J, double K) ToModel(int i, int j, int k)
    {
        Span<int> s = [i, j, k];
        Span<double> c = stackalloc double[3];
        for (int a = 0; a < 3; a++)
        {
            int b = _sourceAxis[a];
            int r = _flip[a] ? _reoriented[a] - 1 - s[b] : s[b];
            c[a] = r * _spacingScale[a];
        }
        // The rotation samples input x = M·o + offset for output o, M = [[cos, sin], [−sin, cos]] about the centre;
        // so o = Mᵀ·(x − centre) + centre (input and output planes have the same shape).
        double centre0 = (_plane[0] - 1) / 2.0, centre1 = (_plane[1] - 1) / 2.0;
        double x0 = c[0] - centre0, x1 = c[1] - centre1;
        double o0 = _cos * x0 - _sin * x1 + centre0;
        double o1 = _sin * x0 + _cos * x1 + centre1;
        return (o0 * CornerAligned(_plane[0], Target.Width), o1 * CornerAligned(_plane[1], Target.Height), c[2] * CornerAligned(_plane[2], Target.Depth));
    }

    /// <summary>
    /// Samples <paramref name="modelMap"/> (C order on <see cref="Target"/>) at every file voxel, trilinearly, into a
    /// file-order (i fastest) volume on <see cref="Source"/>; points the rotation took outside the model's plane get 0.
    /// </summary>
    public float[] ToSource(ReadOnlySpan<float> modelMap, CancellationToken cancellationToken = default)
    {
        if (modelMap.Length != Target.VoxelCount)
            throw new ArgumentException($"the model map holds {modelMap.Length} values; the model grid {Target} has {Target.VoxelCount}", nameof(modelMap));
        var output = new float[checked((int)Source.VoxelCount)];
        int o = 0;
        for (int k = 0; k < Source.Depth; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int j = 0; j < Source.Height; j++)
                for (int i = 0; i < Source.Width; i++)
                {
                    var (x, y, z) = ToModel(i, j, k);
                    output[o++] = Sample(modelMap, x, y, z);
                }
        }
        return output;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Sample(ReadOnlySpan<float> map, double x, double y, double z)
    {
        const double Tolerance = 1e-6; // rounding at the grid's edges
        int w = Target.Width, h = Target.Height, d = Target.Depth;
        if (x < -Tolerance || y < -Tolerance || z < -Tolerance || x > w - 1 + Tolerance || y > h - 1 + Tolerance || z > d - 1 + Tolerance) return 0;
        x = Math.Clamp(x, 0, w - 1);
        y = Math.Clamp(y, 0, h - 1);
        z = Math.Clamp(z, 0, d - 1);
        int x0 = Math.Min((int)x, Math.Max(w - 2, 0)), y0 = Math.Min((int)y, Math.Max(h - 2, 0)), z0 = Math.Min((int)z, Math.Max(d - 2, 0));
        int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1), z1 = Math.Min(z0 + 1, d - 1);
        double fx = x - x0, fy = y - y0, fz = z - z0;
        double c0 = Lerp(map, (x0 * h + y0) * d, z0, z1, fz) * (1 - fy) + Lerp(map, (x0 * h + y1) * d, z0, z1, fz) * fy;
        double c1 = Lerp(map, (x1 * h + y0) * d, z0, z1, fz) * (1 - fy) + Lerp(map, (x1 * h + y1) * d, z0, z1, fz) * fy;
        return (float)(c0 * (1 - fx) + c1 * fx);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Lerp(ReadOnlySpan<float> map, int row, int z0, int z1, double fz) => map[row + z0] * (1 - fz) + map[row + z1] * fz;


    /// <summary>scipy's corner-aligned zoom factor from n to m samples: (m − 1)/(n − 1), 0 for a single output sample.</summary>
    private static double CornerAligned(int n, int m) => m <= 1 || n <= 1 ? 0 : (double)(m - 1) / (n - 1);
}
