namespace CtScan.Training;

/// <summary>
/// One epoch of training as Keras's History reports it (loss, acc, val_loss, val_acc) plus the validation metrics a
/// clinician asks for (ROC AUC, sensitivity, specificity at the 0.5 threshold) and how long it took.
/// </summary>
/// <param name="Epoch">1-based, as Keras prints it.</param>
/// <param name="Loss">Mean training binary cross-entropy over the epoch's batches (with dropout and augmentation, like Keras).</param>
/// <param name="Accuracy">Training accuracy over the epoch.</param>
/// <param name="TrainingSamplesPerSecond">Training throughput (forward, backward, update and augmentation), validation excluded.</param>
/// <param name="LearningRate">The schedule's rate at the epoch's last step.</param>
public sealed record EpochRecord(
    int Epoch,
    double Loss,
    double Accuracy,
    double ValidationLoss,
    double ValidationAccuracy,
    double ValidationAuc,
    double ValidationSensitivity,
    double ValidationSpecificity,
    double LearningRate,
    double Seconds,
    double TrainingSamplesPerSecond);
