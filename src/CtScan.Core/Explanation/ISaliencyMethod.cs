namespace CtScan.Explanation;

/// <summary>Makes a saliency map on the model grid for one preprocessed scan (occlusion here, Grad-CAM in CtScan.Training).</summary>
public interface ISaliencyMethod : IDisposable
{
    /// <summary>Explains one preprocessed scan (float32, C order, the model's [W, H, D]).</summary>
    SaliencyVolume Explain(ReadOnlySpan<float> scan, CancellationToken cancellationToken = default);
}
