using System;
using System.Collections.Generic;
using GenNets.Training;

namespace GenNets.Onnx.Tests;

/// <summary>A generated network with other layer descriptions: what a future layer kind or a broken list looks like.</summary>
internal sealed class LayersReplaced(INetwork inner, IReadOnlyList<LayerInfo> layers) : INetwork
{
    public IReadOnlyList<LayerInfo> Layers => layers;
    public int InputSize => inner.InputSize;
    public int OutputSize => inner.OutputSize;
    public int ParameterCount => inner.ParameterCount;
    public LossKind Loss => inner.Loss;
    public long ForwardFlopsPerSample => inner.ForwardFlopsPerSample;
    public int Threads { get => inner.Threads; set => inner.Threads = value; }
    public void Reserve(int batchSize) => inner.Reserve(batchSize);
    public Span<float> Parameters => inner.Parameters;
    public Span<float> Gradients => inner.Gradients;
    public IReadOnlyList<ParameterTensor> ParameterTensors => inner.ParameterTensors;
    public ulong DropoutSeed { get => inner.DropoutSeed; set => inner.DropoutSeed = value; }
    public long TrainingSteps { get => inner.TrainingSteps; set => inner.TrainingSteps = value; }
    public void Forward(ReadOnlySpan<float> input, Span<float> output) => inner.Forward(input, output);
    public void Forward(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize) => inner.Forward(inputs, outputs, batchSize);
    public float ComputeGradients(ReadOnlySpan<float> inputs, Targets targets, int batchSize) => inner.ComputeGradients(inputs, targets, batchSize);
    public float TrainStep(ReadOnlySpan<float> inputs, Targets targets, int batchSize, Optimizer optimizer) => inner.TrainStep(inputs, targets, batchSize, optimizer);
    public ReadOnlySpan<float> TrainingOutputs => inner.TrainingOutputs;
}
