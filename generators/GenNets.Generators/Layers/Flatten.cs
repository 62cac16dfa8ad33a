using System.Collections.Generic;
using System.Collections.Immutable;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary><c>[Flatten]</c>: the tensor read as one vector.</summary>
internal sealed record FlattenSpec(int AttributeIndex) : LayerSpec(AttributeIndex, null)
{
    public override string Kind => "Flatten";

    public static LayerSpec Read(AttributeReading r) => new FlattenSpec(r.Index);

    public override void Shape(LayerShaping s)
    {
        if (s.Known) s.Output = ImmutableArray.Create(ShapeEngine.Product(new EquatableArray<int>(s.Input)));
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new FlattenEmitter(layer, last);
}

/// <summary>
/// <c>[Flatten]</c>: the same floats, read as one vector. It computes nothing and keeps no buffer, unless it is the last
/// layer, whose outputs training keeps in a buffer of their own.
/// </summary>
internal sealed class FlattenEmitter(ShapedLayer layer, bool last) : LayerEmitter(layer, last)
{
    public override string Description => "Flatten";

    public override InferenceOutputKind InferenceOutput(bool inputIsNetworks) => InferenceOutputKind.Alias;

    public override string EmitInference(IndentedWriter w, InferenceSite site)
    {
        if (site.IsLast) w.Line($"{site.Input}.CopyTo(output);");
        return site.Input;
    }

    public override string EmitTrainingForward(IndentedWriter w, TrainingSite site)
    {
        if (!IsLastLayer)
        {
            w.Line($"{RoSpan} y{N} = {site.Input}; // the same floats, read as one vector");
            return $"y{N}";
        }
        string y = OutputView(w, Layer);
        w.Line($"{site.Input}.CopyTo({y}); // the last layer's outputs are kept in their own buffer");
        return y;
    }

    public override void EmitKeptViews(IndentedWriter w, IReadOnlyList<ShapedLayer> layers)
    {
        if (IsLastLayer) base.EmitKeptViews(w, layers);
        else w.Line($"{RoSpan} y{N} = {(N == 0 ? "x" : $"y{layers[N - 1].Index}")}; // the same floats, read as one vector");
    }

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
        => w.Line(site.First ? "// The input needs no gradient." : "// The gradient passes through unchanged: the same floats, read as one vector.");
}
