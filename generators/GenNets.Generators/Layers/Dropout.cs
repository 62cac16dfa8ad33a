using System.Collections.Generic;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary><c>[Dropout(p)]</c>: inverted dropout in training, the identity in inference.</summary>
internal sealed record DropoutSpec(int AttributeIndex, float Probability) : LayerSpec(AttributeIndex, null)
{
    public override string Kind => "Dropout";

    public static LayerSpec Read(AttributeReading r) => new DropoutSpec(r.Index, AttributeReading.Float(r.Arg(0)));

    public override void Shape(LayerShaping s)
    {
        if (!(Probability >= 0f && Probability < 1f))
            s.Report(Problem.OnArgument(DiagnosticIds.DropoutOutOfRange, AttributeIndex, "probability", 0, Probability.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new DropoutEmitter(layer, last);
}

/// <summary>
/// <c>[Dropout]</c>: inverted dropout in training, its mask numbered by the step and the sample so that any split of the
/// batch draws the same mask; the identity in inference.
/// </summary>
internal sealed class DropoutEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private float Probability => ((DropoutSpec)Layer.Spec).Probability;

    private string Mask(string type) => $"new {type}(_mask{N}, start * {Layer.OutputLength}, batch * {Layer.OutputLength})";

    public override string Description => "Dropout p=" + Probability.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    public override string LayerInfoArguments(int firstTensor) => $", Probability: {Float(Probability)}";

    public override IEnumerable<TrainingBuffer> KeptBuffers =>
        [new TrainingBuffer($"_mask{N}", Layer.OutputLength, $"layer {N} dropout mask: 0 or 1/(1-p)")];

    public override InferenceOutputKind InferenceOutput(bool inputIsNetworks) => inputIsNetworks ? InferenceOutputKind.New : InferenceOutputKind.Alias;

    // Dropout is the identity in inference.
    public override string EmitInference(IndentedWriter w, InferenceSite site)
    {
        if (site.IsLast)
        {
            w.Line($"{site.Input}.CopyTo(output);");
            return "output";
        }
        if (site.Input != "input") return site.Input;
        string y = site.Output(Layer);
        w.Line($"input.CopyTo({y});");
        return y;
    }

    public override string EmitTrainingForward(IndentedWriter w, TrainingSite site)
    {
        string y = OutputView(w, Layer);
        w.Line($"{Kernels}Dropout.Forward({site.Input}, {y}, {Mask(Span)}, {Float(Probability)}, _dropoutSeed + {N}UL, step, (long)start * {Layer.OutputLength});");
        return y;
    }

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        if (!site.First) w.Line($"{Kernels}Dropout.Backward({Mask(RoSpan)}, dy, dy);");
        else w.Line("// The input needs no gradient.");
    }
}
