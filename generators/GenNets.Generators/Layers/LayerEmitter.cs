using System.Collections.Generic;
using GenNets.Generators.Model;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary>Where a step's inference reads its inputs, and how it gets the buffer of a layer's output.</summary>
/// <param name="Inputs">The spans holding the step's inputs, in the order of its layer's sources (<c>input</c> for the network's).</param>
/// <param name="IsLast">The step's output is the network's output.</param>
/// <param name="Output">Declares (unless it is the network's output) the buffer of a layer's output, and names it.</param>
internal sealed record InferenceSite(IReadOnlyList<string> Inputs, bool IsLast, System.Func<ShapedLayer, string> Output)
{
    public string Input => Inputs[0];
}

/// <summary>Where a step's training forward reads its inputs; its outputs go to their training buffers.</summary>
internal sealed record TrainingSite(IReadOnlyList<string> Inputs)
{
    public string Input => Inputs[0];
}

/// <summary>Where a layer's inference output goes: a slot of its own, the same span as its input, or over its input.</summary>
internal enum InferenceOutputKind
{
    New,
    Alias,
    InPlace,
}

/// <summary>
/// Where a step's backward reads and writes: <c>dy</c> holds the gradient of its output. <paramref name="Input"/> names
/// the step's input values; <paramref name="First"/> says the input is the network's (it needs no gradient);
/// <paramref name="NextGradient"/> hands out a free buffer of those the gradients flow back through (with true, one that
/// may be the buffer <c>dy</c> is in, for a kernel that reads dy before it writes over it).
/// </summary>
internal sealed record BackwardSite(string Input, bool First, System.Func<bool, string> NextGradient);

/// <summary>
/// Everything the generated code does for one kind of layer: its tensors, training buffers, forward and backward passes,
/// description, FLOPs and initialisation. One subclass per layer family, each in a file of its own; the drivers
/// (GenNets.Generators.Emitter) only sequence them along the plan's steps.
/// </summary>
internal abstract class LayerEmitter
{
    protected LayerEmitter(ShapedLayer layer, bool last)
    {
        Layer = layer;
        IsLastLayer = last;
    }

    public ShapedLayer Layer { get; }

    /// <summary>The network's last layer, whose output is the network's.</summary>
    public bool IsLastLayer { get; }

    /// <summary>The layer's index, which numbers its fields and locals.</summary>
    protected int N => Layer.Index;

    public static LayerEmitter For(ShapedLayer layer, bool last) => layer.Spec.Emitter(layer, last);

    /// <summary>A short description such as <c>Dense 784→256 ReLU</c>, as comments, summaries and GenNets.LayerInfo give it.</summary>
    public abstract string Description { get; }

    /// <summary>Floating-point operations of one sample's forward pass (a multiply-add counts 2).</summary>
    public virtual long ForwardFlopsPerSample => 0;

    /// <summary>Training buffers the layer keeps for backward besides its output.</summary>
    public virtual IEnumerable<TrainingBuffer> KeptBuffers => [];

    /// <summary>The weight's shape in PyTorch's layout (weight_ih's for a recurrent layer), for the offset constants' comments.</summary>
    public virtual int[] WeightShape => [];

    /// <summary>The layer's entries of the parameter-tensor table, in PyTorch's names and order.</summary>
    public virtual IEnumerable<string> TensorEntries => [];

    /// <summary>The arguments of the layer's GenNets.LayerInfo after the common ones, given the index of its first tensor.</summary>
    public virtual string LayerInfoArguments(int firstTensor) => "";

    /// <summary>Static fields the layer's kernels take (its geometry).</summary>
    public virtual void EmitStatics(IndentedWriter w) { }

    /// <summary>Draws the layer's initial weights into <c>p</c> from <c>random</c>.</summary>
    public virtual void EmitInitialization(IndentedWriter w) { }

    /// <summary>A convolution's or dense layer's weight and bias, and weights per output channel, when a batch normalisation can be folded into it.</summary>
    public virtual (string Weight, string Bias, int PerChannel)? FoldableTensors => null;

    /// <summary>In inference, the folded weight and bias to use instead of the layer's, and the activation that then follows.</summary>
    public (string Weight, string Bias, ActivationKind Activation)? Folded { get; set; }

    /// <summary>Where the layer's inference output goes, given whether its input is the network's (read-only) input.</summary>
    public virtual InferenceOutputKind InferenceOutput(bool inputIsNetworks) => InferenceOutputKind.New;

    /// <summary>The layer's inference on <c>batch</c> samples; returns the span its output is in.</summary>
    public virtual string EmitInference(IndentedWriter w, InferenceSite site)
    {
        string y = site.Output(Layer);
        EmitForward(w, site.Input, y, y, reverse: "reverse");
        return y;
    }

    /// <summary>The layer's forward in training mode, keeping what backward needs; returns the span its output is in.</summary>
    public virtual string EmitTrainingForward(IndentedWriter w, TrainingSite site)
    {
        string y = OutputView(w, Layer);
        EmitForward(w, site.Input, y, y, reverse: null);
        return y;
    }

