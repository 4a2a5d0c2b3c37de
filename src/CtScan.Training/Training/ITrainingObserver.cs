namespace CtScan.Training;

/// <summary>Hears what the trainer is doing, e.g. to draw a progress bar; called on the training thread.</summary>
public interface ITrainingObserver
{
    void EpochStarted(int epoch, int epochs, int batches);

    /// <summary>After each training batch, with the epoch's running mean loss and accuracy so far.</summary>
    void BatchCompleted(int epoch, int batch, double runningLoss, double runningAccuracy);

    /// <summary>After validation; <paramref name="checkpointSaved"/> says whether this epoch became the best so far (lowest val_loss).</summary>
    void EpochCompleted(EpochRecord record, bool checkpointSaved);

    /// <summary>The current epoch was abandoned (cancellation or failure) before it completed.</summary>
    void EpochAbandoned(int epoch);
}
