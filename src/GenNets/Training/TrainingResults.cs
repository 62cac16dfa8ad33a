using System;

namespace GenNets.Training;

/// <summary>Where training stands: reported after every batch, and with <see cref="Completed"/> set at the end of each epoch.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">Mean training loss over this epoch's batches so far.</param>
/// <param name="Completed">The epoch's results, once the epoch (and its validation) is over.</param>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, float Loss, EpochResult? Completed);

/// <summary>What one epoch achieved.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches (dropout on).</param>
/// <param name="TrainAccuracy">Fraction of training samples classified right during the epoch, for labelled data.</param>
/// <param name="ValidationLoss">Mean loss on the validation set, if one was given.</param>
/// <param name="ValidationAccuracy">Accuracy on the validation set, if it is labelled.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step (after any warm-up and schedule).</param>
/// <param name="Elapsed">Wall time of the epoch's training (validation excluded).</param>
/// <param name="Validation">Every metric of the validation set (confusion matrix, or MAE and R²), if one was given.</param>
public sealed record EpochResult(int Epoch, float TrainLoss, float? TrainAccuracy, float? ValidationLoss, float? ValidationAccuracy,
    float LearningRate, TimeSpan Elapsed, Evaluation? Validation = null);

/// <summary>
/// A network's metrics on a data set, in inference mode: the mean loss; for class labels the accuracy and the confusion
/// matrix (precision, recall and F1 per class); for float targets the mean absolute error and R².
/// </summary>
/// <param name="Loss">The mean loss, as training computes it.</param>
/// <param name="Accuracy">Fraction of rows classified right, for labels and more than one output per row.</param>
/// <param name="Count">Samples evaluated.</param>
/// <param name="Confusion">Rows by actual class, columns by predicted, for labels and more than one output per row.</param>
/// <param name="MeanAbsoluteError">Mean |output − target| over every value, for float targets.</param>
/// <param name="R2">The coefficient of determination, 1 − Σ(t − y)² / Σ(t − t̄)², computed per output column and averaged over
/// the columns (scikit-learn's <c>r2_score</c>, uniform average), for float targets; null when a column's targets are all equal.</param>
public readonly record struct Evaluation(float Loss, float? Accuracy, int Count, ConfusionMatrix? Confusion = null,
    float? MeanAbsoluteError = null, float? R2 = null);
