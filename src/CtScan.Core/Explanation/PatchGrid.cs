namespace CtScan.Explanation;

/// <summary>
/// The occlusion patches over a model grid: <see cref="Cells"/> patches along (i, j, k), each covering a near-equal
/// run of voxels per axis, and the ones worth occluding (those holding anything but the fill value).
/// </summary>
internal sealed class PatchGrid
{
    private readonly int[][] _bounds; // per axis: cell c covers [bounds[c], bounds[c + 1])

    private PatchGrid(VolumeShape grid, VolumeShape cells, List<int> occluded, int skipped)
    {
        Grid = grid;
        Cells = cells;
        Occluded = occluded;
        Skipped = skipped;
        _bounds = [Bounds(grid.Width, cells.Width), Bounds(grid.Height, cells.Height), Bounds(grid.Depth, cells.Depth)];
    }

    public VolumeShape Grid { get; }

    public VolumeShape Cells { get; }

    /// <summary>C-order indices (on <see cref="Cells"/>) of the patches to occlude.</summary>
    public IReadOnlyList<int> Occluded { get; }

    public int Skipped { get; }

    /// <summary>The largest patch's extent in voxels, e.g. <c>22×22×23</c>.</summary>
    public string PatchSize => $"{Ceil(Grid.Width, Cells.Width)}×{Ceil(Grid.Height, Cells.Height)}×{Ceil(Grid.Depth, Cells.Depth)}";

    /// <summary>
    /// The finest grid (most occluded patches) whose patches holding anything but <paramref name="fill"/> number at
    /// most <paramref name="maxPatches"/>; patches as close to cubes (in voxels) as the counts allow.
    /// </summary>
    public static PatchGrid Choose(ReadOnlySpan<float> scan, VolumeShape grid, float fill, int maxPatches)
    {
        var informative = new SummedVolume(scan, grid, fill);
        VolumeShape best = new(1, 1, 1);
        int bestCount = 0;
        double bestAspect = double.MaxValue;
        int limit = Math.Max(1, Math.Min(32, maxPatches));
        for (int g0 = 1; g0 <= Math.Min(limit, grid.Width); g0++)
            for (int g1 = 1; g1 <= Math.Min(limit, grid.Height); g1++)
                for (int g2 = 1; g2 <= Math.Min(limit, grid.Depth); g2++)
                {
                    if ((long)g0 * g1 * g2 > 8L * maxPatches) break; // more cells only add count
                    var cells = new VolumeShape(g0, g1, g2);
                    int count = CountInformative(informative, grid, cells, maxPatches);
                    if (count > maxPatches) continue;
                    double aspect = Aspect(grid, cells);
                    if (count > bestCount || (count == bestCount && aspect < bestAspect))
                        (best, bestCount, bestAspect) = (cells, count, aspect);
                }
        return Build(informative, grid, best);
    }

    /// <summary>Sets patch <paramref name="cell"/> of <paramref name="scan"/> (C order on <see cref="Grid"/>) to <paramref name="fill"/>.</summary>
    public void Fill(int cell, Span<float> scan, float fill)
    {
        var (c0, c1, c2) = Unflatten(cell, Cells);
        int h = Grid.Height, d = Grid.Depth;
        int k0 = _bounds[2][c2], k1 = _bounds[2][c2 + 1];
        for (int i = _bounds[0][c0]; i < _bounds[0][c0 + 1]; i++)
            for (int j = _bounds[1][c1]; j < _bounds[1][c1 + 1]; j++)
                scan.Slice((i * h + j) * d + k0, k1 - k0).Fill(fill);
    }

