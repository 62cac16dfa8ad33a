using System;

namespace GenNets;

/// <summary>
/// What a generated network with recurrent layers adds to <see cref="INetwork"/>: calls on a batch of sequences of
/// different lengths, each padded to the declared <see cref="Steps"/>. Padding changes no state and gets no gradient;
/// a sequence output is zero on padding and its loss is the mean over the true steps.
/// </summary>
public interface ISequenceNetwork : INetwork
{
    /// <summary>The declared steps of a sequence: the longest one a batch may hold.</summary>
    int Steps { get; }

    /// <summary>True when the output has a row per step (the last recurrent layer returns every state), false for one per sequence.</summary>
    bool OutputsSequences { get; }

    /// <summary><see cref="INetwork.Forward(ReadOnlySpan{float}, Span{float}, int)"/> for sequences of the given lengths. Thread-safe.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1, or a length is outside 0 to <see cref="Steps"/>.</exception>
    /// <exception cref="ArgumentException">The spans do not hold <paramref name="batchSize"/> samples, or there is not one length per sample.</exception>
    void Forward(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize, ReadOnlySpan<int> lengths);

    /// <summary><see cref="INetwork.ComputeGradients"/> for sequences of the given lengths.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1 or too large, a length is outside 0 to <see cref="Steps"/>, or a label outside the classes.</exception>
    /// <exception cref="ArgumentException">The inputs or targets do not fit the batch, or there is not one length per sample.</exception>
    float ComputeGradients(ReadOnlySpan<float> inputs, Targets targets, int batchSize, ReadOnlySpan<int> lengths);

    /// <summary><see cref="INetwork.TrainStep"/> for sequences of the given lengths: all or nothing, as it.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1 or too large, a length is outside 0 to <see cref="Steps"/>, or a label outside the classes.</exception>
    /// <exception cref="ArgumentException">The inputs or targets do not fit the batch, or there is not one length per sample.</exception>
    /// <exception cref="Training.TrainingDivergedException">The loss or a gradient is not finite; nothing was applied.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="optimizer"/> holds state for a network of another size.</exception>
    float TrainStep(ReadOnlySpan<float> inputs, Targets targets, int batchSize, ReadOnlySpan<int> lengths, Training.Optimizer optimizer);
}
