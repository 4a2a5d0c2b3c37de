namespace CtScan.Training;

/// <summary>Why training ended.</summary>
public enum StopReason
{
    /// <summary>All <see cref="TrainingOptions.Epochs"/> ran.</summary>
    EpochsCompleted,

    /// <summary>val_acc did not improve for <see cref="TrainingOptions.EarlyStoppingPatience"/> epochs.</summary>
    EarlyStopped,

    /// <summary>The caller cancelled; the epoch in progress was dropped, the best checkpoint so far is kept.</summary>
    Cancelled,
}

/// <summary>What <see cref="Trainer.Fit"/> did: the history, the best epoch (lowest val_loss, the checkpoint) and why it stopped.</summary>
public sealed record TrainingResult(
    IReadOnlyList<EpochRecord> History,
    int? BestEpoch,
    BinaryMetrics? BestValidation,
    StopReason StopReason,
    long Steps);