    /// <summary>Per-patch values (C order on <see cref="Cells"/>) interpolated trilinearly from the patch centres to every voxel.</summary>
    public float[] Upsample(ReadOnlySpan<float> cells)
    {
        var x = AxisWeights(0);
        var y = AxisWeights(1);
        var z = AxisWeights(2);
        var output = new float[Grid.VoxelCount];
        int g1 = Cells.Height, g2 = Cells.Depth;
        int o = 0;
        for (int i = 0; i < Grid.Width; i++)
            for (int j = 0; j < Grid.Height; j++)
                for (int k = 0; k < Grid.Depth; k++)
                {
                    double sum = 0;
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++)
                        {
                            int row = (x.Cell[i, a] * g1 + y.Cell[j, b]) * g2;
                            double w = x.Weight[i, a] * y.Weight[j, b];
                            sum += w * (cells[row + z.Cell[k, 0]] * z.Weight[k, 0] + cells[row + z.Cell[k, 1]] * z.Weight[k, 1]);
                        }
                    output[o++] = (float)sum;
                }
        return output;
    }

    /// <summary>For each voxel along an axis: the two patch centres around it and their linear weights (clamped at the ends).</summary>
    private (int[,] Cell, double[,] Weight) AxisWeights(int axis)
    {
        int[] bounds = _bounds[axis];
        int cells = bounds.Length - 1, n = bounds[^1];
        var cell = new int[n, 2];
        var weight = new double[n, 2];
        for (int v = 0; v < n; v++)
        {
            double position = v;
            int c = 0;
            while (c + 1 < cells && Centre(bounds, c + 1) <= position) c++;
            double left = Centre(bounds, c);
            if (c + 1 >= cells || position <= left)
            {
                cell[v, 0] = cell[v, 1] = c;
                weight[v, 0] = 1;
                continue;
            }
            double right = Centre(bounds, c + 1);
            double t = (position - left) / (right - left);
            (cell[v, 0], cell[v, 1], weight[v, 0], weight[v, 1]) = (c, c + 1, 1 - t, t);
        }
        return (cell, weight);
    }

    private static double Centre(int[] bounds, int c) => (bounds[c] + bounds[c + 1] - 1) / 2.0;

    private static PatchGrid Build(SummedVolume informative, VolumeShape grid, VolumeShape cells)
    {
        var occluded = new List<int>();
        var any = Informative(informative, grid, cells);
        for (int c = 0; c < any.Length; c++) if (any[c]) occluded.Add(c);
        return new PatchGrid(grid, cells, occluded, any.Length - occluded.Count);
    }

    private static int CountInformative(SummedVolume informative, VolumeShape grid, VolumeShape cells, int stopAbove)
    {
        int count = 0;
        foreach (bool a in Informative(informative, grid, cells)) if (a && ++count > stopAbove) break;
        return count;
    }

    /// <summary>Per cell: whether any voxel in it differs from the fill value (one box sum each).</summary>
    private static bool[] Informative(SummedVolume informative, VolumeShape grid, VolumeShape cells)
    {
        int[] b0 = Bounds(grid.Width, cells.Width), b1 = Bounds(grid.Height, cells.Height), b2 = Bounds(grid.Depth, cells.Depth);
        var any = new bool[cells.VoxelCount];
        int c = 0;
        for (int c0 = 0; c0 < cells.Width; c0++)
            for (int c1 = 0; c1 < cells.Height; c1++)
                for (int c2 = 0; c2 < cells.Depth; c2++)
                    any[c++] = informative.Sum(b0[c0], b0[c0 + 1], b1[c1], b1[c1 + 1], b2[c2], b2[c2 + 1]) > 0;
        return any;
    }

    /// <summary>A summed-volume table: the count of marked voxels in any box in O(1).</summary>
    private sealed class SummedVolume
    {
        private readonly int[] _sums;
        private readonly int _h, _d;

        public SummedVolume(ReadOnlySpan<float> scan, VolumeShape grid, float fill)
        {
            _h = grid.Height + 1;
            _d = grid.Depth + 1;
            _sums = new int[(grid.Width + 1) * _h * _d];
            int v = 0;
            for (int i = 1; i <= grid.Width; i++)
                for (int j = 1; j <= grid.Height; j++)
                    for (int k = 1; k <= grid.Depth; k++, v++)
                    {
                        int marked = Math.Abs(scan[v] - fill) > 1e-6f ? 1 : 0;
                        _sums[At(i, j, k)] = marked + _sums[At(i - 1, j, k)] + _sums[At(i, j - 1, k)] + _sums[At(i, j, k - 1)]
                                             - _sums[At(i - 1, j - 1, k)] - _sums[At(i - 1, j, k - 1)] - _sums[At(i, j - 1, k - 1)]
                                             + _sums[At(i - 1, j - 1, k - 1)];
                    }
        }

        /// <summary>Marked voxels in [i0, i1) × [j0, j1) × [k0, k1).</summary>
        public int Sum(int i0, int i1, int j0, int j1, int k0, int k1) =>
            _sums[At(i1, j1, k1)] - _sums[At(i0, j1, k1)] - _sums[At(i1, j0, k1)] - _sums[At(i1, j1, k0)]
            + _sums[At(i0, j0, k1)] + _sums[At(i0, j1, k0)] + _sums[At(i1, j0, k0)] - _sums[At(i0, j0, k0)];

        private int At(int i, int j, int k) => (i * _h + j) * _d + k;
    }

    /// <summary>Cell edges splitting n voxels into near-equal runs: c·n / cells, rounded down.</summary>
    private static int[] Bounds(int n, int cells)
    {
        var bounds = new int[cells + 1];
        for (int c = 0; c <= cells; c++) bounds[c] = (int)((long)c * n / cells);
        return bounds;
    }

    /// <summary>How far the patches are from cubes: the ratio of the longest to the shortest patch extent.</summary>
    private static double Aspect(VolumeShape grid, VolumeShape cells)
    {
        double a = (double)grid.Width / cells.Width, b = (double)grid.Height / cells.Height, c = (double)grid.Depth / cells.Depth;
        return Math.Max(a, Math.Max(b, c)) / Math.Min(a, Math.Min(b, c));
    }

    private static int Ceil(int n, int cells) => (n + cells - 1) / cells;

    private static (int, int, int) Unflatten(int index, VolumeShape shape) =>
        (index / (shape.Height * shape.Depth), index / shape.Depth % shape.Height, index % shape.Depth);
}
