using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using GenNets.Generators.Model;

namespace GenNets.Generators.Shapes;

/// <summary>
/// What a layer's shape rule (<see cref="LayerSpec.Shape"/>) sees and decides: the layer's place and input shape, where
/// to report what is wrong, its output shape, and the parameters it takes. The shape engine makes one per layer.
/// </summary>
internal sealed class LayerShaping
{
    private readonly List<Problem> problems;
    private readonly System.Action claimTensorNames;

    public LayerShaping(LayerSpec layer, int index, ImmutableArray<int> input, bool known, int after, LayerSpec? previous, List<Problem> problems,
        System.Action claimTensorNames, int vocabulary = 0, ImmutableArray<int> blockInput = default)
    {
        Vocabulary = vocabulary;
        BlockInput = blockInput.IsDefault ? ImmutableArray<int>.Empty : blockInput;
        Layer = layer;
        Index = index;
        Input = input;
        Output = input;
        Known = known;
        After = after;
        Previous = previous;
        this.problems = problems;
        this.claimTensorNames = claimTensorNames;
    }

    public LayerSpec Layer { get; }

    /// <summary>The layer's index in the expanded network.</summary>
    public int Index { get; }

    /// <summary>The input's shape per sample; meaningful only while <see cref="Known"/>.</summary>
    public ImmutableArray<int> Input { get; }

    /// <summary>The input, or empty when it is not known: what the argument checks that need no shape take.</summary>
    public ImmutableArray<int> KnownInput => Known ? Input : ImmutableArray<int>.Empty;

    /// <summary>Whether every shape so far is known. Once false, the rest of the network is only checked, not shaped.</summary>
    public bool Known { get; private set; }

    /// <summary>Layers after this one in its list (the network's, or the block's).</summary>
    public int After { get; }

    /// <summary>For the first layer of a network that reads token ids, their vocabulary; otherwise 0 (the input is floats).</summary>
    public int Vocabulary { get; }

    /// <summary>The input shape of the innermost block the layer is in (empty outside blocks).</summary>
    public ImmutableArray<int> BlockInput { get; }

    /// <summary>The layer before this one, if any.</summary>
    public LayerSpec? Previous { get; }

    /// <summary>The output's shape per sample: the input's unless the rule says otherwise.</summary>
    public ImmutableArray<int> Output { get; set; }

    /// <summary>Floats of the first tensor (the weight), then of the rest (the bias, and any buffers after it); set by <see cref="Reserve"/>.</summary>
    public long Weights { get; private set; }

    public long Rest { get; private set; }

    public bool Reserved { get; private set; }

    /// <summary>Shapes are no longer known from this layer on.</summary>
    public void Fail() => Known = false;

    public void Report(Problem problem) => problems.Add(problem);

    /// <summary>The layer has tensors named after its prefix: no other layer may have the same prefix.</summary>
    public void ClaimTensorNames() => claimTensorNames();

    /// <summary>The layer's parameters: <paramref name="weights"/> floats at its weight offset, then <paramref name="rest"/> at its bias offset.</summary>
    public void Reserve(long weights, long rest)
    {
        Weights = weights;
        Rest = rest;
        Reserved = true;
    }

    /// <summary>"layer 3 (Conv2D)", as messages name the layer.</summary>
    public string What => $"layer {Num(Index)} ({Layer.Kind})";

    /// <summary>A layer that works on images needs (channels, height, width); otherwise the problem is reported.</summary>
    public bool NeedsImage(ImmutableArray<int> shape)
    {
        if (shape.Length == 3) return true;
        Report(Problem.OnAttribute(DiagnosticIds.WrongInputRank, Layer.AttributeIndex, Num(Index), Layer.Kind, Join(shape), Num(shape.Length),
            "(channels, height, width)", ""));
        return false;
    }

    public static string Join(ImmutableArray<int> shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    public static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}
