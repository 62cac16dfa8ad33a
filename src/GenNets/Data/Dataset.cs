using System;

namespace GenNets.Data;

/// <summary>
/// Samples in memory: a row-major block of features (one row of <see cref="FeatureSize"/> floats per
/// sample) with either an integer class label per sample or a row of <see cref="TargetSize"/> float
/// targets per sample, and for sequences of different lengths (each padded to the network's declared steps) the true
/// length of each (<see cref="WithLengths"/>).
/// </summary>
public sealed class Dataset
{
    private Dataset(float[] features, int featureSize, int[]? labels, float[]? targets, int targetSize, int[]? lengths = null, int labelsPerSample = 1)
    {
        if (featureSize <= 0) throw new ArgumentOutOfRangeException(nameof(featureSize), featureSize, "The feature size must be positive.");
        if (features.Length % featureSize != 0)
            throw new ArgumentException($"The features hold {features.Length} floats, which is not a whole number of samples of {featureSize} floats.", nameof(features));
        Count = features.Length / featureSize;
        if (labelsPerSample <= 0) throw new ArgumentOutOfRangeException(nameof(labelsPerSample), labelsPerSample, "A sample has at least one label.");
        if (labels is not null && labels.Length != Count * labelsPerSample)
            throw new ArgumentException(labelsPerSample == 1
                ? $"There are {Count} samples but {labels.Length} labels."
                : $"There are {Count} samples of {labelsPerSample} steps ({Count * labelsPerSample} labels) but {labels.Length} labels.", nameof(labels));
        LabelsPerSample = labels is null ? 0 : labelsPerSample;
        if (targets is not null && targets.Length != Count * targetSize)
            throw new ArgumentException($"There are {Count} samples of {targetSize} targets each ({Count * targetSize} floats) but the targets hold {targets.Length} floats.", nameof(targets));
        if (lengths is not null)
        {
            if (lengths.Length != Count)
                throw new ArgumentException($"There are {Count} samples but {lengths.Length} lengths.", nameof(lengths));
            for (int i = 0; i < lengths.Length; i++)
                if (lengths[i] < 0) throw new ArgumentException($"Sequence {i} has a negative length, {lengths[i]}.", nameof(lengths));
        }
        Lengths = lengths;
        Features = features;
        FeatureSize = featureSize;
        Labels = labels;
        Targets = targets;
        TargetSize = targetSize;
    }

    /// <summary>A classification data set: features and one class label per sample.</summary>
    public static Dataset WithLabels(float[] features, int featureSize, int[] labels)
        => new(features ?? throw new ArgumentNullException(nameof(features)), featureSize, labels ?? throw new ArgumentNullException(nameof(labels)), null, 0);

    /// <summary>
    /// A data set of sequences labelled at every one of their <paramref name="steps"/> steps (for a network whose last
    /// recurrent layer returns every state): <paramref name="labels"/> holds <paramref name="steps"/> class labels per
    /// sample; with <see cref="WithLengths"/>, the labels of padding steps are never read.
    /// </summary>
    public static Dataset WithStepLabels(float[] features, int featureSize, int[] labels, int steps)
        => new(features ?? throw new ArgumentNullException(nameof(features)), featureSize, labels ?? throw new ArgumentNullException(nameof(labels)), null, 0, null, steps);

    /// <summary>A regression (or multi-label) data set: features and <paramref name="targetSize"/> float targets per sample.</summary>
    public static Dataset WithTargets(float[] features, int featureSize, float[] targets, int targetSize)
    {
        if (targetSize <= 0) throw new ArgumentOutOfRangeException(nameof(targetSize), targetSize, "The target size must be positive.");
        return new(features ?? throw new ArgumentNullException(nameof(features)), featureSize, null, targets ?? throw new ArgumentNullException(nameof(targets)), targetSize);
    }

    /// <summary>
    /// The same samples as sequences of the given true lengths (the features of each are padded to the network's declared
    /// steps). A network with recurrent layers then trains and is evaluated on the true steps only.
    /// </summary>
    public Dataset WithLengths(int[] lengths)
        => new(Features, FeatureSize, Labels, Targets, TargetSize, (int[])(lengths ?? throw new ArgumentNullException(nameof(lengths))).Clone(), Math.Max(1, LabelsPerSample)); // a copy: checked once

    /// <summary>Each sequence's true length, or null when every sample is whole.</summary>
    public int[]? Lengths { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Floats per sample.</summary>
    public int FeatureSize { get; }

    /// <summary>All features, <see cref="Count"/> rows of <see cref="FeatureSize"/>.</summary>
    public float[] Features { get; }

    /// <summary>Class labels per sample: 1, or the steps of a <see cref="WithStepLabels"/> data set; 0 without labels.</summary>
    public int LabelsPerSample { get; }

    /// <summary>Class labels, <see cref="LabelsPerSample"/> per sample, or null for a data set with float targets.</summary>
    public int[]? Labels { get; }

    /// <summary>Float targets, <see cref="Count"/> rows of <see cref="TargetSize"/>, or null for a labelled data set.</summary>
    public float[]? Targets { get; }

    /// <summary>Floats of target per sample (0 for a labelled data set).</summary>
    public int TargetSize { get; }

    /// <summary>The features of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> GetFeatures(int index) => Features.AsSpan(index * FeatureSize, FeatureSize);

    /// <summary>A new data set holding the first <paramref name="count"/> samples (copied).</summary>
    public Dataset Take(int count) => Slice(0, Math.Min(count, Count));

    /// <summary>A new data set holding samples <paramref name="start"/> to <paramref name="start"/>+<paramref name="count"/> (copied).</summary>
    public Dataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"Samples {start} to {start + count} are outside a data set of {Count} samples.");
        float[] features = Features.AsSpan(start * FeatureSize, count * FeatureSize).ToArray();
        int[]? lengths = Lengths?.AsSpan(start, count).ToArray();
        return Labels is not null
            ? new Dataset(features, FeatureSize, Labels.AsSpan(start * LabelsPerSample, count * LabelsPerSample).ToArray(), null, 0, lengths, LabelsPerSample)
            : new Dataset(features, FeatureSize, null, Targets!.AsSpan(start * TargetSize, count * TargetSize).ToArray(), TargetSize, lengths);
    }
}
