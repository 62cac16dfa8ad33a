using System;
using System.Collections.Generic;

namespace GenNets;

/// <summary>
/// What every generated network offers the runtime (trainer, optimizers, weight files). The
/// generated class also has the same members with constant sizes, and more.
/// </summary>
public interface INetwork
{
    /// <summary>Floats in one input sample.</summary>
    int InputSize { get; }

    /// <summary>Floats in one output sample.</summary>
    int OutputSize { get; }

    /// <summary>Floats of parameters: the trainable ones, and batch normalisation's running statistics (tensors with <see cref="ParameterTensor.Trainable"/> false), which the same buffer holds.</summary>
    int ParameterCount { get; }

    /// <summary>The loss the network trains with.</summary>
    LossKind Loss { get; }

    /// <summary>Floating-point operations of one sample's forward pass (a multiply-add counts 2).</summary>
    long ForwardFlopsPerSample { get; }

    /// <summary>
    /// Threads a batch is split over (1: no threading), at least 1. A batch is cut into chunks by its size alone, so results
    /// are the same bits at any value.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    int Threads { get; set; }

    /// <summary>Allocates the training buffers for batches of up to <paramref name="batchSize"/> samples; all or nothing.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1, or its buffers would exceed a .NET array.</exception>
    /// <exception cref="OutOfMemoryException">The buffers cannot be allocated; the network is as it was.</exception>
    void Reserve(int batchSize);

    /// <summary>All parameters, one flat buffer laid out as <see cref="ParameterTensors"/> says.</summary>
    Span<float> Parameters { get; }

    /// <summary>Gradients of the last <see cref="ComputeGradients"/>, same layout as <see cref="Parameters"/>.</summary>
    Span<float> Gradients { get; }

    /// <summary>The named tensors inside <see cref="Parameters"/>.</summary>
    IReadOnlyList<ParameterTensor> ParameterTensors { get; }

    /// <summary>The seed of the dropout masks (from the constructor's seed); a checkpoint saves it and a resumed run sets it back.</summary>
    ulong DropoutSeed { get; set; }

    /// <summary>
    /// Training passes taken (applied steps, and <see cref="ComputeGradients"/> calls); it numbers the dropout masks, so a
    /// checkpoint saves it and a resumed run sets it back.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is negative.</exception>
    long TrainingSteps { get; set; }

    /// <summary>The layers, in order.</summary>
    IReadOnlyList<LayerInfo> Layers { get; }

    /// <summary>
    /// Inference on one sample. Thread-safe. A dense network allocates nothing; a convolutional or recurrent one allocates
    /// each thread's scratch on that thread's first call, and nothing after.
    /// </summary>
    /// <exception cref="ArgumentException">A span is not one sample long.</exception>
    void Forward(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Inference on <paramref name="batchSize"/> samples stored one after another. Thread-safe.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The spans do not hold <paramref name="batchSize"/> samples.</exception>
    void Forward(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize);

    /// <summary>
    /// Forward in training mode (dropout on), the loss, and backward: overwrites <see cref="Gradients"/> with the
    /// gradient of the mean loss over the batch. Returns the mean loss. Every argument is checked first: a rejected call
    /// changes nothing. Not thread-safe (it uses the instance's buffers).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1 or too large for the buffers, or a label is outside the classes.</exception>
    /// <exception cref="ArgumentException">The inputs do not hold <paramref name="batchSize"/> samples, or the targets are of the wrong kind or count.</exception>
    float ComputeGradients(ReadOnlySpan<float> inputs, Targets targets, int batchSize);

    /// <summary>
    /// One training step: <see cref="ComputeGradients"/>, then <see cref="Training.Optimizer.Step(INetwork)"/>, applied whole or
    /// not at all. Returns the mean loss. When the loss or a gradient is NaN or infinite it throws, with the parameters, the
    /// optimizer's state and step count and the network's step count as they were. <see cref="Gradients"/> holds the step's
    /// gradients afterwards. Not thread-safe.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1 or too large for the buffers, or a label is outside the classes.</exception>
    /// <exception cref="ArgumentException">The inputs do not hold <paramref name="batchSize"/> samples, or the targets are of the wrong kind or count.</exception>
    /// <exception cref="Training.TrainingDivergedException">The loss or a gradient is not finite (the exception names the tensor); nothing was applied.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="optimizer"/> holds state for a network of another size.</exception>
    float TrainStep(ReadOnlySpan<float> inputs, Targets targets, int batchSize, Training.Optimizer optimizer);

    /// <summary>The network's outputs in the last <see cref="ComputeGradients"/> (training mode), batch × <see cref="OutputSize"/>.</summary>
    ReadOnlySpan<float> TrainingOutputs { get; }
}
