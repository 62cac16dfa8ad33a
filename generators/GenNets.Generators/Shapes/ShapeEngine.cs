using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using GenNets.Generators.Layers;
using GenNets.Generators.Model;

namespace GenNets.Generators.Shapes;

/// <summary>
/// One layer with every shape and offset resolved. What is particular to a kind (its tensors' lengths and shapes) is its
/// emitter's business (see GenNets.Generators.Layers); this record holds what every layer has.
/// </summary>
internal sealed record ShapedLayer(
    LayerSpec Spec,
    int Index,
    EquatableArray<int> InputShape,
    EquatableArray<int> OutputShape,
    string TensorPrefix,
    int WeightOffset,
    int BiasOffset,
    EquatableArray<int> Inputs = default)
{
    /// <summary>The layers whose outputs this one reads (−1: the network's input): the one before it, unless it is a residual's sum or projection.</summary>
    public EquatableArray<int> Sources => Inputs.Length > 0 ? Inputs : ImmutableArray.Create(Index - 1).ToEquatableArray();

    public int InFeatures => InputShape[InputShape.Length - 1];
    public int OutFeatures => OutputShape[OutputShape.Length - 1];
    public int InputLength => ShapeEngine.Product(InputShape);
    public int OutputLength => ShapeEngine.Product(OutputShape);
    /// <summary>Rows the layer's matrix product runs over per sample: 1 for a vector, the positions for a sequence.</summary>
    public int Positions => InputLength / InFeatures;
    public string Kind => Spec.Kind;
    public ActivationKind Activation => Spec.OutputActivation;
    public bool IsRecurrent => Spec is RecurrentSpec;
    public bool HasParameters => Spec.HasTensors;
}

/// <summary>A network whose shapes are all known: what the emitter writes code from.</summary>
internal sealed record ShapedNetwork(
    NetworkSpec Spec,
    LossKindSpec Loss,
    EquatableArray<ShapedLayer> Layers,
    EquatableArray<int> OutputShape,
    int ParameterCount)
{
    public int InputLength => ShapeEngine.Product(Spec.InputShape);
    public int OutputLength => ShapeEngine.Product(OutputShape);
}

/// <summary>The result of shape inference: the shaped network when every shape resolved, and the problems found.</summary>
internal sealed record ShapeResult(ShapedNetwork? Network, EquatableArray<Problem> Problems);

/// <summary>
/// Infers every tensor's shape and every parameter's offset from a <see cref="NetworkSpec"/>. The one
/// shape engine shared by the generator and the analyzers.
/// </summary>
internal static class ShapeEngine
{
    public static int Product(EquatableArray<int> shape)
    {
        long p = 1;
        foreach (int d in shape) p *= d;
        return p > int.MaxValue ? int.MaxValue : (int)p;
    }

