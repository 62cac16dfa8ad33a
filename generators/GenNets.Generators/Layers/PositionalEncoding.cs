using System.Collections.Generic;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Shapes.LayerShaping;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary>
/// <c>[PositionalEncoding]</c>: each position's code added to (positions, features): the fixed sinusoids, or with
/// <see cref="Learned"/> a learned table of <see cref="Length"/> rows (0: the input's positions).
/// </summary>
internal sealed record PositionalEncodingSpec(int AttributeIndex, string? Name, bool Learned, int Length) : LayerSpec(AttributeIndex, Name)
{
    public override string Kind => "PositionalEncoding";
    public override bool HasTensors => Learned;

    public static LayerSpec Read(AttributeReading r)
    {
        bool learned = false;
        int length = 0;
        foreach (var named in r.Named)
            if (named.Key == "Learned") learned = named.Value.Value is true;
            else if (named.Key == "Length") length = AttributeReading.Int(named.Value);
        return new PositionalEncodingSpec(r.Index, r.Name, learned, length);
    }

    public override void Shape(LayerShaping s)
    {
        if (Learned) s.ClaimTensorNames();
        if (Length < 0)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, "Length", -1, $"The table length of {s.What}", Num(Length)));
            s.Fail();
        }
        if (!s.Known) return;
        if (s.Input.Length != 2)
        {
            s.Report(Problem.OnAttribute(DiagnosticIds.WrongInputRank, AttributeIndex, Num(s.Index), Kind, Join(s.Input), Num(s.Input.Length), "(positions, features)", ""));
            s.Fail();
            return;
        }
        if (Learned && Length > 0 && Length < s.Input[0])
        {
            s.Report(Problem.OnArgument(DiagnosticIds.PositionalTableTooShort, AttributeIndex, "Length", -1, Num(s.Index), Num(Length), Num(s.Input[0])));
            s.Fail();
            return;
        }
        if (Learned) s.Reserve((long)(Length > 0 ? Length : s.Input[0]) * s.Input[1], 0);
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new PositionalEncodingEmitter(layer, last);
}

/// <summary>
/// <c>[PositionalEncoding]</c>: y = x + table[0..positions). The sinusoidal table is computed once, at type
/// initialisation, into a static array; a learned one is a parameter, whose gradient is dy summed over the batch.
/// The input's gradient is dy itself.
/// </summary>
internal sealed class PositionalEncodingEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private PositionalEncodingSpec Spec => (PositionalEncodingSpec)Layer.Spec;

    private int Positions => Layer.InputShape[0];

    private int Features => Layer.InFeatures;

    /// <summary>Rows of the learned table (at least the positions).</summary>
    private int TableRows => Spec.Length > 0 ? Spec.Length : Positions;

    private string Table => Spec.Learned ? $"p.Slice(Layer{N}WeightOffset, {Positions * Features})" : $"s_positions{N}";

    public override string Description => $"PositionalEncoding {(Spec.Learned ? "learned" : "sinusoidal")} {Positions}×{Features}";

    public override int[] WeightShape => Spec.Learned ? [TableRows, Features] : [];

    public override IEnumerable<string> TensorEntries => Spec.Learned
        ? [$"    new({Literal(Layer.TensorPrefix + ".weight")}, \"layer {N} ({Description})\", Layer{N}WeightOffset, [{TableRows}, {Features}], Decays: false),"]
        : [];

    public override string LayerInfoArguments(int firstTensor) => Spec.Learned ? $", Weight: s_tensors[{firstTensor}]" : "";

    public override void EmitStatics(IndentedWriter w)
    {
        if (Spec.Learned) return;
        w.Line($"// Layer {N}: PE[t, 2i] = sin(t / 10000^(2i/{Features})), PE[t, 2i+1] = cos(…), for t < {Positions}.");
        w.Line($"private static readonly float[] s_positions{N} = {Kernels}PositionalEncoding.SinusoidalTable({Positions}, {Features});");
    }

    public override void EmitInitialization(IndentedWriter w)
    {
        if (Spec.Learned)
            w.Line($"global::GenNets.Initialization.Gaussian(p.Slice(Layer{N}WeightOffset, {TableRows * Features}), 0.02, ref random); // N(0, 0.02²), as GPT-2's");
    }

    // Element by element: over its input when nothing else reads that.
    public override InferenceOutputKind InferenceOutput(bool inputIsNetworks) => inputIsNetworks ? InferenceOutputKind.New : InferenceOutputKind.InPlace;

    protected override void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse)
        => w.Line($"{Kernels}PositionalEncoding.Add({x}, {Table}, {y}, batch, {Positions}, {Features});");

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        if (Spec.Learned)
        {
            w.Line($"{Kernels}PositionalEncoding.LearnedBackward(dy, g.Slice(Layer{N}WeightOffset, {Positions * Features}), batch, {Positions}, {Features}); // Σ over the batch");
            if (TableRows > Positions) w.Line($"g.Slice(Layer{N}WeightOffset + {Positions * Features}, {(TableRows - Positions) * Features}).Clear(); // rows past the input's positions");
        }
        w.Line(site.First ? "// The input needs no gradient." : "// The input's gradient is dy, unchanged.");
    }
}
