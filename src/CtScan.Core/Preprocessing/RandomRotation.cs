namespace CtScan.Preprocessing;

/// <summary>
/// The seed's training augmentation: rotate every axial plane by an angle drawn from
/// {−20, −10, −5, 5, 10, 20} degrees (<see cref="SplineRotation"/>), then clip to [0, 1].
/// Draw first, then apply: <see cref="Randomize"/> picks and records the angle, <see cref="Apply"/> uses it,
/// so the drawn parameter can be stored with the result.
/// </summary>
/// <remarks>Holds the drawn angle, so one instance serves one pipeline at a time (not thread-safe).</remarks>
public sealed class RandomRotation
{
    /// <summary>The seed's angle choices, in degrees.</summary>
    public static IReadOnlyList<double> SeedAngles { get; } = [-20, -10, -5, 5, 10, 20];

    private readonly double[] _angles;
    private readonly SplineRotation[] _rotations;
    private int _drawn = -1;

    /// <param name="angles">Angle choices in degrees (finite, at least one); the seed's when omitted.</param>
    public RandomRotation(IReadOnlyList<double>? angles = null)
    {
        _angles = [.. angles ?? SeedAngles];
        if (_angles.Length == 0)
            throw new ArgumentException("at least one angle is needed; got none", nameof(angles));
        _rotations = new SplineRotation[_angles.Length];
        for (int n = 0; n < _angles.Length; n++)
            _rotations[n] = new SplineRotation(_angles[n]);
    }

    public IReadOnlyList<double> Angles => _angles;

    /// <summary>The angle chosen by the last <see cref="Randomize"/>, or null before the first draw.</summary>
    public double? DrawnAngleDegrees => _drawn < 0 ? null : _angles[_drawn];

    /// <summary>Draws the angle (uniformly among <see cref="Angles"/>) from <paramref name="random"/> and records it.</summary>
    public double Randomize(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        _drawn = random.Next(_angles.Length);
        return _angles[_drawn];
    }

    /// <summary>Rotates by the drawn angle and clips to [0, 1].</summary>
    /// <exception cref="InvalidOperationException"><see cref="Randomize"/> was not called yet.</exception>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, VolumeShape shape)
    {
        if (_drawn < 0)
            throw new InvalidOperationException("no angle drawn yet: call Randomize before Apply");
        _rotations[_drawn].Apply(source, destination, shape);
        foreach (ref float v in destination)
        {
            // Like the seed's masks: values below 0 become 0, above 1 become 1 (NaN, which cannot arise here, would stay).
            if (v < 0f) v = 0f;
            else if (v > 1f) v = 1f;
        }
    }
}
