namespace CtScan.Imaging;

/// <summary>Settings of a slice montage: the seed's <c>plot_slices(4, 10, …, image[:, :, :40])</c> by default.</summary>
public sealed record SliceMontageOptions
{
    public int Rows { get; init; } = 4;

    public int Columns { get; init; } = 10;

    /// <summary>The first axial slice (k) shown.</summary>
    public int FirstSlice { get; init; }

    /// <summary>Slices between two panels (1 shows consecutive slices, as the seed does).</summary>
    public int SliceStep { get; init; } = 1;

    /// <summary>The value shown black; values below are black too.</summary>
    public float Black { get; init; }

    /// <summary>The value shown white; values above are white too.</summary>
    public float White { get; init; } = 1f;
}

/// <summary>
/// A grid of axial slices of a C-order volume, oriented as the seed's <c>plot_slices</c> shows them
/// (<c>np.rot90</c> then <c>np.transpose</c>): the panel pixel at row y, column x is voxel (y, Height − 1 − x, k).
/// Panels run left to right, then top to bottom; panels past the last slice stay black.
/// </summary>
public static class SliceMontage
{
    /// <summary>Renders the montage into an 8-bit grayscale image; returns its pixels and size.</summary>
    public static (byte[] Pixels, int Width, int Height) Render(ReadOnlySpan<float> volume, VolumeShape shape, SliceMontageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        shape.Validated(nameof(shape));
        if (volume.Length != shape.VoxelCount)
            throw new ArgumentException($"volume holds {volume.Length} values; shape {shape} needs {shape.VoxelCount}", nameof(volume));
        if (options.Rows < 1 || options.Columns < 1 || options.SliceStep < 1 || options.FirstSlice < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options, "rows, columns and slice step must be >= 1 and the first slice >= 0");
        if (!(options.White > options.Black))
            throw new ArgumentOutOfRangeException(nameof(options), options, $"White ({options.White}) must be above Black ({options.Black})");

        int panelHeight = shape.Width, panelWidth = shape.Height;
        int width = checked(panelWidth * options.Columns), height = checked(panelHeight * options.Rows);
        var pixels = new byte[checked(width * height)];
        float scale = 255f / (options.White - options.Black);
        for (int panel = 0; panel < options.Rows * options.Columns; panel++)
        {
            int k = options.FirstSlice + panel * options.SliceStep;
            if (k >= shape.Depth) break;
            int top = panel / options.Columns * panelHeight, left = panel % options.Columns * panelWidth;
            for (int y = 0; y < panelHeight; y++)
            {
                var row = pixels.AsSpan((top + y) * width + left, panelWidth);
                for (int x = 0; x < panelWidth; x++)
                {
                    float v = volume[shape.IndexOf(y, shape.Height - 1 - x, k)];
                    float level = (v - options.Black) * scale;
                    row[x] = level >= 255f ? (byte)255 : level > 0f ? (byte)(level + 0.5f) : (byte)0; // NaN → black
                }
            }
        }
        return (pixels, width, height);
    }
}
