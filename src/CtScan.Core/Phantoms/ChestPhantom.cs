namespace CtScan.Phantoms;

/// <summary>Whether a phantom shows viral-pneumonia-like findings (the seed's label 1) or not (label 0).</summary>
public enum PhantomLabel
{
    Normal = 0,
    Abnormal = 1,
}

/// <summary>Settings of a synthetic chest CT (see <see cref="ChestPhantom"/>).</summary>
public sealed record ChestPhantomOptions
{
    /// <summary>Voxels along i, j, k (k = axial slices). Default 512 × 512 × 64, a typical MosMedData size.</summary>
    public VolumeShape Shape { get; init; } = new(512, 512, 64);

    /// <summary>Seed of the deterministic random source: the same seed gives the same voxels everywhere.</summary>
    public int Seed { get; init; }

    public PhantomLabel Label { get; init; } = PhantomLabel.Normal;

    /// <summary>Standard deviation of the Gaussian noise in tissue, in HU (air gets 30 % of it).</summary>
    public double NoiseHu { get; init; } = 15.0;

    /// <summary>Number of ground-glass opacities in an abnormal phantom; null draws 3 to 6.</summary>
    public int? OpacityCount { get; init; }
}

/// <summary>One ground-glass opacity: centre in voxels, in-plane radius and slice radius in voxels.</summary>
public readonly record struct GroundGlassOpacity(int CenterI, int CenterJ, int CenterK, double Radius, double SliceRadius);

/// <summary>
/// A synthetic chest CT in Hounsfield units, the C# twin of the reference <c>make_phantom.py</c> geometry: air
/// outside an elliptic body of soft tissue, two ellipsoid lungs, a bony spine, Gaussian noise and, for an abnormal
/// phantom, ground-glass opacities (about −500 HU, soft super-Gaussian edge) inside the lungs. Deterministic from
/// <see cref="ChestPhantomOptions.Seed"/>; generated slice by slice, so a phantom of any size costs one slice of memory.
/// </summary>
/// <remarks>
/// The random source is a local xoshiro-style generator, not <see cref="Random"/>, so that the voxels never change
/// with the .NET version. The values are not those of the Python script (numpy's generator differs); the anatomy is.
/// </remarks>
public sealed class ChestPhantom : IVolumeSlices
{
    public const double AirHu = -1024.0;
    public const double TissueHu = 40.0;
    public const double LungHu = -850.0;
    public const double BoneHu = 700.0;
    public const double GroundGlassHu = -500.0;

    private readonly ChestPhantomOptions _options;
    private readonly double[] _jitter;
    private readonly GroundGlassOpacity[] _opacities;
    private readonly SplitMix64 _noise;
    private int _nextSlice;

    public ChestPhantom(ChestPhantomOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Shape.Validated(nameof(options.Shape));
        if (!(options.NoiseHu >= 0))
            throw new ArgumentOutOfRangeException(nameof(options), options.NoiseHu, $"NoiseHu must be >= 0; got {options.NoiseHu}");
        if (options.OpacityCount is < 0 or > 100)
            throw new ArgumentOutOfRangeException(nameof(options), options.OpacityCount, $"OpacityCount must be 0..100; got {options.OpacityCount}");
        _options = options;
        // The seed goes through the mixing function first: SplitMix64 steps its state by a constant, so states derived
        // linearly from consecutive seeds would give the same stream shifted by one draw (near-identical phantoms).
        var rng = new SplitMix64(SplitMix64.Mix((ulong)(uint)options.Seed ^ 0x5DEECE66DUL));
        _jitter = new double[6];
        for (int n = 0; n < _jitter.Length; n++) _jitter[n] = rng.Uniform(-0.015, 0.015);
        _opacities = options.Label == PhantomLabel.Abnormal ? DrawOpacities(rng) : [];
        _noise = new SplitMix64(rng.Next());
    }

    public ChestPhantomOptions Options => _options;

    public VolumeShape Shape => _options.Shape;

    /// <summary>The opacities drawn for an abnormal phantom (empty for a normal one).</summary>
    public IReadOnlyList<GroundGlassOpacity> Opacities => _opacities;

    public void ReadNextSlice(Span<double> destination, CancellationToken cancellationToken = default)
    {
        var shape = Shape;
        if (_nextSlice >= shape.Depth)
            throw new InvalidOperationException($"all {shape.Depth} slices of the phantom were already read");
        if (destination.Length != shape.SliceVoxelCount)
            throw new ArgumentException($"destination holds {destination.Length} values; one slice is {shape.SliceVoxelCount}", nameof(destination));
        cancellationToken.ThrowIfCancellationRequested();
        int k = _nextSlice++;
        double noise = _options.NoiseHu;
        for (int j = 0; j < shape.Height; j++)
        {
            for (int i = 0; i < shape.Width; i++)
            {
                double hu = AnatomyHu(i, j, k, out bool inLung);
                if (inLung)
                    hu = ApplyOpacities(hu, i, j, k);
                if (noise > 0)
                {
                    if (hu > -1000) hu += _noise.Normal() * noise;
                    hu += _noise.Normal() * noise * 0.3;
                }
                destination[i + shape.Width * j] = hu;
            }
        }
    }

    /// <summary>
    /// The weight an opacity at full effect must reach for a voxel to count as inside it: the opacity moves the voxel
    /// at least half-way from the lung's HU to ground glass (within 0.91 radii of a centre, where exp(−d⁴) ≥ ½).
    /// </summary>
    public const double OpacityMaskWeight = 0.5;

