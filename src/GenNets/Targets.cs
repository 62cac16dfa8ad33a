using System;

namespace GenNets;

/// <summary>
/// The targets of a batch: one class label per sample (softmax cross-entropy, or binary
/// cross-entropy on a single output), or a row of float values per sample (mean squared error,
/// binary cross-entropy, or a target distribution for softmax cross-entropy).
/// </summary>
public readonly ref struct Targets
{
    private Targets(ReadOnlySpan<int> labels, ReadOnlySpan<float> values, bool hasLabels)
    {
        Labels = labels;
        Values = values;
        HasLabels = hasLabels;
    }

    /// <summary>Class labels, one per sample.</summary>
    public static Targets FromLabels(ReadOnlySpan<int> labels) => new(labels, default, true);

    /// <summary>Float targets, one row of the network's output size per sample.</summary>
    public static Targets FromValues(ReadOnlySpan<float> values) => new(default, values, false);

    /// <summary>Class labels, one per sample.</summary>
    public static implicit operator Targets(int[] labels) => FromLabels(labels);

    /// <summary>Float targets.</summary>
    public static implicit operator Targets(float[] values) => FromValues(values);

    /// <summary>True when the targets are labels; false when they are values.</summary>
    public bool HasLabels { get; }

    /// <summary>The labels (empty when <see cref="HasLabels"/> is false).</summary>
    public ReadOnlySpan<int> Labels { get; }

    /// <summary>The values (empty when <see cref="HasLabels"/> is true).</summary>
    public ReadOnlySpan<float> Values { get; }
}
