using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Shapes.LayerShaping;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary>The recurrent cells, named as GenNets.LayerKind names them.</summary>
internal enum RecurrentCell
{
    SimpleRNN,
    LSTM,
    GRU,
}

/// <summary><c>[SimpleRNN]</c>, <c>[LSTM]</c> or <c>[GRU]</c> (<see cref="Cell"/>) of <see cref="Units"/> hidden units.</summary>
internal sealed record RecurrentSpec(int AttributeIndex, string? Name, RecurrentCell Cell, int Units, bool ReturnSequences, float ForgetBias)
    : LayerSpec(AttributeIndex, Name)
{
    public override string Kind => Cell.ToString();
    public override bool HasTensors => true;

    /// <summary>Gates of the cell: 1, 4 or 3.</summary>
    public int Gates => Cell switch { RecurrentCell.LSTM => 4, RecurrentCell.GRU => 3, _ => 1 };

    public static LayerSpec ReadSimpleRnn(AttributeReading r) => Read(r, RecurrentCell.SimpleRNN);

    public static LayerSpec ReadLstm(AttributeReading r) => Read(r, RecurrentCell.LSTM);

    public static LayerSpec ReadGru(AttributeReading r) => Read(r, RecurrentCell.GRU);

    private static RecurrentSpec Read(AttributeReading r, RecurrentCell cell)
    {
        bool sequences = false;
        float forgetBias = 0f;
        foreach (var named in r.Named)
            if (named.Key == "ReturnSequences") sequences = named.Value.Value is true;
            else if (named.Key == "ForgetBias") forgetBias = named.Value.Value is float f ? f : 0f;
        if (float.IsNaN(forgetBias) || float.IsInfinity(forgetBias)) // netstandard2.0 has no float.IsFinite
            r.Problems.Add(Problem.OnArgument(DiagnosticIds.NonFiniteValue, r.Index, "ForgetBias", -1, $"The forget bias of layer {r.Position} (LSTM)",
                forgetBias.ToString("R", CultureInfo.InvariantCulture)));
        return new RecurrentSpec(r.Index, r.Name, cell, AttributeReading.Int(r.Arg(0)), sequences, forgetBias);
    }

    // (time, features) in; every state (time, units) or the last (units) out. Parameters: weight_ih and weight_hh, then
    // bias_ih and bias_hh.
    public override void Shape(LayerShaping s)
    {
        s.ClaimTensorNames();
        if (!OutputShape(s, s.KnownInput, out var output))
        {
            s.Fail();
            return;
        }
        s.Output = output;
        if (s.Known) s.Reserve((long)Gates * Units * (s.Input[1] + Units), 2L * Gates * Units);
    }

    private bool OutputShape(LayerShaping s, ImmutableArray<int> shape, out ImmutableArray<int> output)
    {
        output = shape;
        string index = Num(s.Index);
        if (Units <= 0)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, "units", 0, $"The units of layer {index} ({Kind})", Num(Units)));
            return false;
        }
        if (shape.IsEmpty) return false;
        if (shape.Length != 2)
        {
            s.Report(Problem.OnAttribute(DiagnosticIds.WrongInputRank, AttributeIndex, index, Kind, Join(shape), Num(shape.Length),
                "(time, features)", shape.Length == 1 && s.Previous is RecurrentSpec { ReturnSequences: false } previous
                    ? $"; layer {Num(s.Index - 1)} ({previous.Kind}) returns only its last state: set ReturnSequences = true on it to stack recurrent layers" : ""));
            return false;
        }
        if (Cell == RecurrentCell.SimpleRNN && shape[0] > DiagnosticIds.LongSequenceSteps)
            s.Report(Problem.OnAttribute(DiagnosticIds.LongSimpleRnn, AttributeIndex, index, Num(shape[0]), Num(DiagnosticIds.LongSequenceSteps)));
        output = ReturnSequences ? ImmutableArray.Create(shape[0], Units) : ImmutableArray.Create(Units);
        return true;
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new RecurrentEmitter(layer, last);
}