    public static ShapeResult Infer(NetworkSpec spec)
    {
        var problems = new List<Problem>();
        string name = spec.ClassName;
        if (spec.InputAttributeIndex < 0)
            return new ShapeResult(null, problems.ToEquatableArray());
        if (spec.Layers.Length == 0)
        {
            problems.Add(Problem.OnAttribute(DiagnosticIds.NoLayers, spec.InputAttributeIndex, name));
            return new ShapeResult(null, problems.ToEquatableArray());
        }
        var walk = new Walk(spec, problems);
        for (int i = 0; i < spec.Layers.Length; i++)
            walk.Layer(spec.Layers[i], spec.Layers[i].Name ?? i.ToString(CultureInfo.InvariantCulture), after: spec.Layers.Length - 1 - i);
        var (layers, shape, offset, largest, shapesKnown) = (walk.Layers, walk.Shape, walk.Offset, walk.Largest, walk.ShapesKnown);
        if (layers.Count == 0) shapesKnown = false; // only blocks that gave no layers (their problems are reported, or the compiler's)
        int lastIndex = spec.Layers.Length - 1;

        if (spec.ReadsTokens && layers.Count > 0 && layers[0].Spec is not EmbeddingSpec)
            problems.Add(Problem.OnAttribute(DiagnosticIds.TokensNeedEmbedding, layers[0].Spec.AttributeIndex, name, Num(spec.InputShape[0]), Num(spec.Vocabulary),
                $"layer 0 ({layers[0].Spec.Kind})"));
        if (shapesKnown)
            CheckEveryStateKept(layers, problems);
        var loss = spec.Loss ?? DefaultLoss(spec.Layers[lastIndex], shapesKnown ? shape[shape.Length - 1] : 0);
        if (shapesKnown)
            CheckLoss(spec, loss, OutputLayer(spec), shape[shape.Length - 1], problems);

        if (shapesKnown && (offset > int.MaxValue || largest > int.MaxValue / 4))
        {
            problems.Add(Problem.OnClass(DiagnosticIds.SizeOverflow, name, System.Math.Max(offset, largest).ToString("N0", CultureInfo.InvariantCulture)));
            shapesKnown = false;
        }
        else if (shapesKnown && offset > DiagnosticIds.LargeNetworkParameters)
            problems.Add(Problem.OnClass(DiagnosticIds.NetworkTooLarge, name, offset.ToString("N0", CultureInfo.InvariantCulture),
                (offset * 4 / 1_000_000).ToString("N0", CultureInfo.InvariantCulture),
                DiagnosticIds.LargeNetworkParameters.ToString("N0", CultureInfo.InvariantCulture)));

        if (!shapesKnown)
            return new ShapeResult(null, problems.ToEquatableArray());
        var network = new ShapedNetwork(spec, loss, layers.ToEquatableArray(), new EquatableArray<int>(shape), (int)offset);
        return new ShapeResult(network, problems.ToEquatableArray());
    }

    /// <summary>
    /// Shapes the layers one after another, appending each to <see cref="Layers"/>: a residual block's layers are appended
    /// in its place (once per repeat), followed by its projection when the skip needs one, and the sum.
    /// </summary>
    private sealed class Walk(NetworkSpec spec, List<Problem> problems)
    {
        public readonly List<ShapedLayer> Layers = new();
        public ImmutableArray<int> Shape = spec.InputShape.AsImmutableArray();
        public long Offset;
        public long Largest = Product(spec.InputShape);
        public bool ShapesKnown = spec.InputShape.Length > 0 && spec.InputShape.All(d => d > 0);
        private readonly Dictionary<string, int> prefixes = new();
        private readonly Dictionary<string, int> repeats = new(); // blocks numbered so far under each residual prefix
        private int current = -1; // the layer whose output is the value flowing on (−1: the network's input)
        private ImmutableArray<int> blockInput = ImmutableArray<int>.Empty; // the input shape of the block being shaped

        // Names the local state the way the per-kind rules below read it.
        private List<ShapedLayer> layers => Layers;
        private ImmutableArray<int> shape { get => Shape; set => Shape = value; }
        private long offset { get => Offset; set => Offset = value; }
        private long largest { get => Largest; set => Largest = value; }
        private bool shapesKnown { get => ShapesKnown; set => ShapesKnown = value; }

        public void Layer(LayerSpec layer, string prefix, int after)
        {
            if (layer is ResidualSpec residual)
            {
                Residual(residual, prefix);
                return;
            }
            int i = layers.Count;
            var s = new LayerShaping(layer, i, shape, shapesKnown, after, i > 0 ? layers[i - 1].Spec : null, problems,
                () => ClaimTensorNames(prefixes, prefix, layer, i, problems), i == 0 ? spec.Vocabulary : 0, blockInput);
            layer.Shape(s);
            shapesKnown = s.Known;
            var output = s.Output;
            long weightOffset = 0, biasOffset = 0;
            if (s.Reserved)
            {
                weightOffset = offset;
                offset += s.Weights;
                biasOffset = offset;
                offset += s.Rest;
            }
            if (shapesKnown)
            {
                long length = 1;
                foreach (int d in output) length *= d;
                largest = System.Math.Max(largest, length);
            }
            layers.Add(new ShapedLayer(layer, i, new EquatableArray<int>(shape), new EquatableArray<int>(output), prefix,
                (int)System.Math.Min(weightOffset, int.MaxValue), (int)System.Math.Min(biasOffset, int.MaxValue), ImmutableArray.Create(current).ToEquatableArray()));
            shape = output;
            current = i;
        }

