using GenNets.Generators.Model;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary>
/// The sum at the end of a residual block (made by the shape engine, never written): the block's output plus its input
/// (or the input's projection), then <see cref="Activation"/>.
/// </summary>
internal sealed record AddSpec(int AttributeIndex, ActivationKind Activation) : LayerSpec(AttributeIndex, null)
{
    public override string Kind => "Add";
    public override ActivationKind OutputActivation => Activation;

    // The shape engine shapes the sum itself, where the block's paths meet.
    public override void Shape(LayerShaping s) { }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new AddEmitter(layer, last);
}

/// <summary>
/// The sum that ends a residual block: y = act(F(x) + skip), where skip is the block's input or its projection. Its
/// backward takes the activation's gradient; the drivers hand the result to both paths and add the two where they meet.
/// </summary>
internal sealed class AddEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    public override string Description
        => $"Add layers {Layer.Sources[0]} and {Layer.Sources[1]}" + (Layer.Activation == ActivationKind.Identity ? "" : " " + Layer.Activation);

    public override System.Collections.Generic.IEnumerable<TrainingBuffer> KeptBuffers => PreActivationBuffer;

    public override string LayerInfoArguments(int firstTensor) => $", global::GenNets.Activation.{Layer.Activation}";

    // The block's output is read by nothing else: the sum is written over it.
    public override InferenceOutputKind InferenceOutput(bool inputIsNetworks) => InferenceOutputKind.InPlace;

    public override string EmitInference(IndentedWriter w, InferenceSite site)
    {
        string main = site.Inputs[0], skip = site.Inputs[1];
        string y = site.Output(Layer);
        if (Layer.Activation == ActivationKind.ReLU)
        {
            // The sum and its ReLU in one pass.
            w.Line(y == main
                ? $"{Kernels}Elementwise.Add({skip}, {main}, {main}, relu: true); // the sum over the block's output, read by nothing else"
                : $"{Kernels}Elementwise.Add({main}, {skip}, {y}, relu: true);");
            return y;
        }
        if (y == main)
            w.Line($"{Kernels}Elementwise.Add({skip}, {main}); // the sum over the block's output, read by nothing else");
        else
            w.Line($"{Kernels}Elementwise.Add({main}, {skip}, {y});");
        EmitActivation(w, y, y, Rows);
        return y;
    }

    public override string EmitTrainingForward(IndentedWriter w, TrainingSite site)
    {
        string y = OutputView(w, Layer), pre = y;
        if (KeepsPreActivation)
        {
            w.Line($"{Span} z{N} = new {Span}(_z{N}, start * {Layer.OutputLength}, batch * {Layer.OutputLength});");
            pre = $"z{N}";
        }
        if (pre == y && Layer.Activation == ActivationKind.ReLU)
        {
            w.Line($"{Kernels}Elementwise.Add({site.Inputs[0]}, {site.Inputs[1]}, {y}, relu: true); // the sum and its ReLU in one pass");
            return y;
        }
        w.Line($"{Kernels}Elementwise.Add({site.Inputs[0]}, {site.Inputs[1]}, {pre});");
        EmitActivation(w, pre, y, Rows);
        return y;
    }

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        if (step.ReluTakenNote is { } note)
            w.Line(note);
        else
            EmitActivationBackward(w, Layer, $"y{N}", $"z{N}", Rows, "dy");
        w.Line($"// dy is now the sum's gradient: both the block's layers and its skip get it.");
    }
}