/// <summary>
/// <c>[SimpleRNN]</c>, <c>[LSTM]</c> and <c>[GRU]</c> on (time, features), with PyTorch's four tensors. Training keeps
/// every step's inputs, states and gates for backward through time.
/// </summary>
internal sealed class RecurrentEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private RecurrentSpec Spec => (RecurrentSpec)Layer.Spec;

    private int Steps => Layer.InputShape[0];

    private int GateRows => Spec.Gates * Spec.Units;

    /// <summary>weight_ih's length; weight_hh follows it, then bias_ih and bias_hh.</summary>
    private int WeightLength => GateRows * Layer.InFeatures;

    /// <summary>The four tensors, weight_ih, weight_hh, bias_ih and bias_hh, one after another from the weight's offset.</summary>
    private int ParameterLength => GateRows * (Layer.InFeatures + Spec.Units + 2);

    /// <summary>Floats kept per sample for backward (as GenNets.Kernels.RecurrentGeometry.KeptPerSample).</summary>
    private int KeptPerSample
        => Steps * Layer.InFeatures + (Steps + 1) * Spec.Units + Steps * GateRows
           + (Spec.Cell == RecurrentCell.LSTM ? (Steps + 1) * Spec.Units : 0) + (Spec.Cell == RecurrentCell.GRU ? Steps * Spec.Units : 0);

    private string Parameters => $"p.Slice(Layer{N}WeightOffset, {ParameterLength})";

    private string Kept(string type) => $"new {type}(_keep{N}, start * {KeptPerSample}, batch * {KeptPerSample})";

    public override string Description => $"{Spec.Cell} {Layer.InFeatures}→{Spec.Units}" + (Spec.ReturnSequences ? " all steps" : "");

    public override long ForwardFlopsPerSample => 2L * Steps * GateRows * (Layer.InFeatures + Spec.Units);

    public override int[] WeightShape => [GateRows, Layer.InFeatures];

    public override IEnumerable<TrainingBuffer> KeptBuffers =>
        [new TrainingBuffer($"_keep{N}", KeptPerSample, $"layer {N} inputs, states and gates of every step, for backward through time")];

    // PyTorch's names and order: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, one after another.
    public override IEnumerable<string> TensorEntries
    {
        get
        {
            string owner = $"layer {N} ({Description})";
            yield return $"    new({Literal(Layer.TensorPrefix + ".weight_ih_l0")}, \"{owner}\", Layer{N}WeightOffset, [{GateRows}, {Layer.InFeatures}], Decays: true),";
            yield return $"    new({Literal(Layer.TensorPrefix + ".weight_hh_l0")}, \"{owner}\", Layer{N}WeightOffset + {WeightLength}, [{GateRows}, {Spec.Units}], Decays: true),";
            yield return $"    new({Literal(Layer.TensorPrefix + ".bias_ih_l0")}, \"{owner}\", Layer{N}BiasOffset, [{GateRows}], Decays: false),";
            yield return $"    new({Literal(Layer.TensorPrefix + ".bias_hh_l0")}, \"{owner}\", Layer{N}BiasOffset + {GateRows}, [{GateRows}], Decays: false),";
        }
    }

    public override string LayerInfoArguments(int firstTensor)
        => $", Weight: s_tensors[{firstTensor}], Bias: s_tensors[{firstTensor + 2}], HiddenWeight: s_tensors[{firstTensor + 1}], HiddenBias: s_tensors[{firstTensor + 3}], ReturnSequences: {Bool(Spec.ReturnSequences)}";

    public override void EmitStatics(IndentedWriter w)
    {
        w.Line($"// Layer {N}: {Description}, as the recurrent kernels take it.");
        w.Line($"private static readonly {Kernels}RecurrentGeometry s_recurrent{N} = new(global::GenNets.LayerKind.{Spec.Cell}, steps: {Steps}, inputs: {Layer.InFeatures}, " +
            $"hidden: {Spec.Units}, returnSequences: {Bool(Spec.ReturnSequences)});");
        w.Line();
    }

    public override void EmitInitialization(IndentedWriter w)
    {
        w.Line($"global::GenNets.Initialization.Recurrent(p.Slice(Layer{N}WeightOffset, {WeightLength + GateRows * Spec.Units}), units: {Spec.Units}, ref random); // weight_ih and weight_hh");
        if (Spec.ForgetBias != 0f)
            w.Line($"p.Slice(Layer{N}BiasOffset + {Spec.Units}, {Spec.Units}).Fill({Float(Spec.ForgetBias)}); // the forget gate's block of bias_ih: the cell's memory starts open");
    }

    protected override void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse)
        => w.Line($"{Kernels}Recurrent.Forward({x}, {Parameters}, {y}, batch, s_recurrent{N}, default, lengths);");

    public override string EmitTrainingForward(IndentedWriter w, TrainingSite site)
    {
        string y = OutputView(w, Layer);
        w.Line($"{Kernels}Recurrent.Forward({site.Input}, {Parameters}, {y}, batch, s_recurrent{N}, {Kept(Span)}, Lengths(start, rows));");
        return y;
    }

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        if (site.First)
            w.Line("// The input needs no gradient.");
        else
            w.Line($"{Span} dx{N} = new {Span}({site.NextGradient(false)}, stretch, batch * {Layer.InputLength});");
        w.Line($"{Kernels}Recurrent.Backward({Parameters}, {Kept(RoSpan)}, dy, {(site.First ? "default" : $"dx{N}")}, " +
            $"g.Slice(Layer{N}WeightOffset, {ParameterLength}), batch, s_recurrent{N}, Lengths(start, rows)); // backward through time");
        if (!site.First) w.Line($"dy = dx{N};");
    }
}
