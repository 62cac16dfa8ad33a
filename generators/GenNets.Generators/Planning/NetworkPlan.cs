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

    /// <summary>
    /// A layer whose ReLU's gradient is taken where a residual skip's gradient joins its output's (one pass: the
    /// backward walk marks it as it writes the join).
    /// </summary>
    public bool ReluTakenAtJoin { get; set; }

    /// <summary>
    /// The convolution above whose input gradient took this layer's ReLU gradient (and the skip's join, if
    /// <see cref="ReluTakenAtJoin"/>) as it wrote dX: the backward walk marks it as it writes that convolution.
    /// </summary>
    public int? ReluTakenByInputGradientOf { get; set; }

    /// <summary>The line a layer's backward writes instead of its ReLU's gradient when another pass took it; null if none did.</summary>
    public string? ReluTakenNote => ReluTakenAbove ? "// The ReLU's gradient was taken by the pooling's backward above."
        : ReluTakenByInputGradientOf is int above
        ? ReluTakenAtJoin
            ? $"// The skip's gradient joined, and the ReLU's gradient was taken, as layer {above} wrote its input gradient."
            : $"// The ReLU's gradient was taken as layer {above} wrote its input gradient."
        : ReluTakenAtJoin ? "// The ReLU's gradient was taken where the skip's gradient joined." : null;

    /// <summary>
    /// For a convolution: the skip gradient its input gradient adds as it is written (null if none), and whether that
    /// input gradient is taken through the ReLU its input came out of. Set by the backward walk.
    /// </summary>
    public string? InputSkipGradient { get; set; }

    /// <inheritdoc cref="InputSkipGradient"/>
    public bool InputGradientThroughReLU { get; set; }

    /// <summary>Whether this step's layer has a ReLU whose gradient its emitter lets another pass take (a convolution, dense layer or sum).</summary>
    public bool ReluMayBeTaken => Pooled is null && Layer.Activation == ActivationKind.ReLU && Layer.Spec is Conv2DSpec or DenseSpec or AddSpec;

    /// <summary>
    /// The residual sum (an <see cref="AddSpec"/> step) that this convolution, the last layer of its block, writes as it
    /// stores its output (Convolution.Forward's residual): the convolution's own output is never stored apart.
    /// </summary>
    public Step? SumTaken { get; set; }

    /// <summary>A residual sum the convolution below it writes (<see cref="SumTaken"/>): its forward writes nothing.</summary>
    public bool SumTakenBelow { get; set; }

    /// <summary>The step's output is its input's floats, read as one vector: it keeps no buffer in training.</summary>
    public bool IsAlias { get; set; }

    /// <summary>A batch normalisation folded into this step's convolution or dense layer in inference.</summary>
    public BatchNormEmitter? FoldedNorm { get; set; }
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

        // ---- Who reads each layer's output ----
        var consumers = new List<int>[layers.Length + 1]; // [v + 1]: the layers reading value v (−1: the input)
        for (int v = 0; v < consumers.Length; v++) consumers[v] = new List<int>();
        foreach (var layer in layers)
            foreach (int source in layer.Sources)
                consumers[source + 1].Add(layer.Index);
        Consumers = consumers;

        // ---- Steps and fusions ----
        var steps = new List<Step>();
        for (int i = 0; i < emitters.Count; i++)
        {
            bool pooled = ConvolutionEmitter.PoolsItsOutput(layers, i) && ReadOnlyBy(i, i + 1);
            var step = new Step(emitters[i], pooled ? emitters[i + 1] : null);
            if (pooled) i++;
            steps.Add(step);
        }
        for (int s = 1; s < steps.Count; s++)
            if (steps[s].Pooled is null && steps[s].Layer.Spec is PoolSpec { Max: true } && steps[s - 1].Pooled is null
                && steps[s - 1].Layer.Spec is Conv2DSpec { Activation: ActivationKind.ReLU } && ReadOnlyBy(steps[s - 1].Layer.Index, steps[s].Layer.Index))
            {
                // Over a convolution's ReLU, max pooling's backward takes the ReLU's gradient too (no pass of its own).
                steps[s].TakesReluBelow = true;
                steps[s - 1].ReluTakenAbove = true;
            }
            else if (steps[s] is { Pooled: null, Layer.Spec: GlobalAvgPoolSpec } global && global.Layer.InputShape.Length == 3 && steps[s - 1].ReluMayBeTaken
                && global.Layer.Sources[0] == steps[s - 1].Layer.Index && ReadOnlyBy(steps[s - 1].Layer.Index, global.Layer.Index))
            {
                // So does global average pooling's, over a convolution's or a residual sum's ReLU read by it alone.
                global.TakesReluBelow = true;
                steps[s - 1].ReluTakenAbove = true;
            }
        Last = layers.Length - 1;
        foreach (var step in steps)
            step.IsAlias = step.Layer.Spec is FlattenSpec && step.Layer.Index != Last;
        // A residual block ending in a convolution without activation, read by nothing but the sum: the convolution
        // writes the sum (and its ReLU) as it stores its outputs, instead of a pass of the sum's own over them.
        for (int s = 1; s < steps.Count; s++)
            if (steps[s] is { Pooled: null, Emitter: AddEmitter } sum && sum.Layer.Activation is ActivationKind.Identity or ActivationKind.ReLU
                && sum.Layer.Index != Last && steps[s - 1] is { Pooled: null, Emitter: ConvolutionEmitter } conv
                && conv.Layer.Spec is Conv2DSpec { Activation: ActivationKind.Identity } && sum.Layer.Sources[0] == conv.Layer.Index
                && sum.Layer.Sources[1] != conv.Layer.Index && ReadOnlyBy(conv.Layer.Index, sum.Layer.Index))
            {
                conv.SumTaken = sum;
                sum.SumTakenBelow = true;
            }
        Steps = steps;
        Emitters = emitters;

        // ---- Batch normalisation: segments of the training passes, and folding in inference ----
        BatchNorms = steps.Select(st => st.Emitter).OfType<BatchNormEmitter>().ToList();
        for (int s = 1; s < steps.Count; s++)
            if (steps[s].Emitter is BatchNormEmitter norm && steps[s - 1] is { Pooled: null } before && norm.Layer.Sources[0] == before.Layer.Index
                && before.Layer.Spec is Conv2DSpec { Activation: ActivationKind.Identity } or DenseSpec { Activation: ActivationKind.Identity }
                && ReadOnlyBy(before.Layer.Index, norm.Layer.Index))
            {
                norm.FoldedInto = before;
                before.FoldedNorm = norm;
            }
        SegmentParameters = SegmentRanges(net);

        // ---- Inference: two dense layers over a sequence's positions, the second reading only the first, joined by strips ----
        for (int s = 1; s < steps.Count; s++)
            if (steps[s].Emitter is DenseEmitter second && steps[s - 1].Emitter is DenseEmitter first && !first.StripsIn
                && steps[s - 1].FoldedNorm is null && steps[s].FoldedNorm is null && first.JoinsByStrips(second) && ReadOnlyBy(first.Layer.Index, second.Layer.Index))
            {
                first.StripsOut = true;
                second.StripsIn = true;
            }

        // ---- Inference: hidden outputs share slots of the scratch, each as wide as the widest hidden output ----
        MaxHidden = 0;
        for (int i = 0; i < layers.Length - 1; i++) MaxHidden = System.Math.Max(MaxHidden, layers[i].OutputLength);
        InferenceSlots = AssignInferenceSlots(out int slots);
        InferenceScratch = System.Math.Max(2, slots) * MaxHidden;
        // Batched inference in strips, when every layer works on the same rows (positions) of the sample.
        StripPositions = layers[0].Positions;
        if (layers.All(l => l.Spec is DenseSpec or DropoutSpec && l.Positions == StripPositions && l.Sources[0] == l.Index - 1) && layers.Any(l => l.Spec is DenseSpec))
            StripFeatures = layers.Max(l => System.Math.Max(l.InFeatures, l.OutFeatures));
        BatchScratchPerSample = System.Math.Max(InferenceScratch, 2 * StripFeatures * StripPositions);
        DenseOnly = layers.All(l => l.Spec is DenseSpec or DropoutSpec && l.Sources[0] == l.Index - 1) && layers.Any(l => l.Spec is DenseSpec);
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
                    : (step.SumTaken is null ? new[] { OutputBuffer(step.Layer) } : []).Concat(step.Emitter.KeptBuffers));
            foreach (var layer in new[] { step.Layer, step.Last })
            {
                maxWidth = System.Math.Max(maxWidth, layer.OutputLength);
                if (layer.Index > 0) maxWidth = System.Math.Max(maxWidth, layer.InputLength);
            }
        }
        buffers.Add(new TrainingBuffer("_outputGradient", net.OutputLength, "the loss's gradient with respect to the outputs"));
        GradientWidth = maxWidth;
        // As many buffers as the backward pass uses at once: two alternate along a chain of layers, and each residual sum in
        // progress keeps one more (its skip's gradient, until the paths meet). Counted by writing the pass once, unkept.
        GradientBuffers = 2;
        GradientBuffers = System.Math.Max(2, Emitter.CountGradientBuffers(net, this));
        for (int b = 0; b < GradientBuffers; b++)
            buffers.Add(new TrainingBuffer(GradientField(b), maxWidth, GradientBuffers == 2
                ? $"gradients flowing backward, alternating with {GradientField(1 - b)}; a part owns its rows' stretch"
                : $"gradients flowing backward ({b + 1} of {GradientBuffers}: two alternate along a chain, the others keep a skip's gradient); a part owns its rows' stretch"));
        TrainingBuffers = buffers;
        ForwardFlopsPerSample = emitters.Sum(e => e.ForwardFlopsPerSample);
        TrainingFloatsPerSample = buffers.Sum(b => b.FloatsPerSample);
        MaxTrainingFloatsPerSample = buffers.Max(b => b.FloatsPerSample);
        OutputField = FieldOf(lastLayer);
    }

    /// <summary>The forward pass's steps, in order.</summary>
    public IReadOnlyList<Step> Steps { get; }

    /// <summary>Consumers[v + 1]: the layers that read value v, the output of layer v (−1: the network's input).</summary>
    public IReadOnlyList<List<int>> Consumers { get; }

    /// <summary>Whether layer <paramref name="reader"/> is the only one reading layer <paramref name="layer"/>'s output.</summary>
    public bool ReadOnlyBy(int layer, int reader) => Consumers[layer + 1].Count == 1 && Consumers[layer + 1][0] == reader;

    /// <summary>Where each layer's output lives in inference: a slot of the scratch (0 is "ping", 1 "pong"), <see cref="NetworkOutput"/>, or the same as its input's (<see cref="Aliased"/>).</summary>
    public IReadOnlyList<int> InferenceSlots { get; }

    public const int NetworkOutput = -2, Aliased = -3, NotWritten = -4;

    /// <summary>The span of inference slot <paramref name="slot"/>.</summary>
    public static string SlotName(int slot) => slot switch { 0 => "ping", 1 => "pong", _ => $"slot{slot}" };

    /// <summary>The training buffers the gradients flow back through.</summary>
    public int GradientBuffers { get; private set; }

    public static string GradientField(int buffer) => "_gradient" + (char)('A' + buffer);

    /// <summary>The batch normalisations, in order: each ends a segment of the training passes.</summary>
    public IReadOnlyList<BatchNormEmitter> BatchNorms { get; }

    /// <summary>Segments of the training passes: one more than the batch normalisations.</summary>
    public int Segments => BatchNorms.Count + 1;

    /// <summary>Per segment, the parameters its layers hold (a batch normalisation's own excluded), as [From, To).</summary>
    public IReadOnlyList<(int From, int To)> SegmentParameters { get; }

    /// <summary>Floats of folded weights inference computes per call (0 when nothing is folded).</summary>
    public int FoldedLength => Steps.Where(s => s.FoldedNorm is not null).Sum(s => s.FoldedNorm!.FoldedLength(s.Emitter.FoldableTensors!.Value.PerChannel));

    // Parameters are laid out in layer order, so each segment's are one range: from its first parametric layer's start to
    // the start of the next parametric layer after its last one.
    private List<(int From, int To)> SegmentRanges(ShapedNetwork net)
    {
        var starts = Emitters.Where(e => e.Layer.HasParameters).Select(e => e.Layer.WeightOffset).Append(net.ParameterCount).ToList();
        int End(ShapedLayer layer) => starts.First(start => start > layer.WeightOffset);
        var ranges = new List<(int, int)>();
        int first = 0;
        for (int segment = 0; segment < Segments; segment++)
        {
            int last = segment < BatchNorms.Count ? Steps.Select((st, i) => (st, i)).First(p => p.st.Emitter == BatchNorms[segment]).i : Steps.Count - 1;
            var layers = Steps.Skip(first).Take(last - first + 1).SelectMany(st => new[] { st.Layer, st.Last }.Distinct())
                .Where(l => l.HasParameters && l.Spec is not BatchNormSpec).ToList();
            ranges.Add(layers.Count == 0 ? (0, 0) : (layers.Min(l => l.WeightOffset), layers.Max(End)));
            first = last + 1;
        }
        return ranges;
    }

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

    // Each layer's output takes the lowest slot whose values no later step reads any more; a step never writes over its
    // own inputs unless its emitter says it computes in place. Along a chain this alternates between two slots.
    private List<int> AssignInferenceSlots(out int count)
    {
        var layers = Emitters.Select(e => e.Layer).ToList();
        var slotOf = Enumerable.Repeat(NotWritten, layers.Count).ToList();
        var busyUntil = new List<int>(); // per slot: the last step that reads a value in it
        int StepOf(int layer) => Steps.Select((st, i) => (st, i)).First(p => p.st.Layer.Index <= layer && layer <= p.st.Last.Index).i;
        int LastRead(int value) => Consumers[value + 1].Count == 0 ? int.MaxValue : Consumers[value + 1].Max(StepOf);
        for (int s = 0; s < Steps.Count; s++)
        {
            var step = Steps[s];
            int output = step.Last.Index;
            int input = step.Layer.Sources[0];
            bool inputIsNetworks = input < 0;
            var kind = step.Pooled is null ? step.Emitter.InferenceOutput(inputIsNetworks) : InferenceOutputKind.New;
            if (kind == InferenceOutputKind.Alias)
            {
                slotOf[output] = Aliased;
                if (!inputIsNetworks && SlotOf(slotOf, input) is int aliased and >= 0) busyUntil[aliased] = System.Math.Max(busyUntil[aliased], LastRead(output));
                continue;
            }
            if (output == layers.Count - 1)
            {
                slotOf[output] = NetworkOutput;
                continue;
            }
            int slot;
            if (kind == InferenceOutputKind.InPlace && SlotOf(slotOf, input) is int own and >= 0 && LastRead(input) == s)
                slot = own; // over its input, which nothing reads after it
            else
            {
                slot = busyUntil.FindIndex(until => until < s);
                if (slot < 0)
                {
                    slot = busyUntil.Count;
                    busyUntil.Add(0);
                }
            }
            busyUntil[slot] = LastRead(output);
            slotOf[output] = slot;
        }
        count = busyUntil.Count;
        return slotOf;
    }

    /// <summary>The slot a value is in, looking through aliases; −1 for the network's input.</summary>
    public int? SlotOfValue(int value) => value < 0 ? -1 : SlotOf(InferenceSlots, value);

    private int? SlotOf(IReadOnlyList<int> slots, int value)
    {
        while (value >= 0 && slots[value] == Aliased) value = Emitters[value].Layer.Sources[0];
        return value < 0 ? -1 : slots[value];
    }

    /// <summary>The training buffer that keeps a layer's output.</summary>
    public static string FieldOf(ShapedLayer layer) => $"_y{layer.Index}";

    public static TrainingBuffer OutputBuffer(ShapedLayer layer)
        => new(FieldOf(layer), layer.OutputLength, $"layer {layer.Index} output, (batch, {Text.Join(layer.OutputShape)})");
}
