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
        long labelCount = (long)Count * labelsPerSample; // in long: both are ints, so the product cannot wrap
        if (labels is not null && labels.Length != labelCount)
            throw new ArgumentException(labelsPerSample == 1
                ? $"There are {Count} samples but {labels.Length} labels."
                : $"There are {Count} samples of {labelsPerSample} steps ({labelCount} labels) but {labels.Length} labels.", nameof(labels));
        LabelsPerSample = labels is null ? 0 : labelsPerSample;
        long targetCount = (long)Count * targetSize;
        if (targets is not null && targets.Length != targetCount)
            throw new ArgumentException($"There are {Count} samples of {targetSize} targets each ({targetCount} floats) but the targets hold {targets.Length} floats.", nameof(targets));
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
    /// <param name="features">The features, one row of <paramref name="featureSize"/> floats per sample (kept, not copied).</param>
    /// <param name="featureSize">Floats per sample.</param>
    /// <param name="labels">One class label per sample, 0 or more (kept, not copied).</param>
    /// <exception cref="ArgumentNullException"><paramref name="features"/> or <paramref name="labels"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="featureSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">
    /// The features are not a whole number of rows, there is not one label per sample, or a label is negative.
    /// </exception>
    public static Dataset WithLabels(float[] features, int featureSize, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        var data = new Dataset(features, featureSize, labels, null, 0);
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] < 0) throw new ArgumentException($"Label {labels[i]} of sample {i} is negative; class labels are 0 or more.", nameof(labels));
        return data;
    }

    /// <summary>
    /// A data set of sequences labelled at every one of their <paramref name="steps"/> steps (for a network whose last
    /// recurrent layer returns every state): <paramref name="labels"/> holds <paramref name="steps"/> class labels per
    /// sample; with <see cref="WithLengths"/>, the labels of padding steps are never read (they may hold anything, such as −1).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="features"/> or <paramref name="labels"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="featureSize"/> or <paramref name="steps"/> is not positive.</exception>
    /// <exception cref="ArgumentException">
    /// The features are not a whole number of rows, or <paramref name="labels"/> does not hold <paramref name="steps"/> labels per sample.
    /// </exception>
    public static Dataset WithStepLabels(float[] features, int featureSize, int[] labels, int steps)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        return new(features, featureSize, labels, null, 0, null, steps);
    }

    /// <summary>A regression (or multi-label) data set: features and <paramref name="targetSize"/> float targets per sample.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="features"/> or <paramref name="targets"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="featureSize"/> or <paramref name="targetSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">
    /// The features are not a whole number of rows, or <paramref name="targets"/> does not hold <paramref name="targetSize"/> floats per sample.
    /// </exception>
    public static Dataset WithTargets(float[] features, int featureSize, float[] targets, int targetSize)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (targetSize <= 0) throw new ArgumentOutOfRangeException(nameof(targetSize), targetSize, "The target size must be positive.");
        return new(features, featureSize, null, targets, targetSize);
    }

    /// <summary>
    /// The same samples as sequences of the given true lengths (the features of each are padded to the network's declared
    /// steps). A network with recurrent layers then trains and is evaluated on the true steps only.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="lengths"/> is null.</exception>
    /// <exception cref="ArgumentException">There is not one length per sample, or a length is negative.</exception>
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
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a sample of the data set.</exception>
    public ReadOnlySpan<float> GetFeatures(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} samples, 0 to {Count - 1}.");
        return Features.AsSpan(index * FeatureSize, FeatureSize);
    }

    /// <summary>A new data set holding the first <paramref name="count"/> samples (copied), or all when there are fewer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public Dataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Slice(0, Math.Min(count, Count));
    }

    /// <summary>A new data set holding samples <paramref name="start"/> to <paramref name="start"/>+<paramref name="count"/> (copied).</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="start"/> is negative or beyond the last sample, or <paramref name="count"/> is negative or runs past it.
    /// </exception>
    public Dataset Slice(int start, int count)
    {
        if (start < 0 || start > Count)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"The slice must start within the data set's {Count} samples (0 to {Count}).");
        if (count < 0 || count > Count - start) // not start + count, which can wrap
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Samples {start} to {(long)start + count} are outside a data set of {Count} samples.");
        float[] features = Features.AsSpan(start * FeatureSize, count * FeatureSize).ToArray();
        int[]? lengths = Lengths?.AsSpan(start, count).ToArray();
        return Labels is not null
            ? new Dataset(features, FeatureSize, Labels.AsSpan(start * LabelsPerSample, count * LabelsPerSample).ToArray(), null, 0, lengths, LabelsPerSample)
            : new Dataset(features, FeatureSize, null, Targets!.AsSpan(start * TargetSize, count * TargetSize).ToArray(), TargetSize, lengths);
    }
}
