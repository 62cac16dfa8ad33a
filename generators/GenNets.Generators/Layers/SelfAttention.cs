using System.Collections.Generic;
using System.Globalization;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Shapes.LayerShaping;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary><c>[SelfAttention(heads)]</c>: multi-head scaled dot-product self-attention on (positions, features).</summary>
internal sealed record SelfAttentionSpec(int AttributeIndex, string? Name, int Heads, bool Causal, int HeadsArgument = 0) : LayerSpec(AttributeIndex, Name)
{
    public override string Kind => "SelfAttention";
    public override bool HasTensors => true;

    public static LayerSpec Read(AttributeReading r)
    {
        bool causal = false;
        foreach (var named in r.Named)
            if (named.Key == "Causal") causal = named.Value.Value is true;
        return new SelfAttentionSpec(r.Index, r.Name, AttributeReading.Int(r.Arg(0)), causal);
    }

    // (positions, features) in and out. Parameters: in_proj_weight [3d, d] at the weight's offset; in_proj_bias [3d],
    // out_proj.weight [d, d] and out_proj.bias [d] from the bias's.
    public override void Shape(LayerShaping s)
    {
        s.ClaimTensorNames();
        if (Heads <= 0)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, "heads", HeadsArgument, $"The heads of {s.What}", Num(Heads)));
            s.Fail();
        }
        if (!s.Known) return;
        if (s.Input.Length != 2)
        {
            s.Report(Problem.OnAttribute(DiagnosticIds.AttentionNeedsPositions, AttributeIndex, Num(s.Index), Kind, Join(s.Input), Num(s.Input.Length)));
            s.Fail();
            return;
        }
        int d = s.Input[1];
        if (d % Heads != 0)
        {
            int divisor = Heads;
            while (d % divisor != 0) divisor--; // the largest number of heads up to the one asked for that divides d
            s.Report(Problem.OnArgument(DiagnosticIds.HeadsDoNotDivide, AttributeIndex, "heads", HeadsArgument, Num(s.Index), $"{Kind} {d}", Num(d), Num(Heads),
                Num(d % Heads), Num(divisor)));
            s.Fail();
            return;
        }
        s.Reserve(3L * d * d, 3L * d + (long)d * d + d);
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new SelfAttentionEmitter(layer, last);
}

