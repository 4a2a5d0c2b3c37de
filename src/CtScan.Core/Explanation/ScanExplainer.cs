using CtScan.Contracts;
using CtScan.Imaging;
using CtScan.Nifti;
using CtScan.Preprocessing;
using CtScan.Validation;

namespace CtScan.Explanation;

/// <summary>A scan explained: the map on the model grid, the same map on the scan's own grid, and the model input.</summary>
/// <param name="Saliency">The map on the model grid and how it was made.</param>
/// <param name="SourceMap">The map resampled onto the scan's grid (file order, i fastest), values in [0, 1].</param>
/// <param name="SourceShape">The scan's grid.</param>
/// <param name="ModelInput">The preprocessed scan the model saw (C order on the model grid).</param>
public sealed record ExplainedScan(SaliencyVolume Saliency, float[] SourceMap, VolumeShape SourceShape, float[] ModelInput)
{
    /// <summary>
    /// The file-order index of the map's largest value, or -1 for a map with nothing in it (all zero: no region lowered
    /// the evidence). Both methods hold each cell's value out to the volume's borders, so the maximum is often a flat
    /// block of tied voxels: the one nearest that block's centroid is taken, not the first (which lies at a corner).
    /// </summary>
    public int PeakIndex() => PeakIndexOf(SourceMap, SourceShape);

    /// <summary>The peak of a map on <paramref name="shape"/> (file order, i fastest) as <see cref="PeakIndex"/> finds it; -1 for an all-zero map.</summary>
    public static int PeakIndexOf(ReadOnlySpan<float> map, VolumeShape shape)
    {
        float max = 0;
        foreach (float v in map) if (v > max) max = v;
        if (max <= 0) return -1;
        int width = shape.Width, slice = shape.Width * shape.Height;
        double sumI = 0, sumJ = 0, sumK = 0;
        long count = 0;
        for (int n = 0; n < map.Length; n++)
            if (map[n] == max) { sumI += n % width; sumJ += n % slice / width; sumK += n / slice; count++; }
        double ci = sumI / count, cj = sumJ / count, ck = sumK / count;
        int best = -1;
        double bestDistance = double.MaxValue;
        for (int n = 0; n < map.Length; n++)
        {
            if (map[n] != max) continue;
            double di = n % width - ci, dj = n % slice / width - cj, dk = n / slice - ck;
            double distance = di * di + dj * dj + dk * dk;
            if (distance < bestDistance) { bestDistance = distance; best = n; }
        }
        return best;
    }
}

/// <summary>
/// Explains a NIfTI scan end to end: the model's own intake (gate, reorientation, preprocessing), a saliency method on
/// the model grid, the map carried back to the scan's grid (<see cref="ModelGridMapping"/>), and the two artefacts:
/// <c>&lt;scan&gt;.saliency.nii.gz</c> with the scan's affine and <c>&lt;scan&gt;.saliency.png</c>, a montage of what
/// the model saw with the map over it.
/// </summary>
public sealed class ScanExplainer
{
    private readonly ISaliencyMethod _method;
    private readonly ScanIntake _intake;
    private readonly PreprocessingOptions _preprocessing;

    public ScanExplainer(ISaliencyMethod method, ModelManifest manifest)
    {
        _method = method ?? throw new ArgumentNullException(nameof(method));
        ArgumentNullException.ThrowIfNull(manifest);
        _preprocessing = PreprocessingSpecs.ToOptions(manifest.Preprocessing);
        _intake = ScanIntake.For(manifest.Preprocessing, manifest.InputGate);
    }

    /// <summary>Explains the first volume of <paramref name="image"/>.</summary>
    /// <exception cref="InvalidDataException">The input gate rejects the scan (the message names the file and the code).</exception>
    public ExplainedScan Explain(NiftiImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var intake = _intake.Process(image, cancellationToken);
        if (intake.Error is { } error)
            throw new InvalidDataException($"{image.FileName}: the scan cannot be explained: it is rejected ({error.Code}): {error.Message}");
        var tensor = intake.Scan!.Tensor.Data;
        var saliency = _method.Explain(tensor, cancellationToken);
        var mapping = ModelGridMapping.For(image.Header, image.VolumeShape, _preprocessing);
        var source = mapping.ToSource(saliency.Values, cancellationToken);
        return new ExplainedScan(saliency, source, image.VolumeShape, tensor);
    }

    /// <summary>Writes the map on the scan's grid as gzip NIfTI with <paramref name="header"/>'s affine.</summary>
    public static void WriteMap(Stream destination, ExplainedScan scan, NiftiHeader header)
    {
        ArgumentNullException.ThrowIfNull(scan);
        SaliencyNifti.WriteGzip(destination, scan.SourceMap, header, $"ctscan {scan.Saliency.Method} saliency, 0..1");
    }

    /// <summary>Writes the PNG montage of the model input with the map overlaid.</summary>
    public static void WriteMontage(Stream destination, ExplainedScan scan)
    {
        ArgumentNullException.ThrowIfNull(scan);
        var grid = scan.Saliency.Grid;
        var (pixels, width, height) = SaliencyOverlay.Render(scan.ModelInput, scan.Saliency.Values, grid, SaliencyOverlay.PanelsFor(grid.Depth));
        PngEncoder.WriteRgb(destination, pixels, width, height);
    }

    /// <summary>The map's and montage's names beside a scan name: <c>x.nii.gz</c> → <c>x.nii.gz.saliency.nii.gz</c>, <c>x.nii.gz.saliency.png</c>.</summary>
    public static (string Map, string Montage) NamesFor(string scanName) =>
        (scanName + ExplanationMethods.MapSuffix, scanName + ExplanationMethods.MontageSuffix);
}