    /// <summary>
    /// Writes slice <paramref name="k"/> of the ground-glass opacity mask (file order, i fastest): 1 where a lung voxel
    /// is inside an opacity (<see cref="OpacityMaskWeight"/>), else 0. All zeros for a normal phantom. Independent of
    /// the slice reading state and of the noise.
    /// </summary>
    public void ReadMaskSlice(int k, Span<byte> destination)
    {
        var shape = Shape;
        if (k < 0 || k >= shape.Depth) throw new ArgumentOutOfRangeException(nameof(k), k, $"slice index must lie in [0, {shape.Depth - 1}]; got {k}");
        if (destination.Length != shape.SliceVoxelCount)
            throw new ArgumentException($"destination holds {destination.Length} values; one slice is {shape.SliceVoxelCount}", nameof(destination));
        destination.Clear();
        if (_opacities.Length == 0) return;
        for (int j = 0; j < shape.Height; j++)
        {
            for (int i = 0; i < shape.Width; i++)
            {
                if (!IsInLung((i + 0.5) / shape.Width - 0.5, (j + 0.5) / shape.Height - 0.5, (k + 0.5) / shape.Depth - 0.5)) continue;
                foreach (var o in _opacities)
                {
                    double di = (i - o.CenterI) / o.Radius, dj = (j - o.CenterJ) / o.Radius, dk = (k - o.CenterK) / o.SliceRadius;
                    double d2 = di * di + dj * dj + dk * dk;
                    if (Math.Exp(-(d2 * d2)) >= OpacityMaskWeight)
                    {
                        destination[i + shape.Width * j] = 1;
                        break;
                    }
                }
            }
        }
    }

    /// <summary>Reads every slice into a new Fortran-order (file-order) array.</summary>
    public double[] ToArray(CancellationToken cancellationToken = default)
    {
        var all = new double[checked((int)Shape.VoxelCount)];
        int slice = Shape.SliceVoxelCount;
        for (int k = _nextSlice; k < Shape.Depth; k++)
            ReadNextSlice(all.AsSpan(k * slice, slice), cancellationToken);
        return all;
    }

    private double AnatomyHu(int i, int j, int k, out bool inLung)
    {
        var s = Shape;
        double u = (i + 0.5) / s.Width - 0.5, v = (j + 0.5) / s.Height - 0.5, w = (k + 0.5) / s.Depth - 0.5;
        double hu = AirHu;
        inLung = false;
        if (Square(u / (0.42 + _jitter[0])) + Square(v / (0.32 + _jitter[1])) <= 1.0) hu = TissueHu;
        if (IsInLung(u, v, w))
        {
            hu = LungHu;
            inLung = true;
        }
        if (Square(u / 0.05) + Square((v - (0.22 + _jitter[5])) / 0.06) <= 1.0) hu = BoneHu;
        return hu;
    }

    private bool IsInLung(double u, double v, double w)
    {
        for (int side = -1; side <= 1; side += 2)
        {
            double cu = side * (0.17 + _jitter[2]);
            if (Square((u - cu) / (0.12 + _jitter[3])) + Square((v + 0.03) / (0.20 + _jitter[4])) + Square((w - 0.08) / 0.62) <= 1.0)
                return true;
        }
        return false;
    }

    private double ApplyOpacities(double hu, int i, int j, int k)
    {
        foreach (var o in _opacities)
        {
            double di = (i - o.CenterI) / o.Radius, dj = (j - o.CenterJ) / o.Radius, dk = (k - o.CenterK) / o.SliceRadius;
            double d2 = di * di + dj * dj + dk * dk;
            if (d2 > 4.0) continue; // outside the blob's box: weight < exp(-16)
            hu += Math.Exp(-(d2 * d2)) * (GroundGlassHu - hu);
        }
        return hu;
    }

    private GroundGlassOpacity[] DrawOpacities(SplitMix64 rng)
    {
        var s = Shape;
        int count = _options.OpacityCount ?? 3 + (int)(rng.Next() % 4);
        var result = new GroundGlassOpacity[count];
        for (int n = 0; n < count; n++)
        {
            // Centres are drawn uniformly among lung voxels by rejection; the lungs fill ~10 % of the box.
            int ci, cj, ck;
            int tries = 0;
            do
            {
                ci = (int)(rng.Next() % (ulong)s.Width);
                cj = (int)(rng.Next() % (ulong)s.Height);
                ck = (int)(rng.Next() % (ulong)s.Depth);
            }
            while (!IsInLung((ci + 0.5) / s.Width - 0.5, (cj + 0.5) / s.Height - 0.5, (ck + 0.5) / s.Depth - 0.5) && ++tries < 100_000);
            double r = rng.Uniform(0.025, 0.06) * Math.Min(s.Width, s.Height);
            double rz = Math.Max(1.5, r * s.Depth / Math.Max(s.Width, s.Height) * 2.0);
            result[n] = new GroundGlassOpacity(ci, cj, ck, r, rz);
        }
        return result;
    }

    private static double Square(double x) => x * x;

    /// <summary>SplitMix64: tiny, fast, and fixed forever, so phantoms are reproducible across runtimes.</summary>
    private sealed class SplitMix64(ulong state)
    {
        private ulong _state = state;
        private double _spare = double.NaN;

        public ulong Next() => Mix(_state += 0x9E3779B97F4A7C15UL);

        /// <summary>SplitMix64's finaliser: a bijection that scatters nearby inputs across all 64 bits.</summary>
        public static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

        public double Uniform(double low, double high) => low + (high - low) * NextDouble();

        /// <summary>Standard normal by the Box–Muller transform (two values per pair of uniforms).</summary>
        public double Normal()
        {
            if (!double.IsNaN(_spare))
            {
                double s = _spare;
                _spare = double.NaN;
                return s;
            }
            double u1 = 1.0 - NextDouble(), u2 = NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            _spare = radius * Math.Sin(2 * Math.PI * u2);
            return radius * Math.Cos(2 * Math.PI * u2);
        }
    }
}
