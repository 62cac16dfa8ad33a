using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Shapes;
using Microsoft.CodeAnalysis;

namespace GenNets.Generators.Layers;

/// <summary>
/// <c>[Residual(typeof(B))]</c>: the layers of the [Block] class <see cref="Block"/> (<see cref="Body"/>, read from its
/// attributes), applied <see cref="Repeat"/> times, each with its input added back after it (unless <see cref="Skip"/> is false:
/// <c>[Sequential(typeof(B))]</c>, the block's layers in place). The body's layers carry the index of
/// the [Residual] attribute: what is wrong in them is reported where the block is used, where its shapes are known.
/// Not a layer: the shape engine expands it into the block's layers, the skip's projection and an <see cref="AddSpec"/>.
/// </summary>
/// <param name="Nameless">The block adds no level to its layers' names (neither its own name nor the repeat's number): a
/// transformer layer's two sublayers, whose tensors PyTorch names <c>layers.0.norm1</c>, not <c>layers.0.0.norm1</c>.</param>
/// <param name="Segment">Text between the block's name and each repeat's number (<c>layers.</c> for a transformer encoder).</param>
/// <param name="Encoder">The block is a [TransformerEncoder]'s: what is wrong in it is reported on that attribute's arguments.</param>
internal sealed record ResidualSpec(int AttributeIndex, string? Name, string Block, EquatableArray<LayerSpec> Body, ActivationKind Activation, int Repeat, bool Skip = true,
    bool Nameless = false, string Segment = "", bool Encoder = false)
    : LayerSpec(AttributeIndex, Name)
{
    public override string Kind => "Residual";
    public override ActivationKind OutputActivation => Activation;
    public override bool HasTensors => Body.Any(l => l.HasTensors);

    // Expanded by the shape engine (ShapeEngine's Walk.Residual) before any rule or emitter could see it.
    public override void Shape(LayerShaping s) { }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => throw new System.InvalidOperationException("A residual block is expanded into layers before emitting.");

    public static ResidualSpec ReadSequential(AttributeReading r) => ReadResidual(r) with { Skip = false };

    // A residual block's layers are the attributes of its [Block] class, read here as at the use site: blocks in the
    // block are read in turn, and a block met again on the way (the chain r.Enclosing) is reported instead of read forever.
    public static ResidualSpec ReadResidual(AttributeReading r)
    {
        int index = r.Index, repeat = 1;
        var activation = ActivationKind.Identity;
        var problems = r.Problems;
        foreach (var named in r.Named)
            switch (named.Key)
            {
                case "Activation": activation = r.Activation(named.Value, "Activation", -1); break;
                case "Repeat": repeat = AttributeReading.Int(named.Value); break;
            }
        if (repeat <= 0)
            problems.Add(Problem.OnArgument(DiagnosticIds.NonPositiveSize, index, "Repeat", -1, "The repeat count of a residual block", repeat.ToString(CultureInfo.InvariantCulture)));
        var body = new List<LayerSpec>();
        var blockArgument = r.Arg(0);
        if (blockArgument.Value is not INamedTypeSymbol block)
        {
            // typeof(null!) or a null: a block that is not one (a type that does not resolve is the compiler's to report).
            if (blockArgument.Kind != TypedConstantKind.Error && blockArgument.Value is null)
                problems.Add(Problem.OnArgument(DiagnosticIds.NotABlock, index, "block", 0, "null"));
            return new ResidualSpec(index, r.Name, "?", body.ToEquatableArray(), activation, repeat);
        }
        if (block.TypeKind == TypeKind.Error)
            return new ResidualSpec(index, r.Name, block.Name, body.ToEquatableArray(), activation, repeat);
        string blockName = block.Name;
        if (!block.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == NetworkParser.BlockAttributeName))
            problems.Add(Problem.OnArgument(DiagnosticIds.NotABlock, index, "block", 0, blockName));
        else if (r.Enclosing.Contains(block, SymbolEqualityComparer.Default))
            problems.Add(Problem.OnArgument(DiagnosticIds.RecursiveBlock, index, "block", 0, blockName,
                string.Join(" → ", r.Enclosing.SkipWhile(t => !SymbolEqualityComparer.Default.Equals(t, block)).Select(t => t.Name).Append(blockName))));
        else
        {
            int before = problems.Count;
            var chain = r.Enclosing.Add(block);
            foreach (var inner in block.GetAttributes())
            {
                r.CancellationToken.ThrowIfCancellationRequested();
                if (!NetworkParser.IsGenNetsAttribute(inner) || inner.AttributeClass!.Name == "BlockAttribute") continue;
                if (inner.AttributeConstructor is null || inner.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)) continue;
                if (inner.AttributeClass.Name is "InputAttribute" or "TokenInputAttribute" or "LossAttribute")
                    problems.Add(Problem.OnArgument(DiagnosticIds.BlockDeclaresInputOrLoss, index, "block", 0, blockName, inner.AttributeClass.Name.Replace("Attribute", "")));
                else
                    body.Add(NetworkParser.ReadLayer(new AttributeReading(inner, index, body.Count, problems, chain, r.CancellationToken)));
            }
            // What is wrong inside the block is shown where it is used, on the block's argument: not on an argument of the
            // [Residual] that happens to share a name with the inner attribute's.
            for (int k = before; k < problems.Count; k++)
                problems[k] = problems[k] with { Argument = "block", ArgumentPosition = 0 };
            if (body.Count == 0)
                problems.Add(Problem.OnArgument(DiagnosticIds.EmptyBlock, index, "block", 0, blockName));
        }
        return new ResidualSpec(index, r.Name, blockName, body.ToEquatableArray(), activation, repeat);
    }
}
