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

    /// <summary>Floats of trainable parameters.</summary>
    int ParameterCount { get; }

    /// <summary>The loss the network trains with.</summary>
    LossKind Loss { get; }

    /// <summary>Floating-point operations of one sample's forward pass (a multiply-add counts 2).</summary>
    long ForwardFlopsPerSample { get; }

    /// <summary>Threads a batch is split over (1: no threading). Results are bit-identical run to run for a given value.</summary>
    int Threads { get; set; }

    /// <summary>Allocates the training buffers for batches of up to <paramref name="batchSize"/> samples.</summary>
    void Reserve(int batchSize);

    /// <summary>All parameters, one flat buffer laid out as <see cref="ParameterTensors"/> says.</summary>
    Span<float> Parameters { get; }

    /// <summary>Gradients of the last <see cref="ComputeGradients"/>, same layout as <see cref="Parameters"/>.</summary>
    Span<float> Gradients { get; }

    /// <summary>The named tensors inside <see cref="Parameters"/>.</summary>
    IReadOnlyList<ParameterTensor> ParameterTensors { get; }

    /// <summary>The layers, in order.</summary>
    IReadOnlyList<LayerInfo> Layers { get; }

    /// <summary>Inference on one sample. Thread-safe; allocates nothing.</summary>
    void Forward(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Inference on <paramref name="batchSize"/> samples stored one after another. Thread-safe.</summary>
    void Forward(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize);

    /// <summary>
    /// Forward in training mode (dropout on), the loss, and backward: overwrites <see cref="Gradients"/> with the
    /// gradient of the mean loss over the batch. Returns the mean loss. Not thread-safe (it uses the instance's buffers).
    /// </summary>
    float ComputeGradients(ReadOnlySpan<float> inputs, Targets targets, int batchSize);

    /// <summary>
    /// One training step: <see cref="ComputeGradients"/>, then one update by <paramref name="optimizer"/>, which a network of
    /// dense layers applies layer by layer while each gradient is still in cache (the same result as
    /// <see cref="Training.Optimizer.Step(INetwork)"/> afterwards). Returns the mean loss; when it is not finite the
    /// parameters are left as they were. <see cref="Gradients"/> holds the step's gradients afterwards. Not thread-safe.
    /// </summary>
    float TrainStep(ReadOnlySpan<float> inputs, Targets targets, int batchSize, Training.Optimizer optimizer);

    /// <summary>The network's outputs in the last <see cref="ComputeGradients"/> (training mode), batch × <see cref="OutputSize"/>.</summary>
    ReadOnlySpan<float> TrainingOutputs { get; }
}
