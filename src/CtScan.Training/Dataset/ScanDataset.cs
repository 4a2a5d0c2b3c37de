using CtScan.Tensors;

namespace CtScan.Training;

/// <summary>Preprocessed scans held in memory with their labels, all of one shape (the model input).</summary>
public sealed class ScanDataset
{
    private readonly float[][] _volumes;
    private readonly int[] _labels;

    public ScanDataset(IReadOnlyList<LabeledScan> scans, IReadOnlyList<Float32Tensor> tensors, VolumeShape shape)
    {
        if (scans.Count != tensors.Count)
            throw new ArgumentException($"{scans.Count} scans but {tensors.Count} tensors");
        for (int n = 0; n < tensors.Count; n++)
            if (tensors[n].Data.Length != shape.VoxelCount)
                throw new ArgumentException($"tensor of {scans[n].Path} has {tensors[n].Data.Length} values; expected {shape} = {shape.VoxelCount}");
        Scans = scans;
        Shape = shape;
        _volumes = [.. tensors.Select(t => t.Data)];
        _labels = [.. scans.Select(s => s.Label)];
    }

    public IReadOnlyList<LabeledScan> Scans { get; }

    public VolumeShape Shape { get; }

    public int Count => _labels.Length;

    public ReadOnlySpan<int> Labels => _labels;

    public ReadOnlySpan<float> Volume(int index) => _volumes[index];

    /// <summary>Preprocesses (or reads from <paramref name="cache"/>) every scan; <paramref name="progress"/> gets the count done.</summary>
    public static async Task<ScanDataset> LoadAsync(IReadOnlyList<LabeledScan> scans, TensorCache cache,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var tensors = new Float32Tensor[scans.Count];
        int done = 0;
        // Scans are independent: use the cores (preprocessing is single-threaded per scan).
        await Parallel.ForEachAsync(Enumerable.Range(0, scans.Count),
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            async (n, ct) =>
            {
                tensors[n] = await cache.GetAsync(scans[n].Path, ct).ConfigureAwait(false);
                progress?.Report(Interlocked.Increment(ref done));
            }).ConfigureAwait(false);
        return new ScanDataset(scans, tensors, cache.Options.TargetShape);
    }
}