        // The block's layers once per repeat, each repeat's input added back to its output (projected when the shape changes).
        private void Residual(ResidualSpec residual, string prefix)
        {
            // A block's layers are written once per repeat: a count no network needs would only stall the IDE.
            long layersAfter = layers.Count + (long)residual.Repeat * (CountLayers(residual.Body) + 2);
            if (layersAfter > MaxLayers)
            {
                problems.Add(Problem.OnArgument(DiagnosticIds.TooManyLayers, residual.AttributeIndex, "Repeat", -1, spec.ClassName,
                    layersAfter.ToString("N0", CultureInfo.InvariantCulture), MaxLayers.ToString("N0", CultureInfo.InvariantCulture)));
                shapesKnown = false;
                return;
            }
            int problemsBefore = problems.Count;
            try
            {
                Repeats(residual, prefix);
            }
            finally
            {
                // What is wrong in the block's layers is shown on the block's argument, not on a [Residual] argument that
                // happens to share a name with the inner attribute's.
                for (int k = problemsBefore; k < problems.Count; k++)
                    if (problems[k].AttributeIndex == residual.AttributeIndex)
                        problems[k] = Relocate(residual, problems[k]);
            }
        }

        // A block's problem on the argument of its [Residual] or [Sequential] that names the block; a transformer encoder's
        // on its heads or feed-forward width, or on the attribute.
        private static Problem Relocate(ResidualSpec residual, Problem problem)
        {
            if (!residual.Encoder)
                return problem.Argument is null or "block" ? problem : problem with { Argument = "block", ArgumentPosition = 0 };
            return problem.Argument switch
            {
                null or "layers" or "feedForward" => problem,
                "heads" => problem with { ArgumentPosition = 1 },
                "units" => problem with { Argument = "feedForward", ArgumentPosition = 2 },
                _ => problem with { Argument = null, ArgumentPosition = -1 },
            };
        }

        private const int MaxLayers = 10_000;

        private static long CountLayers(EquatableArray<LayerSpec> body)
        {
            long count = 0;
            foreach (var layer in body)
                count += layer is ResidualSpec inner ? (long)inner.Repeat * (CountLayers(inner.Body) + 2) : 1;
            return count;
        }

        private void Repeats(ResidualSpec residual, string prefix)
        {
            repeats.TryGetValue(prefix, out int numbered);
            repeats[prefix] = numbered + residual.Repeat;
            for (int r = 0; r < residual.Repeat && shapesKnown; r++)
            {
                string block = residual.Nameless ? prefix : prefix + "." + residual.Segment + (numbered + r).ToString(CultureInfo.InvariantCulture);
                int input = current;
                var inputShape = shape;
                var outerBlockInput = blockInput;
                blockInput = inputShape;
                for (int k = 0; k < residual.Body.Length && shapesKnown; k++)
                    Layer(residual.Body[k], residual.Body[k] is ResidualSpec { Nameless: true } ? block : block + "." + (residual.Body[k].Name ?? k.ToString(CultureInfo.InvariantCulture)),
                        after: residual.Body.Length - k);
                blockInput = outerBlockInput;
                if (!shapesKnown || residual.Body.Length == 0) return;
                if (!residual.Skip) continue; // [Sequential]: the block's layers in place
                int main = current;
                var outputShape = shape;
                int skip = input;
                if (!outputShape.SequenceEqual(inputShape))
                {
                    var projection = Projection(residual, inputShape, outputShape);
                    if (projection is null)
                    {
                        shapesKnown = false;
                        return;
                    }
                    current = input;
                    shape = inputShape;
                    int before = problems.Count;
                    Layer(projection, block + ".downsample.0", after: 1);
                    // A strided 1×1 projection skips rows by design (as PyTorch's downsample): not the user's to fix.
                    for (int k = problems.Count - 1; k >= before; k--)
                        if (problems[k].Id == DiagnosticIds.StrideLeavesInputUnused) problems.RemoveAt(k);
                    if (!shapesKnown) return;
                    skip = current;
                }
                layers.Add(new ShapedLayer(new AddSpec(residual.AttributeIndex, residual.Activation), layers.Count, new EquatableArray<int>(outputShape),
                    new EquatableArray<int>(outputShape), block, 0, 0, ImmutableArray.Create(main, skip).ToEquatableArray()));
                shape = outputShape;
                current = layers.Count - 1;
            }
        }

