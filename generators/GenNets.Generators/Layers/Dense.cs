using System.Collections.Generic;
using System.Globalization;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary><c>[Dense(units, activation)]</c>: fully connected on the last axis.</summary>
/// <param name="KeepsWidth">Units are the features of the input of the block the layer is in (a transformer layer's
/// second feed-forward layer, whose width is the model's, known only where the layer is used).</param>
internal sealed record DenseSpec(int AttributeIndex, string? Name, int Units, ActivationKind Activation, int Initializer, bool KeepsWidth = false)
    : LayerSpec(AttributeIndex, Name)
{
    public override string Kind => "Dense";
    public override ActivationKind OutputActivation => Activation;
    public override bool HasTensors => true;

    public static LayerSpec Read(AttributeReading r)
    {
        var activation = r.Count > 1 ? r.Activation(r.Arg(1), "activation", 1) : ActivationKind.Identity;
        int init = 0;
        foreach (var named in r.Named)
            if (named.Key == "Init") init = r.Initializer(named.Value, "Init", -1);
        return new DenseSpec(r.Index, r.Name, AttributeReading.Int(r.Arg(0)), activation, init);
    }

    // A vector's (or each position's) features become Units; an image must be flattened first.
    public override void Shape(LayerShaping s)
    {
        if (KeepsWidth)
        {
            var width = s.BlockInput.IsEmpty ? s.Input : s.BlockInput; // back to the width the block started from
            if (s.Known) (this with { Units = width[width.Length - 1], KeepsWidth = false }).Shape(s);
            else s.ClaimTensorNames();
            return;
        }
        if (Units <= 0)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, "units", 0, $"The units of layer {s.Index} (Dense)", Units.ToString(CultureInfo.InvariantCulture)));
            s.Fail();
        }
        if (Activation == ActivationKind.Softmax && s.After > 0)
            s.Report(Problem.OnArgument(DiagnosticIds.SoftmaxNotLast, AttributeIndex, "activation", 1, LayerShaping.Num(s.Index), "Dense " + LayerShaping.Num(Units), LayerShaping.Num(s.After)));
        s.ClaimTensorNames();
        if (s.Known && s.Input.Length == 3)
        {
            s.Report(Problem.OnAttribute(DiagnosticIds.NeedsFlatten, AttributeIndex, LayerShaping.Num(s.Index), LayerShaping.Join(s.Input),
                ShapeEngine.Product(new EquatableArray<int>(s.Input)).ToString(CultureInfo.InvariantCulture)));
            s.Fail();
        }
        if (!s.Known) return;
        int inFeatures = s.Input[s.Input.Length - 1];
        s.Output = s.Input.SetItem(s.Input.Length - 1, Units);
        s.Reserve((long)Units * inFeatures, Units);
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new DenseEmitter(layer, last);
}

