using System;

namespace GenNets.Training;

/// <summary>The validation metric <see cref="EarlyStopping"/> watches.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>The validation loss: lower is better.</summary>
    ValidationLoss,

    /// <summary>The validation accuracy (labelled data): higher is better.</summary>
    ValidationAccuracy,

    /// <summary>The validation mean absolute error (float targets): lower is better.</summary>
    ValidationMeanAbsoluteError,

    /// <summary>The validation R² (float targets): higher is better.</summary>
    ValidationR2,
}

/// <summary>
/// Stops training when a validation metric has not improved for <see cref="Patience"/> epochs, as Keras's
/// <c>EarlyStopping</c>: an epoch improves when it beats the best so far by more than <see cref="MinDelta"/>. With
/// <see cref="RestoreBestWeights"/> (the default here), the network ends with the weights of its best epoch, whether training
/// stopped early or ran to the end. Give it to <see cref="Trainer{TNetwork}.EarlyStopping"/>; training needs a validation set.
/// </summary>
public sealed class EarlyStopping
{
    /// <summary>Watches <paramref name="metric"/>, stopping after <paramref name="patience"/> epochs without an improvement larger than <paramref name="minDelta"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="patience"/> is below 1, <paramref name="minDelta"/> is negative or not finite, or <paramref name="metric"/> is not a member of its enum.</exception>
    public EarlyStopping(EarlyStoppingMetric metric = EarlyStoppingMetric.ValidationLoss, int patience = 5, float minDelta = 0f, bool restoreBestWeights = true)
    {
        if (!Enum.IsDefined(metric)) throw new ArgumentOutOfRangeException(nameof(metric), metric, "Not a metric early stopping can watch.");
        if (patience < 1) throw new ArgumentOutOfRangeException(nameof(patience), patience, "Patience is at least one epoch.");
        if (!(minDelta >= 0) || !float.IsFinite(minDelta)) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "The minimum improvement must be zero or a positive finite number.");
        Metric = metric;
        Patience = patience;
        MinDelta = minDelta;
        RestoreBestWeights = restoreBestWeights;
    }

    /// <summary>The metric watched.</summary>
    public EarlyStoppingMetric Metric { get; }

    /// <summary>Epochs without improvement after which training stops.</summary>
    public int Patience { get; }

    /// <summary>How much better than the best so far an epoch must be to count as an improvement.</summary>
    public float MinDelta { get; }

    /// <summary>Whether the network ends with the weights of its best epoch.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>True when higher values of the metric are better.</summary>
    public bool HigherIsBetter => Metric is EarlyStoppingMetric.ValidationAccuracy or EarlyStoppingMetric.ValidationR2;

    /// <summary>The watched metric of an epoch's validation; throws when the epoch has none.</summary>
    internal float Value(EpochResult epoch)
    {
        var v = epoch.Validation;
        float? value = Metric switch
        {
            EarlyStoppingMetric.ValidationLoss => v?.Loss,
            EarlyStoppingMetric.ValidationAccuracy => v?.Accuracy,
            EarlyStoppingMetric.ValidationMeanAbsoluteError => v?.MeanAbsoluteError,
            _ => v?.R2,
        };
        return value ?? throw new InvalidOperationException(
            $"Early stopping watches {Metric}, which epoch {epoch.Epoch}'s validation does not have" +
            (v is null ? " (no validation set was given)." : " (accuracy needs class labels, MAE and R² float targets)."));
    }

    /// <summary>Whether <paramref name="value"/> improves on <paramref name="best"/> by more than <see cref="MinDelta"/>.</summary>
    internal bool Improves(float value, float? best)
        => best is not float b || (HigherIsBetter ? value > b + MinDelta : value < b - MinDelta);
}
