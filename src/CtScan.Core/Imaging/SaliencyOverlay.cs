namespace CtScan.Imaging;

/// <summary>
/// A <see cref="SliceMontage"/> of a scan with a saliency map blended over it: the scan in gray, the map in a
/// red-to-yellow heat scale whose opacity grows with the value (values below <see cref="Threshold"/> are not drawn,
/// so the anatomy stays readable). Both volumes are C order on the same grid.
/// </summary>
public static class SaliencyOverlay
{
    /// <summary>Map values below this are transparent.</summary>
    public const float Threshold = 0.2f;

    /// <summary>The overlay's opacity at map value 1.</summary>
    public const float MaxOpacity = 0.65f;

    /// <summary>Renders the montage as RGB pixels (3 bytes each); returns them and the image size.</summary>
    public static (byte[] Pixels, int Width, int Height) Render(ReadOnlySpan<float> scan, ReadOnlySpan<float> map, VolumeShape shape, SliceMontageOptions options)
    {
        if (map.Length != scan.Length)
            throw new ArgumentException($"the map holds {map.Length} values; the scan {scan.Length}: they must share one grid", nameof(map));
        var (gray, width, height) = SliceMontage.Render(scan, shape, options);
        var (heat, _, _) = SliceMontage.Render(map, shape, options with { Black = 0, White = 1 });
        var rgb = new byte[gray.Length * 3];
        for (int p = 0; p < gray.Length; p++)
        {
            float value = heat[p] / 255f, g = gray[p];
            float alpha = value < Threshold ? 0 : MaxOpacity * (value - Threshold) / (1 - Threshold) + 0.15f;
            // Heat scale: red at the threshold, yellow at 1.
            float red = 255, green = 255 * value, blue = 0;
            rgb[3 * p] = (byte)(g + alpha * (red - g) + 0.5f);
            rgb[3 * p + 1] = (byte)(g + alpha * (green - g) + 0.5f);
            rgb[3 * p + 2] = (byte)(g + alpha * (blue - g) + 0.5f);
        }
        return (rgb, width, height);
    }

    /// <summary>The seed's 4 × 10 panels, with a slice step that spreads them over all <paramref name="depth"/> slices.</summary>
    public static SliceMontageOptions PanelsFor(int depth) => new() { SliceStep = Math.Max(1, (depth + 39) / 40) };
}
