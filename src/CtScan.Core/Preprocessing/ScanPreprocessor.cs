using System.Runtime.CompilerServices;
using CtScan.Tensors;

namespace CtScan.Preprocessing;

/// <summary>
/// The seed's process_scan after reading: HU window (<see cref="HuWindow"/>) → rotate 90° in plane
/// (<see cref="SplineRotation"/>, reshape=False) → trilinear zoom to the target shape (<see cref="LinearZoom"/>),
/// reproducing scipy's results, fused so that a scan is streamed slice by slice and only the rotated voxels the zoom
/// reads are computed. Never holds a float64 copy of the volume.
/// </summary>
/// <remarks>Instances are safe to share across threads; plans are cached per source shape.</remarks>
public sealed class ScanPreprocessor
{
    /// <summary>The seed's in-plane rotation in resize_volume.</summary>
    public const double SeedRotationDegrees = 90;

    private readonly HuWindow _window;
    private volatile FusedPlan? _plan;

    public ScanPreprocessor() : this(new PreprocessingOptions()) { }

    public ScanPreprocessor(PreprocessingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validated();
        _window = new HuWindow(options.WindowMinimumHu, options.WindowMaximumHu);
    }

    public PreprocessingOptions Options { get; }

    /// <summary>Reads every slice of <paramref name="source"/> and returns the model input tensor.</summary>
    public PreprocessedScan Process(IVolumeSlices source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        VolumeShape shape = source.Shape.Validated("source.Shape");
        FusedPlan plan = PlanFor(shape);
        int depth = shape.Depth;
        int points = plan.PointCount;

        var slice = new double[shape.SliceVoxelCount];
        // Rotated values the zoom reads, plane-major ([plane][row][column]) so each slice's writes are sequential;
        // only the slices the zoom reads are kept (at most two per output slice).
        var rotated = new float[(long)points * plan.Planes.Length];
        double[]? coefficients = plan.SplineMap is null ? null : new double[shape.SliceVoxelCount];
        double[]? scratchRow = plan.SplineMap is null ? null : new double[shape.Width];
        var nonFinite = default(NonFiniteCounts);

        for (int k = 0; k < depth; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            source.ReadNextSlice(slice, cancellationToken);
            nonFinite += HuWindow.CountNonFinite(slice);
            int at = plan.PlaneOfSlice[k];
            if (at < 0) continue;
            Span<float> plane = rotated.AsSpan(at * points, points);
            if (plan.SampleIndices is { } indices)
                _window.NormalizeGathered(slice, indices, plane);
            else
                InterpolateWindowed(slice, plan, coefficients!, scratchRow!, plane);
        }

        VolumeShape target = Options.TargetShape;
        var output = new float[target.VoxelCount];
        LinearZoom.Resample(rotated, stride0: plan.Columns.Length, stride1: 1, stride2: points,
            plan.Axis0, plan.Axis1, plan.Axis2, output);
        return new PreprocessedScan(new Float32Tensor(output, target), shape, nonFinite);
    }

    /// <summary>
    /// General case: window the whole slice to float32 (the seed's dtype before rotating), prefilter it in float64,
    /// and evaluate the spline at the needed points only.
    /// </summary>
    // Hot loop run a few times per scan: optimise it on the first call rather than waiting for tiering.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void InterpolateWindowed(ReadOnlySpan<double> slice, FusedPlan plan, Span<double> coefficients, Span<double> scratchRow, Span<float> plane)
    {
        for (int n = 0; n < slice.Length; n++) coefficients[n] = _window.Normalize(slice[n]);
        // File order: axis-0 lines are the contiguous rows; axis 1 runs across them. Same operations as scipy's
        // axis-0-then-axis-1 filter on the C-order plane.
        int n0 = plan.Source.Width, n1 = plan.Source.Height;
        CubicBSpline.PrefilterAlongRows(coefficients, n1, n0);
        CubicBSpline.PrefilterAcrossRows(coefficients, n1, n0, scratchRow);
        RotationSampleMap map = plan.SplineMap!;
        for (int p = 0; p < plane.Length; p++) plane[p] = (float)map.Evaluate(coefficients, p);
    }

    private FusedPlan PlanFor(VolumeShape shape)
    {
        FusedPlan? plan = _plan;
        if (plan is not null && plan.Source == shape) return plan;
        plan = new FusedPlan(shape, Options.TargetShape, SeedRotationDegrees);
        _plan = plan;
        return plan;
    }
}
