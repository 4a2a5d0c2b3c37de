namespace CtScan.Preprocessing;

/// <summary>A whole volume in memory, file order (i fastest), with its voxel spacing in mm along (i, j, k).</summary>
public sealed record VolumeGrid(double[] Values, VolumeShape Shape, (double X, double Y, double Z) SpacingMm)
{
    /// <summary>Reads every remaining slice of <paramref name="source"/>.</summary>
    public static VolumeGrid Read(IVolumeSlices source, (double X, double Y, double Z) spacingMm, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var shape = source.Shape;
        var values = new double[checked((int)shape.VoxelCount)];
        int slice = shape.SliceVoxelCount;
        for (int k = 0; k < shape.Depth; k++)
            source.ReadNextSlice(values.AsSpan(k * slice, slice), cancellationToken);
        return new VolumeGrid(values, shape, spacingMm);
    }

    /// <summary>The volume as slices again, for the seed's preprocessing.</summary>
    public IVolumeSlices ToSlices() => new ArrayVolumeSlices(Values, Shape);
}

/// <summary>
/// Reorientation without resampling: permutes and reverses array axes so that a scan stored in one orthogonal
/// orientation is laid out in another (nibabel's <c>apply_orientation</c>). Values are moved, never interpolated.
/// </summary>
public static class Reorientation
{
    /// <summary>
    /// <paramref name="grid"/> (stored in <paramref name="from"/>) laid out in <paramref name="to"/>; the same grid
    /// when the orientations are equal.
    /// </summary>
    public static VolumeGrid Apply(VolumeGrid grid, AxisOrientation from, AxisOrientation to)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var map = to.MappingFrom(from);
        if (IsIdentity(map)) return grid;
        double[] spacing = [grid.SpacingMm.X, grid.SpacingMm.Y, grid.SpacingMm.Z];
        var (shape, start, step) = Layout(grid.Shape, map);
        var output = new double[grid.Values.Length];
        var input = grid.Values;
        int o = 0;
        for (int k = 0; k < shape.Depth; k++)
        {
            long baseK = start[0] + start[1] + start[2] + k * step[2];
            for (int j = 0; j < shape.Height; j++)
            {
                long index = baseK + j * step[1];
                for (int i = 0; i < shape.Width; i++, index += step[0])
                    output[o++] = input[index];
            }
        }
        return new VolumeGrid(output, shape, (spacing[map[0].SourceAxis], spacing[map[1].SourceAxis], spacing[map[2].SourceAxis]));
    }

    /// <summary>
    /// The shape after applying <paramref name="map"/> to <paramref name="stored"/>, and per output axis the file-order
    /// offset of index 0 and the step per index (negative when reversed).
    /// </summary>
    internal static (VolumeShape Shape, long[] Start, long[] Step) Layout(VolumeShape stored, (int SourceAxis, bool Flip)[] map)
    {
        int[] n = [stored.Width, stored.Height, stored.Depth];
        long[] stride = [1, n[0], (long)n[0] * n[1]];
        var shape = new VolumeShape(n[map[0].SourceAxis], n[map[1].SourceAxis], n[map[2].SourceAxis]);
        var start = new long[3];
        var step = new long[3];
        for (int a = 0; a < 3; a++)
        {
            var (b, flip) = map[a];
            step[a] = flip ? -stride[b] : stride[b];
            start[a] = flip ? (n[b] - 1) * stride[b] : 0;
        }
        return (shape, start, step);
    }

    public static bool IsIdentity((int SourceAxis, bool Flip)[] map) =>
        map[0] == (0, false) && map[1] == (1, false) && map[2] == (2, false);
}

/// <summary>
/// Resamples a volume to a target voxel spacing, like MONAI's Spacingd but on scipy's grid: exactly
/// <c>scipy.ndimage.zoom(float32 volume, spacing / target, order=1)</c>, i.e. output extents round(n · spacing / target)
/// (round half to even, at least 1) and <see cref="LinearZoom"/>'s corner-aligned trilinear sampling. Values pass
/// through float32 (the zoom's type).
/// </summary>
public static class SpacingResampler
{
    /// <summary>The output extents for <paramref name="shape"/> at <paramref name="spacingMm"/> resampled to <paramref name="targetMm"/>.</summary>
    public static VolumeShape OutputShape(VolumeShape shape, (double X, double Y, double Z) spacingMm, (double X, double Y, double Z) targetMm)
    {
        static int Extent(int n, double spacing, double target) =>
            Math.Max(1, (int)Math.Round(n * (spacing / target), MidpointRounding.ToEven));
        return new VolumeShape(Extent(shape.Width, spacingMm.X, targetMm.X), Extent(shape.Height, spacingMm.Y, targetMm.Y),
            Extent(shape.Depth, spacingMm.Z, targetMm.Z));
    }

    /// <summary>
    /// The slices of <paramref name="source"/> (spacing <paramref name="spacingMm"/>) resampled to
    /// <paramref name="targetMm"/>, the same values as <see cref="Apply"/> without its float64 copies: the source is
    /// read slice by slice into the zoom's float32 array, and the zoomed array is read in place.
    /// </summary>
    public static IVolumeSlices Resample(IVolumeSlices source, (double X, double Y, double Z) spacingMm, (double X, double Y, double Z) targetMm,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var shape = source.Shape;
        var target = OutputShape(shape, spacingMm, targetMm);
        int w = shape.Width, h = shape.Height, d = shape.Depth;
        var c = new float[shape.VoxelCount];
        var slice = new double[shape.SliceVoxelCount];
        for (int k = 0; k < d; k++)
        {
            source.ReadNextSlice(slice, cancellationToken);
            for (int j = 0, f = 0; j < h; j++)
                for (int i = 0; i < w; i++, f++)
                    c[((long)i * h + j) * d + k] = (float)slice[f];
        }
        var zoomed = new float[target.VoxelCount];
        new LinearZoom(target).Apply(c, zoomed, shape);
        return new COrderFloatSlices(zoomed, target);
    }

    /// <summary><paramref name="grid"/> resampled to <paramref name="targetMm"/>.</summary>
    public static VolumeGrid Apply(VolumeGrid grid, (double X, double Y, double Z) targetMm)
    {
        ArgumentNullException.ThrowIfNull(grid);
        var source = grid.Shape;
        var target = OutputShape(source, grid.SpacingMm, targetMm);
        // LinearZoom works in C order (k fastest) on float32, like the seed's arrays.
        var c = new float[grid.Values.Length];
        int w = source.Width, h = source.Height, d = source.Depth;
        for (int k = 0, f = 0; k < d; k++)
            for (int j = 0; j < h; j++)
                for (int i = 0; i < w; i++, f++)
                    c[(i * h + j) * d + k] = (float)grid.Values[f];
        var zoomed = new float[target.VoxelCount];
        new LinearZoom(target).Apply(c, zoomed, source);
        var output = new double[zoomed.Length];
        int tw = target.Width, th = target.Height, td = target.Depth;
        for (int k = 0, f = 0; k < td; k++)
            for (int j = 0; j < th; j++)
                for (int i = 0; i < tw; i++, f++)
                    output[f] = zoomed[(i * th + j) * td + k];
        // The grid keeps its extent: spacing × (n − 1) is preserved by the corner-aligned zoom.
        static double Spacing(double spacing, int n, int m) => m > 1 ? spacing * (n - 1) / (m - 1) : spacing * n;
        return new VolumeGrid(output, target, (Spacing(grid.SpacingMm.X, w, tw), Spacing(grid.SpacingMm.Y, h, th), Spacing(grid.SpacingMm.Z, d, td)));
    }
}
