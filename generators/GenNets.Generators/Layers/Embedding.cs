using System.Collections.Generic;
using System.Collections.Immutable;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Shapes.LayerShaping;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary><c>[Embedding(dimension)]</c>: a learned vector per token id, right after a [TokenInput].</summary>
internal sealed record EmbeddingSpec(int AttributeIndex, string? Name, int Dimension) : LayerSpec(AttributeIndex, Name)
{
    public override string Kind => "Embedding";
    public override bool HasTensors => true;

    public static LayerSpec Read(AttributeReading r) => new EmbeddingSpec(r.Index, r.Name, AttributeReading.Int(r.Arg(0)));

    // (positions) ids in, (positions, dimension) out; the table [vocabulary, dimension] is the weight.
    public override void Shape(LayerShaping s)
    {
        s.ClaimTensorNames();
        if (Dimension <= 0)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, "dimension", 0, $"The dimension of {s.What}", Num(Dimension)));
            s.Fail();
        }
        if (s.Vocabulary == 0)
        {
            if (s.Known) s.Report(Problem.OnAttribute(DiagnosticIds.EmbeddingNeedsTokens, AttributeIndex, Num(s.Index), Join(s.Input)));
            s.Fail();
        }
        if (!s.Known) return;
        s.Output = ImmutableArray.Create(s.Input[0], Dimension);
        s.Reserve((long)s.Vocabulary * Dimension, 0);
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new EmbeddingEmitter(layer, last);
}

/// <summary>
/// <c>[Embedding]</c>: y[t] = table[id t]. The ids arrive as whole floats in the network's input; the kernel refuses an
/// id outside the vocabulary, naming the sample, the position and the id. Backward adds each position's gradient into
/// its id's row of the table's gradient; the ids need none.
/// </summary>
internal sealed class EmbeddingEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private int Positions => Layer.InputShape[0];

    private int Dimension => Layer.OutFeatures;

    private int Vocabulary => (Layer.BiasOffset - Layer.WeightOffset) / Dimension;

    private string Table(string buffer) => $"{buffer}.Slice(Layer{N}WeightOffset, {Vocabulary * Dimension})";

    private string Sizes => $"batch * {Positions}, {Positions}, {Vocabulary}, {Dimension}";

    public override string Description => $"Embedding {Vocabulary}×{Dimension}";

    public override int[] WeightShape => [Vocabulary, Dimension];

    public override IEnumerable<string> TensorEntries =>
        [$"    new({Literal(Layer.TensorPrefix + ".weight")}, \"layer {N} ({Description})\", Layer{N}WeightOffset, [{Vocabulary}, {Dimension}], Decays: true),"];

    public override string LayerInfoArguments(int firstTensor) => $", Weight: s_tensors[{firstTensor}]";

    public override void EmitInitialization(IndentedWriter w)
        => w.Line($"global::GenNets.Initialization.Gaussian({Table("p")}, 1.0, ref random); // N(0, 1), as PyTorch's nn.Embedding");

    protected override void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse)
        => w.Line($"{Kernels}Embedding.Forward({x}, {Table("p")}, {y}, {Sizes});");

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        w.Line($"{Table("g")}.Clear();");
        w.Line($"{Kernels}Embedding.Backward({site.Input}, dy, {Table("g")}, batch * {Positions}, {Vocabulary}, {Dimension}, {Positions}); // each position's dy into its id's row");
        w.Line("// The ids need no gradient.");
    }
}
