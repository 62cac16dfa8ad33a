using System.Collections.Generic;
using System.Linq;
using GenNets.Generators.Layers;
using GenNets.Generators.Model;
using GenNets.Generators.Shapes;

namespace GenNets.Generators.Planning;

/// <summary>A training buffer: its field, floats per sample, and what it holds.</summary>
internal sealed record TrainingBuffer(string Field, int FloatsPerSample, string Comment);

/// <summary>
/// One step of the forward pass: a layer, or a layer and the one above it when the two are computed in one pass (a
/// convolution pooled as it is computed). Backward takes the steps in reverse. The fusions are decided here, once, and
/// each step's emitter reads them: the drivers never test what kind of layer comes next.
/// </summary>
internal sealed class Step
{
    public Step(LayerEmitter emitter, LayerEmitter? pooled)
    {
        Emitter = emitter;
        Pooled = pooled;
    }

    /// <summary>The step's (first) layer.</summary>
    public LayerEmitter Emitter { get; }

    public ShapedLayer Layer => Emitter.Layer;

    /// <summary>A 2×2 max pooling taken with the convolution below it: its output is the step's output.</summary>
    public LayerEmitter? Pooled { get; }

    /// <summary>The layer whose output the step leaves (the pooling's, when it takes one).</summary>
    public ShapedLayer Last => (Pooled ?? Emitter).Layer;

    /// <summary>A max pooling whose backward also takes the gradient of the ReLU of the convolution below it.</summary>
    public bool TakesReluBelow { get; set; }

    /// <summary>A convolution whose ReLU's gradient the max pooling above it takes.</summary>
    public bool ReluTakenAbove { get; set; }

    /// <summary>The step's output is its input's floats, read as one vector: it keeps no buffer in training.</summary>
    public bool IsAlias { get; set; }
}

/// <summary>
/// The plan of a network's generated code, made once before anything is written: the ordered steps with their fusions,
/// the buffers each pass uses, and the sizes that follow from them.
/// </summary>
internal sealed class NetworkPlan
{
    public NetworkPlan(ShapedNetwork net)
    {
        var layers = net.Layers;
        var emitters = layers.Select(l => LayerEmitter.For(l, last: l.Index == layers.Length - 1)).ToList();

        // ---- Steps and fusions ----
        var steps = new List<Step>();
        for (int i = 0; i < emitters.Count; i++)
        {
            bool pooled = ConvolutionEmitter.PoolsItsOutput(layers, i);
            var step = new Step(emitters[i], pooled ? emitters[i + 1] : null);
            if (pooled) i++;
            steps.Add(step);
        }
        for (int s = 1; s < steps.Count; s++)
            if (steps[s].Pooled is null && steps[s].Layer.Spec is PoolSpec { Max: true } && steps[s - 1].Pooled is null
                && steps[s - 1].Layer.Spec is Conv2DSpec { Activation: ActivationKind.ReLU })
            {
                // Over a convolution's ReLU, max pooling's backward takes the ReLU's gradient too (no pass of its own).
                steps[s].TakesReluBelow = true;
                steps[s - 1].ReluTakenAbove = true;
            }
        Last = layers.Length - 1;
        foreach (var step in steps)
            step.IsAlias = step.Layer.Spec is FlattenSpec && step.Layer.Index != Last;
        Steps = steps;
        Emitters = emitters;

        // ---- Inference: two alternating hidden buffers, as wide as the widest hidden output ----
        MaxHidden = 0;
        for (int i = 0; i < layers.Length - 1; i++) MaxHidden = System.Math.Max(MaxHidden, layers[i].OutputLength);
        InferenceScratch = 2 * MaxHidden;
        // Batched inference in strips, when every layer works on the same rows (positions) of the sample.
        StripPositions = layers[0].Positions;
        if (layers.All(l => l.Spec is DenseSpec or DropoutSpec && l.Positions == StripPositions) && layers.Any(l => l.Spec is DenseSpec))
            StripFeatures = layers.Max(l => System.Math.Max(l.InFeatures, l.OutFeatures));
        BatchScratchPerSample = System.Math.Max(InferenceScratch, 2 * StripFeatures * StripPositions);
        DenseOnly = layers.All(l => l.Spec is DenseSpec or DropoutSpec) && layers.Any(l => l.Spec is DenseSpec);
        Recurrent = layers.Any(l => l.IsRecurrent);
        SequenceSteps = Recurrent ? layers.First(l => l.IsRecurrent).InputShape[0] : 0;
        // The output keeps the input's steps: the loss of sequences with lengths leaves the padding out.
        var lastLayer = layers[layers.Length - 1];
        SequenceOutput = Recurrent && net.Spec.InputShape.Length == 2 && lastLayer.OutputShape.Length == 2 && lastLayer.OutputShape[0] == net.Spec.InputShape[0];
        // Networks with image layers run a batch in chunks whose activations fit in half of L2 (256 KB).
        if (layers.Any(l => l.Spec is not (DenseSpec or DropoutSpec)))
            InferenceChunk = System.Math.Max(1, 64 * 1024 / System.Math.Max(1, InferenceScratch));

        // ---- Training: what each step keeps for backward, and the gradients flowing back ----
        var buffers = new List<TrainingBuffer>();
        int maxWidth = net.OutputLength;
        foreach (var step in steps)
        {
            if (!step.IsAlias)
                buffers.AddRange(step.Pooled is { } pool
                    ? ConvolutionEmitter.PooledBuffers(pool.Layer)
                    : new[] { OutputBuffer(step.Layer) }.Concat(step.Emitter.KeptBuffers));
            foreach (var layer in new[] { step.Layer, step.Last })
            {
                maxWidth = System.Math.Max(maxWidth, layer.OutputLength);
                if (layer.Index > 0) maxWidth = System.Math.Max(maxWidth, layer.InputLength);
            }
        }
        buffers.Add(new TrainingBuffer("_outputGradient", net.OutputLength, "the loss's gradient with respect to the outputs"));
        buffers.Add(new TrainingBuffer("_gradientA", maxWidth, "gradients flowing backward, alternating with _gradientB; a part owns its rows' stretch"));
        buffers.Add(new TrainingBuffer("_gradientB", maxWidth, "gradients flowing backward, alternating with _gradientA; a part owns its rows' stretch"));
        GradientWidth = maxWidth;
        TrainingBuffers = buffers;
        ForwardFlopsPerSample = emitters.Sum(e => e.ForwardFlopsPerSample);
        TrainingFloatsPerSample = buffers.Sum(b => b.FloatsPerSample);
        MaxTrainingFloatsPerSample = buffers.Max(b => b.FloatsPerSample);
        OutputField = FieldOf(lastLayer);
    }