/// <summary>
/// <c>[Dense]</c>: y = act(x·Wᵀ + b) on the last axis, one row per sample (or per position of a sequence). Its batched
/// inference in strips and its layer-by-layer backward over threads are the drivers' (Emitter.Strips), since they span
/// every dense layer of a network.
/// </summary>
internal sealed class DenseEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private DenseSpec Spec => (DenseSpec)Layer.Spec;

    public int WeightLength => Layer.OutFeatures * Layer.InFeatures;

    public override string Description
        => $"Dense {Layer.InFeatures}→{Layer.OutFeatures}" + (Spec.Activation == ActivationKind.Identity ? "" : " " + Spec.Activation);

    public override long ForwardFlopsPerSample => 2L * Layer.Positions * Layer.InFeatures * Layer.OutFeatures;

    public override int[] WeightShape => [Layer.OutFeatures, Layer.InFeatures];

    public override IEnumerable<TrainingBuffer> KeptBuffers => PreActivationBuffer;

    public override IEnumerable<string> TensorEntries => WeightAndBias($"{Layer.OutFeatures}, {Layer.InFeatures}", Layer.OutFeatures);

    public override string LayerInfoArguments(int firstTensor)
        => $", global::GenNets.Activation.{Spec.Activation}, Weight: s_tensors[{firstTensor}], Bias: s_tensors[{firstTensor + 1}]";

    public override void EmitInitialization(IndentedWriter w)
        => w.Line($"global::GenNets.Initialization.Fill(p.Slice(Layer{N}WeightOffset, {WeightLength}), (global::GenNets.Initializer){Spec.Initializer}, global::GenNets.Activation.{Spec.Activation}, fanIn: {Layer.InFeatures}, fanOut: {Layer.OutFeatures}, ref random);");

    public override string EmitTrainingForward(IndentedWriter w, TrainingSite site)
    {
        string y = OutputView(w, Layer);
        if (KeepsPreActivation)
        {
            w.Line($"{Span} z{N} = new {Span}(_z{N}, start * {Layer.OutputLength}, batch * {Layer.OutputLength});");
            EmitForward(w, site.Input, $"z{N}", y, reverse: null);
        }
        else
            EmitForward(w, site.Input, y, y, reverse: null);
        return y;
    }

    public override (string Weight, string Bias, int PerChannel)? FoldableTensors
        => ($"p.Slice(Layer{N}WeightOffset, {WeightLength})", $"p.Slice(Layer{N}BiasOffset, {Layer.OutFeatures})", Layer.InFeatures);

    // Inference has its own batch path (strips kept from layer to layer); training keeps row-major outputs. In inference a
    // batch normalisation after it may be folded in: its weights then, and its activation.
    protected override void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse)
    {
        string weight = $"p.Slice(Layer{N}WeightOffset, {WeightLength})", bias = $"p.Slice(Layer{N}BiasOffset, {Layer.OutFeatures})";
        ActivationKind? activation = null;
        if (reverse is not null && Folded is { } f) (weight, bias, activation) = (f.Weight, f.Bias, f.Activation);
        // A sequence has rows enough for the packed strips even for one sample.
        if (reverse is null || Layer.Positions > 1)
            w.Line($"{Kernels}Gemm.DenseForward({x}, {weight}, {bias}, {pre}, {Rows}, {Layer.OutFeatures}, {Layer.InFeatures});");
        else
            w.Line($"{Kernels}Gemm.MultiplyTransposed({x}, {weight}, {bias}, {pre}, {Rows}, {Layer.OutFeatures}, {Layer.InFeatures}, {reverse});");
        EmitActivation(w, pre, y, Rows, activation);
    }

    /// <summary>In inference, the output stays in strips for the next dense layer (<see cref="JoinsByStrips"/>).</summary>
    public bool StripsOut { get; set; }

    /// <summary>In inference, the input comes in strips from the dense layer before.</summary>
    public bool StripsIn { get; set; }

    // Positions from which joining by strips pays even for one sample: fewer leave most of a 16-row strip padding
    // (the runtime's dense product takes strips from 12 rows on, too).
    private const int JoinMinimumPositions = 12;

    /// <summary>
    /// Whether this layer's inference output may stay in strips for <paramref name="next"/>, which reads it: both run over
    /// the same positions, enough of them to fill the strips for one sample, and the activation between is elementwise.
    /// </summary>
    public bool JoinsByStrips(DenseEmitter next)
        => next.Layer.Sources[0] == Layer.Index && Layer.Positions == next.Layer.Positions && Layer.Positions >= JoinMinimumPositions
           && Spec.Activation != ActivationKind.Softmax;

    public override string EmitInference(IndentedWriter w, InferenceSite site)
    {
        string weight = $"p.Slice(Layer{N}WeightOffset, {WeightLength})", bias = $"p.Slice(Layer{N}BiasOffset, {Layer.OutFeatures})";
        if (StripsOut)
        {
            w.Line($"// The output stays in strips of 16 rows for layer {N + 1}: neither W nor these {Layer.OutFeatures} outputs are laid out row-major.");
            w.Line($"{Span} strips{N} = {Kernels}Gemm.DenseForwardToStrips({site.Input}, {weight}, {bias}, {Rows}, {Layer.OutFeatures}, {Layer.InFeatures});");
            if (Spec.Activation != ActivationKind.Identity) w.Line("// The activation runs over the strips: the last strip's padding is computed too, and never read.");
            EmitActivation(w, $"strips{N}", $"strips{N}", Rows);
            return $"strips{N}";
        }
        if (StripsIn)
        {
            string y = site.Output(Layer);
            w.Line($"{Kernels}Gemm.DenseForwardFromStrips({site.Input}, {weight}, {bias}, {y}, {Rows}, {Layer.OutFeatures}, {Layer.InFeatures}); // the input in strips");
            EmitActivation(w, y, y, Rows);
            return y;
        }
        return base.EmitInference(w, site);
    }

    public override bool ReadsOutputGradientOnly => Layer.Activation == ActivationKind.Identity;

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        if (step.ReluTakenNote is { } note)
            w.Line(note);
        else
            EmitActivationBackward(w, Layer, $"y{N}", $"z{N}", Rows, "dy");
        w.Line($"{Kernels}Gemm.MultiplyAccumulate(dy, 1, {Layer.OutFeatures}, {site.Input}, g.Slice(Layer{N}WeightOffset, {WeightLength}), {Layer.OutFeatures}, {Layer.InFeatures}, {Rows}, accumulate: false); // dW = dyᵀ·x");
        w.Line($"{Kernels}Gemm.ColumnSums(dy, g.Slice(Layer{N}BiasOffset, {Layer.OutFeatures}), {Rows}, {Layer.OutFeatures}); // db = Σ dy");
        if (site.First)
        {
            w.Line("// The input needs no gradient.");
            return;
        }
        w.Line($"{Span} dx{N} = new {Span}({site.NextGradient(false)}, stretch, batch * {Layer.InputLength});");
        w.Line($"{Kernels}Gemm.MultiplyAccumulate(dy, {Layer.OutFeatures}, 1, p.Slice(Layer{N}WeightOffset, {WeightLength}), dx{N}, {Rows}, {Layer.InFeatures}, {Layer.OutFeatures}, accumulate: false); // dx = dy·W");
        w.Line($"dy = dx{N};");
    }
}