/// <summary>
/// <c>[SelfAttention]</c>: qkv = x·in_proj_weightᵀ + in_proj_bias; each head's softmax(q·kᵀ/√(d/heads))·v (causal: over
/// the positions up to its own); the heads concatenated, then out_proj. Training keeps qkv, the attention weights and
/// the heads' output; backward goes back through the three in turn, reusing the heads' output buffer for its gradient.
/// </summary>
internal sealed class SelfAttentionEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private SelfAttentionSpec Spec => (SelfAttentionSpec)Layer.Spec;

    private int T => Layer.InputShape[0];

    private int D => Layer.InFeatures;

    private string InWeight(string b) => $"{b}.Slice(Layer{N}WeightOffset, {3 * D * D})";

    private string InBias(string b) => $"{b}.Slice(Layer{N}BiasOffset, {3 * D})";

    private string OutWeight(string b) => $"{b}.Slice(Layer{N}BiasOffset + {3 * D}, {D * D})";

    private string OutBias(string b) => $"{b}.Slice(Layer{N}BiasOffset + {3 * D + D * D}, {D})";

    private string Shape => $"batch, {T}, {D}, {Spec.Heads}, causal: {Bool(Spec.Causal)}";

    private string View(string type, string field, int perSample) => $"new {type}({field}{N}, start * {perSample}, batch * {perSample})";

    public override string Description => $"SelfAttention {D}, {Spec.Heads} heads" + (Spec.Causal ? " causal" : "");

    public override long ForwardFlopsPerSample => 2L * T * 4 * D * D + 2L * 2 * T * T * D;

    public override int[] WeightShape => [3 * D, D];

    public override IEnumerable<TrainingBuffer> KeptBuffers =>
    [
        new TrainingBuffer($"_qkv{N}", 3 * T * D, $"layer {N}: q, k and v of every position"),
        new TrainingBuffer($"_heads{N}", T * D, $"layer {N}: the heads' outputs, concatenated (in backward, their gradient)"),
        new TrainingBuffer($"_weights{N}", Spec.Heads * T * T, $"layer {N}: each head's attention weights"),
        new TrainingBuffer($"_dqkv{N}", 3 * T * D, $"layer {N}: the gradient of q, k and v, in backward"),
    ];

    public override IEnumerable<string> TensorEntries =>
    [
        $"    new({Literal(Layer.TensorPrefix + ".in_proj_weight")}, \"layer {N} ({Description})\", Layer{N}WeightOffset, [{3 * D}, {D}], Decays: true),",
        $"    new({Literal(Layer.TensorPrefix + ".in_proj_bias")}, \"layer {N} ({Description})\", Layer{N}BiasOffset, [{3 * D}], Decays: false),",
        $"    new({Literal(Layer.TensorPrefix + ".out_proj.weight")}, \"layer {N} ({Description})\", Layer{N}BiasOffset + {3 * D}, [{D}, {D}], Decays: true),",
        $"    new({Literal(Layer.TensorPrefix + ".out_proj.bias")}, \"layer {N} ({Description})\", Layer{N}BiasOffset + {3 * D + D * D}, [{D}], Decays: false),",
    ];

    public override string LayerInfoArguments(int firstTensor)
        => $", Weight: s_tensors[{firstTensor}], Bias: s_tensors[{firstTensor + 1}], OutputWeight: s_tensors[{firstTensor + 2}], OutputBias: s_tensors[{firstTensor + 3}], " +
           $"Heads: {Spec.Heads}, Causal: {Bool(Spec.Causal)}";

    // As PyTorch's nn.MultiheadAttention: in_proj_weight Glorot-uniform over [3d, d], out_proj.weight U(±1/√d) (nn.Linear's), biases 0.
    public override void EmitInitialization(IndentedWriter w)
    {
        w.Line($"global::GenNets.Initialization.Fill({InWeight("p")}, global::GenNets.Initializer.GlorotUniform, global::GenNets.Activation.Identity, fanIn: {D}, fanOut: {3 * D}, ref random);");
        w.Line($"global::GenNets.Initialization.Uniform({OutWeight("p")}, {(1 / System.Math.Sqrt(D)).ToString("R", CultureInfo.InvariantCulture)}, ref random);");
    }

    // The input is read whole (into q, k, v) before the output is written: over its input when nothing else reads that.
    public override InferenceOutputKind InferenceOutput(bool inputIsNetworks) => inputIsNetworks ? InferenceOutputKind.New : InferenceOutputKind.InPlace;

    protected override void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse)
        => w.Line($"{Kernels}AttentionLayer.Inference({x}, {InWeight("p")}, {InBias("p")}, {OutWeight("p")}, {OutBias("p")}, {y}, {Shape});");

    public override string EmitTrainingForward(IndentedWriter w, TrainingSite site)
    {
        string y = OutputView(w, Layer);
        w.Line($"{Span} qkv{N} = {View(Span, "_qkv", 3 * T * D)}, heads{N} = {View(Span, "_heads", T * D)}, weights{N} = {View(Span, "_weights", Spec.Heads * T * T)};");
        w.Line($"{Kernels}Gemm.DenseForward({site.Input}, {InWeight("p")}, {InBias("p")}, qkv{N}, batch * {T}, {3 * D}, {D}); // q, k, v");
        w.Line($"{Kernels}Attention.Forward(qkv{N}, heads{N}, weights{N}, {Shape});");
        w.Line($"{Kernels}Gemm.DenseForward(heads{N}, {OutWeight("p")}, {OutBias("p")}, {y}, batch * {T}, {D}, {D}); // out_proj");
        return y;
    }

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        int rows = T;
        w.Line($"{Span} heads{N} = {View(Span, "_heads", T * D)}, dqkv{N} = {View(Span, "_dqkv", 3 * T * D)};");
        w.Line($"{Kernels}Gemm.MultiplyAccumulate(dy, 1, {D}, heads{N}, {OutWeight("g")}, {D}, {D}, batch * {rows}, accumulate: false); // out_proj: dW = dyᵀ·heads");
        w.Line($"{Kernels}Gemm.ColumnSums(dy, {OutBias("g")}, batch * {rows}, {D}); // db = Σ dy");
        w.Line($"{Kernels}Gemm.MultiplyAccumulate(dy, {D}, 1, {OutWeight("p")}, heads{N}, batch * {rows}, {D}, {D}, accumulate: false); // the heads' gradient, over their outputs");
        w.Line($"{Kernels}Attention.Backward({View(RoSpan, "_qkv", 3 * T * D)}, {View(RoSpan, "_weights", Spec.Heads * T * T)}, heads{N}, dqkv{N}, {Shape});");
        w.Line($"{Kernels}Gemm.MultiplyAccumulate(dqkv{N}, 1, {3 * D}, {site.Input}, {InWeight("g")}, {3 * D}, {D}, batch * {rows}, accumulate: false); // in_proj: dW = dqkvᵀ·x");
        w.Line($"{Kernels}Gemm.ColumnSums(dqkv{N}, {InBias("g")}, batch * {rows}, {3 * D});");
        if (site.First)
        {
            w.Line("// The input needs no gradient.");
            return;
        }
        w.Line($"{Span} dx{N} = new {Span}({site.NextGradient(false)}, stretch, batch * {Layer.InputLength});");
        w.Line($"{Kernels}Gemm.MultiplyAccumulate(dqkv{N}, {3 * D}, 1, {InWeight("p")}, dx{N}, batch * {rows}, {D}, {3 * D}, accumulate: false); // dx = dqkv·W_in");
        w.Line($"dy = dx{N};");
    }
}
