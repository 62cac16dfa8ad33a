using System.Collections.Generic;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary><c>[LayerNorm]</c>: normalisation over the last axis, with a weight and a bias per feature.</summary>
internal sealed record LayerNormSpec(int AttributeIndex, string? Name) : LayerSpec(AttributeIndex, Name)
{
    public override string Kind => "LayerNorm";
    public override bool HasTensors => true;

    public static LayerSpec Read(AttributeReading r) => new LayerNormSpec(r.Index, r.Name);

    // Any shape: the last axis is normalised, with a weight (γ) and a bias (β) per feature.
    public override void Shape(LayerShaping s)
    {
        s.ClaimTensorNames();
        if (s.Known) s.Reserve(s.Input[s.Input.Length - 1], s.Input[s.Input.Length - 1]);
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new LayerNormEmitter(layer, last);
}

/// <summary>
/// <c>[LayerNorm]</c> over the last axis, one row per sample (or per position): y = (x − mean)·rstd·γ + β. Training
/// keeps each row's mean and rstd (two doubles, in four floats) for backward.
/// </summary>
internal sealed class LayerNormEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private int Features => Layer.OutFeatures;

    private string Gamma => $"p.Slice(Layer{N}WeightOffset, {Features})";

    private string Beta => $"p.Slice(Layer{N}BiasOffset, {Features})";

    // The rows' means then their rstds, as doubles, in this part's stretch of the statistics buffer.
    private string Statistics(string type) => $"global::System.Runtime.InteropServices.MemoryMarshal.Cast<float, double>(new {type}(_stats{N}, start * {4 * Layer.Positions}, batch * {4 * Layer.Positions}))";

    public override string Description => $"LayerNorm {Features}";

    // Row by row, each read before it is written: over its input when nothing reads that after it.
    public override InferenceOutputKind InferenceOutput(bool inputIsNetworks) => inputIsNetworks ? InferenceOutputKind.New : InferenceOutputKind.InPlace;

    public override int[] WeightShape => [Features];

    public override IEnumerable<TrainingBuffer> KeptBuffers =>
        [new TrainingBuffer($"_stats{N}", 4 * Layer.Positions, $"layer {N}: each row's mean and 1/√(variance + ε), as doubles")];

    // Neither γ nor β decays: weight decay would pull the normalised scale towards zero.
    public override IEnumerable<string> TensorEntries =>
    [
        $"    new({Literal(Layer.TensorPrefix + ".weight")}, \"layer {N} ({Description})\", Layer{N}WeightOffset, [{Features}], Decays: false),",
        $"    new({Literal(Layer.TensorPrefix + ".bias")}, \"layer {N} ({Description})\", Layer{N}BiasOffset, [{Features}], Decays: false),",
    ];

    public override string LayerInfoArguments(int firstTensor) => $", Weight: s_tensors[{firstTensor}], Bias: s_tensors[{firstTensor + 1}]";

    public override void EmitInitialization(IndentedWriter w) => w.Line($"p.Slice(Layer{N}WeightOffset, {Features}).Fill(1f); // γ starts at 1, β at 0");

    protected override void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse)
        => w.Line($"{Kernels}Normalization.LayerNorm({x}, {Gamma}, {Beta}, {y}, {Rows}, {Features});");

    public override string EmitTrainingForward(IndentedWriter w, TrainingSite site)
    {
        string y = OutputView(w, Layer);
        w.Line($"var stats{N} = {Statistics(Span)};");
        w.Line($"{Kernels}Normalization.LayerNorm({site.Input}, {Gamma}, {Beta}, {y}, stats{N}.Slice(0, {Rows}), stats{N}.Slice({Rows}, {Rows}), {Rows}, {Features});");
        return y;
    }

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        w.Line($"var stats{N} = {Statistics(RoSpan)};");
        // The input's gradient is written over dy, row by row (the kernel reads a row before it writes it).
        w.Line(site.First ? "// The input needs no gradient; dy is written over all the same." : "// dx, written over dy.");
        w.Line($"{Kernels}Normalization.LayerNormBackward({site.Input}, {Gamma}, stats{N}.Slice(0, {Rows}), stats{N}.Slice({Rows}, {Rows}), dy, dy, " +
            $"g.Slice(Layer{N}WeightOffset, {Features}), g.Slice(Layer{N}BiasOffset, {Features}), {Rows}, {Features}, accumulate: false);");
    }
}