    /// <summary>The forward computation from <paramref name="x"/> into <paramref name="y"/> (<paramref name="pre"/> keeps the pre-activation when it differs).</summary>
    protected virtual void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse) { }

    /// <summary>Read-only views of what the layer's training forward kept, at the top of the backward pass.</summary>
    public virtual void EmitKeptViews(IndentedWriter w, IReadOnlyList<ShapedLayer> layers)
    {
        w.Line($"{RoSpan} y{N} = new {RoSpan}({NetworkPlan.FieldOf(Layer)}, start * {Layer.OutputLength}, batch * {Layer.OutputLength});");
        EmitPreActivationView(w);
    }

    /// <summary>
    /// Whether the layer's backward only reads <c>dy</c>'s values (no activation's gradient taken over it in place), so
    /// that a skip may keep dy's buffer as its share of the gradient instead of a copy, when that buffer is not handed out
    /// again.
    /// </summary>
    public virtual bool ReadsOutputGradientOnly => false;

    /// <summary>The layer's backward: from <c>dy</c>, its parameters' gradients into <c>g</c> and (unless first) its input's into <c>dy</c>.</summary>
    public abstract void EmitBackward(IndentedWriter w, BackwardSite site, Step step);

    /// <summary>The view of the kept pre-activation, when the layer keeps one.</summary>
    private void EmitPreActivationView(IndentedWriter w)
    {
        if (KeepsPreActivation)
            w.Line($"{RoSpan} z{N} = new {RoSpan}(_z{N}, start * {Layer.OutputLength}, batch * {Layer.OutputLength});");
    }

    /// <summary>The training view of a layer's output, this part's rows of its buffer.</summary>
    protected static string OutputView(IndentedWriter w, ShapedLayer layer)
    {
        w.Line($"{Span} y{layer.Index} = new {Span}({NetworkPlan.FieldOf(layer)}, start * {layer.OutputLength}, batch * {layer.OutputLength});");
        return $"y{layer.Index}";
    }

    /// <summary>Rows of the layer's matrix products over <c>batch</c> samples.</summary>
    protected string Rows => Layer.Positions == 1 ? "batch" : $"batch * {Layer.Positions}";

    /// <summary>Whether the layer's training forward keeps its pre-activation (for GELU's derivative).</summary>
    protected bool KeepsPreActivation => Layer.Activation is ActivationKind.GELU or ActivationKind.GELUTanh;

    protected IEnumerable<TrainingBuffer> PreActivationBuffer => KeepsPreActivation
        ? [new TrainingBuffer($"_z{N}", Layer.OutputLength, $"layer {N} pre-activation, for the GELU derivative")]
        : [];

    /// <summary>The layer's activation applied from <paramref name="pre"/> into <paramref name="y"/>, over <paramref name="rows"/> rows.</summary>
    protected void EmitActivation(IndentedWriter w, string pre, string y, string rows, ActivationKind? activation = null)
    {
        switch (activation ?? Layer.Activation)
        {
            case ActivationKind.Identity:
                break;
            case ActivationKind.Softmax:
                w.Line($"{Kernels}Activations.Softmax({pre}, {y}, {rows}, {Layer.OutFeatures});");
                break;
            default:
                w.Line($"{Kernels}Activations.{activation ?? Layer.Activation}({pre}, {y});");
                break;
        }
    }

    /// <summary>dy = dy·f′ for a layer's activation, given its output y and (for GELU) pre-activation z over <paramref name="rows"/> rows.</summary>
    public static void EmitActivationBackward(IndentedWriter w, ShapedLayer layer, string y, string z, string rows, string dy)
    {
        switch (layer.Activation)
        {
            case ActivationKind.Identity:
                break;
            case ActivationKind.Softmax:
                w.Line($"{Kernels}Activations.SoftmaxBackward({y}, {dy}, {dy}, {rows}, {layer.OutFeatures});");
                break;
            case ActivationKind.GELU:
                w.Line($"{Kernels}Activations.GELUBackward({z}, {y}, {dy}, {dy}); // Φ(z) from the kept output: y/z");
                break;
            case ActivationKind.GELUTanh:
                w.Line($"{Kernels}Activations.GELUTanhBackward({z}, {dy}, {dy});");
                break;
            default:
                w.Line($"{Kernels}Activations.{layer.Activation}Backward({y}, {dy}, {dy});");
                break;
        }
    }

    /// <summary>A weight-and-bias layer's two tensor entries.</summary>
    protected IEnumerable<string> WeightAndBias(string weightShape, int biasLength)
    {
        yield return $"    new({Literal(Layer.TensorPrefix + ".weight")}, \"layer {N} ({Description})\", Layer{N}WeightOffset, [{weightShape}], Decays: true),";
        yield return $"    new({Literal(Layer.TensorPrefix + ".bias")}, \"layer {N} ({Description})\", Layer{N}BiasOffset, [{biasLength}], Decays: false),";
    }
}