        // The skip's projection from the block's input shape to its output's, as PyTorch's ResNet downsample: a 1×1 convolution
        // with the stride for images, a dense layer otherwise; null (and the problem reported) when none fits.
        private LayerSpec? Projection(ResidualSpec residual, ImmutableArray<int> input, ImmutableArray<int> output)
        {
            string what = $"the residual block '{residual.Block}' (layer {Num(layers.Count)})";
            if (input.Length != output.Length)
            {
                problems.Add(Problem.OnArgument(DiagnosticIds.ResidualChangesRank, residual.AttributeIndex, "block", 0, what, Join(input), Join(output),
                    Num(input.Length), Num(output.Length)));
                return null;
            }
            if (input.Length == 3)
            {
                // The smallest stride that turns both sides into the output's (9 → 5 takes 2, as a stride-2 block gives).
                for (int stride = 1; stride <= input[1]; stride++)
                    if ((input[1] - 1) / stride + 1 == output[1] && (input[2] - 1) / stride + 1 == output[2])
                        return new Conv2DSpec(residual.AttributeIndex, null, output[0], 1, 1, 1, stride, 0, ActivationKind.Identity, 0);
                problems.Add(Problem.OnArgument(DiagnosticIds.ResidualCannotProject, residual.AttributeIndex, "block", 0, what, Join(input), Join(output),
                    "a 1×1 convolution with one stride on both sides cannot turn its input's sides into its output's"));
                return null;
            }
            for (int axis = 0; axis < input.Length - 1; axis++)
                if (input[axis] != output[axis])
                {
                    problems.Add(Problem.OnArgument(DiagnosticIds.ResidualCannotProject, residual.AttributeIndex, "block", 0, what, Join(input), Join(output),
                        $"a dense projection changes only the last axis, but axis {Num(axis)} goes from {Num(input[axis])} to {Num(output[axis])}"));
                    return null;
                }
            return new DenseSpec(residual.AttributeIndex, null, output[output.Length - 1], ActivationKind.Identity, 0);
        }
    }

    // A layer with weights names its tensors '{prefix}.weight' and '{prefix}.bias'; two layers may not share a prefix.
    private static void ClaimTensorNames(Dictionary<string, int> prefixes, string prefix, LayerSpec layer, int index, List<Problem> problems)
    {
        if (prefixes.TryGetValue(prefix, out int other))
            problems.Add(Problem.OnArgument(DiagnosticIds.DuplicateTensorName, layer.AttributeIndex, "Name", -1, Num(index), prefix, Num(other)));
        else
            prefixes[prefix] = index;
    }

