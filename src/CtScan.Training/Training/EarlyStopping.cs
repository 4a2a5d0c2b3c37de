namespace CtScan.Training;

/// <summary>
/// Keras's EarlyStopping(monitor="val_acc", patience=P) in 'max' mode with min_delta 0: a strictly higher value resets
/// the wait; otherwise the wait grows, and training stops once it reaches the patience.
/// </summary>
public sealed class EarlyStopping(int patience)
{
    private double _best = double.NegativeInfinity;
    private int _wait;

    public int Patience { get; } = patience;

    /// <summary>Records an epoch's value; true when training should stop now.</summary>
    public bool ShouldStop(double value)
    {
        if (value > _best)
        {
            _best = value;
            _wait = 0;
            return false;
        }
        _wait++;
        return _wait >= Patience;
    }
}
