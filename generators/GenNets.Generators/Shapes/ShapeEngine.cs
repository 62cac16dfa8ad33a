using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using GenNets.Generators.Model;

namespace GenNets.Generators.Shapes;

/// <summary>One layer with every shape and offset resolved.</summary>
internal sealed record ShapedLayer(
    LayerSpec Spec,
    int Index,
    EquatableArray<int> InputShape,
    EquatableArray<int> OutputShape,
    string TensorPrefix,
    int WeightOffset,
    int BiasOffset)
{
    public int InFeatures => InputShape[InputShape.Length - 1];
    public int OutFeatures => OutputShape[OutputShape.Length - 1];
    public int InputLength => ShapeEngine.Product(InputShape);
    public int OutputLength => ShapeEngine.Product(OutputShape);
    /// <summary>Rows the layer's matrix product runs over per sample: 1 for a vector, the positions for a sequence.</summary>
    public int Positions => InputLength / InFeatures;
    public int WeightLength => Spec.Kind == SpecKind.Dense ? OutFeatures * InFeatures : 0;
    public int BiasLength => Spec.Kind == SpecKind.Dense ? OutFeatures : 0;
    public bool HasParameters => Spec.Kind == SpecKind.Dense;
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
        bool shapesKnown = spec.InputShape.Length > 0 && spec.InputShape.All(d => d > 0);

        var layers = new List<ShapedLayer>();
        var shape = spec.InputShape.AsImmutableArray();
        long offset = 0, largest = Product(spec.InputShape);
        var prefixes = new Dictionary<string, int>();
        int lastIndex = spec.Layers.Length - 1;

        for (int i = 0; i < spec.Layers.Length; i++)
        {
            var layer = spec.Layers[i];
            var output = shape;
            long weightOffset = 0, biasOffset = 0;
            string prefix = layer.Name ?? i.ToString(CultureInfo.InvariantCulture);
            switch (layer.Kind)
            {
                case SpecKind.Dense:
                    if (layer.Units <= 0)
                    {
                        problems.Add(Problem.OnArgument(DiagnosticIds.NonPositiveSize, layer.AttributeIndex, "units", 0,
                            $"The units of layer {i} (Dense)", layer.Units.ToString(CultureInfo.InvariantCulture)));
                        shapesKnown = false;
                    }
                    if (layer.Activation == ActivationKind.Softmax && i != lastIndex)
                        problems.Add(Problem.OnArgument(DiagnosticIds.SoftmaxNotLast, layer.AttributeIndex, "activation", 1,
                            i.ToString(CultureInfo.InvariantCulture), "Dense " + layer.Units.ToString(CultureInfo.InvariantCulture),
                            (lastIndex - i).ToString(CultureInfo.InvariantCulture)));
                    if (prefixes.TryGetValue(prefix, out int other))
                        problems.Add(Problem.OnArgument(DiagnosticIds.DuplicateTensorName, layer.AttributeIndex, "Name", -1,
                            i.ToString(CultureInfo.InvariantCulture), prefix, other.ToString(CultureInfo.InvariantCulture)));
                    else
                        prefixes[prefix] = i;
                    if (shapesKnown)
                    {
                        int inFeatures = shape[shape.Length - 1];
                        output = shape.SetItem(shape.Length - 1, layer.Units);
                        weightOffset = offset;
                        offset += (long)layer.Units * inFeatures;
                        biasOffset = offset;
                        offset += layer.Units;
                    }
                    break;
                case SpecKind.Dropout:
                    if (!(layer.Probability >= 0f && layer.Probability < 1f))
                        problems.Add(Problem.OnArgument(DiagnosticIds.DropoutOutOfRange, layer.AttributeIndex, "probability", 0,
                            layer.Probability.ToString("R", CultureInfo.InvariantCulture)));
                    break;
            }
            if (shapesKnown)
            {
                long length = 1;
                foreach (int d in output) length *= d;
                largest = System.Math.Max(largest, length);
            }
            layers.Add(new ShapedLayer(layer, i, new EquatableArray<int>(shape), new EquatableArray<int>(output), prefix,
                (int)System.Math.Min(weightOffset, int.MaxValue), (int)System.Math.Min(biasOffset, int.MaxValue)));
            shape = output;
        }

        var loss = spec.Loss ?? DefaultLoss(spec.Layers[lastIndex], shapesKnown ? shape[shape.Length - 1] : 0);
        var last = spec.Layers[lastIndex];
        var lastDense = spec.Layers.LastOrDefault(l => l.Kind == SpecKind.Dense);
        if (shapesKnown && lastDense is not null)
            CheckLoss(spec, loss, lastDense, shape[shape.Length - 1], problems);

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

    /// <summary>Without [Loss]: softmax cross-entropy for several raw outputs, mean squared error otherwise.</summary>
    public static LossKindSpec DefaultLoss(LayerSpec last, int outputs)
        => outputs > 1 && last.Kind == SpecKind.Dense && last.Activation == ActivationKind.Identity
            ? LossKindSpec.SoftmaxCrossEntropy
            : LossKindSpec.MeanSquaredError;

    private static void CheckLoss(NetworkSpec spec, LossKindSpec loss, LayerSpec lastDense, int outputs, List<Problem> problems)
    {
        if (spec.LossAttributeIndex < 0) return;
        string? reason = null;
        switch (loss)
        {
            case LossKindSpec.SoftmaxCrossEntropy when outputs < 2:
                reason = $"it needs at least 2 outputs to choose between, but the network has {outputs}; for a yes/no output use BinaryCrossEntropyWithLogits";
                break;
            case LossKindSpec.SoftmaxCrossEntropy when lastDense.Activation == ActivationKind.Softmax:
                reason = "it applies softmax itself, and the last layer already has Softmax; remove the activation so the network outputs logits";
                break;
            case LossKindSpec.SoftmaxCrossEntropy when lastDense.Activation != ActivationKind.Identity:
                reason = $"it expects logits, but the last layer applies {lastDense.Activation}; remove the activation";
                break;
            case LossKindSpec.BinaryCrossEntropyWithLogits when lastDense.Activation == ActivationKind.Softmax:
                reason = "it expects independent logits, but the last layer applies Softmax; remove the activation (or use SoftmaxCrossEntropy for one class out of several)";
                break;
            case LossKindSpec.BinaryCrossEntropyWithLogits when lastDense.Activation == ActivationKind.Sigmoid:
                reason = "it applies the sigmoid itself, and the last layer already has Sigmoid; remove the activation so the network outputs logits";
                break;
            case LossKindSpec.BinaryCrossEntropyWithLogits when lastDense.Activation != ActivationKind.Identity:
                reason = $"it expects logits, but the last layer applies {lastDense.Activation}; remove the activation";
                break;
        }
        if (reason is not null)
            problems.Add(Problem.OnArgument(DiagnosticIds.LossMismatch, spec.LossAttributeIndex, "kind", 0, loss.ToString(), reason));
    }
}