    /// <summary>The forward pass's steps, in order.</summary>
    public IReadOnlyList<Step> Steps { get; }

    /// <summary>One emitter per layer, in layer order.</summary>
    public IReadOnlyList<LayerEmitter> Emitters { get; }

    public int MaxHidden { get; }
    /// <summary>The network has recurrent layers: its calls take each sequence's length.</summary>
    public bool Recurrent { get; }
    /// <summary>The declared steps of the sequences, for a recurrent network.</summary>
    public int SequenceSteps { get; }
    /// <summary>A recurrent network whose output has the input's steps (a sequence per sample).</summary>
    public bool SequenceOutput { get; }
    public int InferenceScratch { get; }
    /// <summary>The widest input or output of any layer, which sizes the strip buffers; 0 if the network has no strip path.</summary>
    public int StripFeatures { get; }
    /// <summary>Rows each sample contributes to a layer's matrix product.</summary>
    public int StripPositions { get; }
    /// <summary>Only dense and dropout layers: backward is split over threads layer by layer, without per-part gradients.</summary>
    public bool DenseOnly { get; }
    /// <summary>Samples per chunk of batched inference for networks with image layers; 0 when the batch runs whole.</summary>
    public int InferenceChunk { get; }
    /// <summary>Floats of inference scratch per sample of a batch, the larger of the two paths.</summary>
    public int BatchScratchPerSample { get; }
    public IReadOnlyList<TrainingBuffer> TrainingBuffers { get; }
    public int TrainingFloatsPerSample { get; }
    /// <summary>The largest training buffer's floats per sample: bounds the batch a network can reserve.</summary>
    public int MaxTrainingFloatsPerSample { get; }
    public long ForwardFlopsPerSample { get; }
    /// <summary>Floats per sample of each of the two buffers the gradients flow back through.</summary>
    public int GradientWidth { get; }
    /// <summary>The training buffer of the network's outputs.</summary>
    public string OutputField { get; }

    private int Last { get; }

    /// <summary>The training buffer that keeps a layer's output.</summary>
    public static string FieldOf(ShapedLayer layer) => $"_y{layer.Index}";

    public static TrainingBuffer OutputBuffer(ShapedLayer layer)
        => new(FieldOf(layer), layer.OutputLength, $"layer {layer.Index} output, (batch, {Text.Join(layer.OutputShape)})");
}