    private static string Join(ImmutableArray<int> shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    // The last recurrent layer returns every state, and what follows never picks one: either every later layer works per
    // step (the network predicts at every step), or a Flatten joins all the states into one vector. Both are legitimate
    // (a tagger; a fixed-length reader), and both are what a forgotten ReturnSequences = false looks like: a suggestion.
    private static void CheckEveryStateKept(List<ShapedLayer> layers, List<Problem> problems)
    {
        int r = layers.FindLastIndex(l => l.IsRecurrent);
        if (r < 0 || layers[r].Spec is not RecurrentSpec { ReturnSequences: true }) return;
        var recurrent = layers[r];
        string steps = Num(recurrent.InputShape[0]);
        string? what = null;
        for (int i = r + 1; i < layers.Count && what is null; i++)
            if (layers[i].Spec is FlattenSpec)
                what = $"layer {Num(i)} (Flatten) joins all of them into one vector of {Num(layers[i].OutputShape[0])}";
            else if (layers[i].Spec is not (DenseSpec or DropoutSpec))
                return;
        what ??= $"the network predicts at every step: its output is ({steps}, {Num(layers[layers.Count - 1].OutFeatures)}) per sample";
        problems.Add(Problem.OnArgument(DiagnosticIds.EveryStateKept, recurrent.Spec.AttributeIndex, "ReturnSequences", -1,
            Num(r), recurrent.Spec.Kind, steps, what));
    }

    /// <summary>Without [Loss]: softmax cross-entropy for several raw outputs, mean squared error otherwise.</summary>
    public static LossKindSpec DefaultLoss(LayerSpec last, int outputs)
        => outputs > 1 && last is DenseSpec { Activation: ActivationKind.Identity }
            ? LossKindSpec.SoftmaxCrossEntropy
            : LossKindSpec.MeanSquaredError;

    // The layer whose values the loss sees: the last one, looking through Dropout and Flatten, which pass values on unchanged.
    private static int OutputLayer(NetworkSpec spec)
    {
        int i = spec.Layers.Length - 1;
        while (i > 0 && spec.Layers[i] is DropoutSpec or FlattenSpec) i--;
        return i;
    }

    private static void CheckLoss(NetworkSpec spec, LossKindSpec loss, int outputIndex, int outputs, List<Problem> problems)
    {
        if (spec.LossAttributeIndex < 0) return;
        var layer = spec.Layers[outputIndex];
        string what = $"layer {Num(outputIndex)} ({layer.Kind})";
        bool recurrent = layer is RecurrentSpec;
        // A recurrent layer's outputs are hidden states, squashed into (-1, 1) by tanh: never logits.
        var activation = recurrent ? ActivationKind.Tanh : layer.OutputActivation;
        string applies = recurrent
            ? $"the last layer, {what}, outputs hidden states squashed into (-1, 1) by tanh; add a [Dense] layer after it to output logits"
            : $"the last layer applies {activation}; remove the activation";
        string? reason = null;
        switch (loss)
        {
            case LossKindSpec.SoftmaxCrossEntropy when outputs < 2:
                reason = recurrent
                    ? $"it needs at least 2 outputs to choose between, but the network has {outputs}: the last layer, {what}, has {Num(((RecurrentSpec)layer).Units)} unit(s); for a yes/no output use BinaryCrossEntropyWithLogits after a [Dense(1)]"
                    : $"it needs at least 2 outputs to choose between, but the network has {outputs}; for a yes/no output use BinaryCrossEntropyWithLogits";
                break;
            case LossKindSpec.SoftmaxCrossEntropy when activation == ActivationKind.Softmax:
                reason = "it applies softmax itself, and the last layer already has Softmax; remove the activation so the network outputs logits";
                break;
            case LossKindSpec.SoftmaxCrossEntropy when activation != ActivationKind.Identity:
                reason = "it expects logits, but " + applies;
                break;
            case LossKindSpec.BinaryCrossEntropyWithLogits when activation == ActivationKind.Softmax:
                reason = "it expects independent logits, but the last layer applies Softmax; remove the activation (or use SoftmaxCrossEntropy for one class out of several)";
                break;
            case LossKindSpec.BinaryCrossEntropyWithLogits when activation == ActivationKind.Sigmoid:
                reason = "it applies the sigmoid itself, and the last layer already has Sigmoid; remove the activation so the network outputs logits";
                break;
            case LossKindSpec.BinaryCrossEntropyWithLogits when activation != ActivationKind.Identity:
                reason = "it expects logits, but " + applies;
                break;
        }
        if (reason is not null)
            problems.Add(Problem.OnArgument(DiagnosticIds.LossMismatch, spec.LossAttributeIndex, "kind", 0, loss.ToString(), reason));
    }
}
