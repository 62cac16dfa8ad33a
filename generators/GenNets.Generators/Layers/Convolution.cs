using System.Collections.Generic;
using System.Collections.Immutable;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Shapes.LayerShaping;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary>
/// <c>[Conv2D(filters, kernelHeight, kernelWidth)]</c>. Padding −1 is "same"; <see cref="KernelWidthArgument"/> is the
/// position of the kernel's width among the constructor's arguments (for diagnostics).
/// </summary>
internal sealed record Conv2DSpec(int AttributeIndex, string? Name, int Filters, int KernelHeight, int KernelWidth, int KernelWidthArgument,
    int Stride, int Padding, ActivationKind Activation, int Initializer)
    : LayerSpec(AttributeIndex, Name)
{
    public override string Kind => "Conv2D";
    public override ActivationKind OutputActivation => Activation;
    public override bool HasTensors => true;

    /// <summary>Rows and columns of zero padding added above and left; "same" pads the rest below and right.</summary>
    public (int Top, int Left) PaddingBefore => Padding == -1 ? ((KernelHeight - 1) / 2, (KernelWidth - 1) / 2) : (Padding, Padding);

    public static LayerSpec Read(AttributeReading r)
    {
        int kernelHeight = AttributeReading.Int(r.Arg(1));
        bool width = r.Count > 2;
        int kernelWidth = width ? AttributeReading.Int(r.Arg(2)) : kernelHeight;
        int stride = 1, padding = 0, init = 0;
        var activation = ActivationKind.Identity;
        foreach (var named in r.Named)
            switch (named.Key)
            {
                case "Stride": stride = AttributeReading.Int(named.Value); break;
                case "Padding": padding = AttributeReading.Int(named.Value); break;
                case "Activation": activation = r.Activation(named.Value, "Activation", -1); break;
                case "Init": init = r.Initializer(named.Value, "Init", -1); break;
            }
        return new Conv2DSpec(r.Index, r.Name, AttributeReading.Int(r.Arg(0)), kernelHeight, kernelWidth, width ? 2 : 1, stride, padding, activation, init);
    }

    public override void Shape(LayerShaping s)
    {
        s.ClaimTensorNames();
        if (!OutputShape(s, s.KnownInput, out var output))
        {
            s.Fail();
            return;
        }
        s.Output = output;
        if (s.Known) s.Reserve((long)Filters * s.Input[0] * KernelHeight * KernelWidth, Filters);
    }

    // Checks the arguments and, when the input shape is known (not empty), computes the output shape.
    private bool OutputShape(LayerShaping s, ImmutableArray<int> shape, out ImmutableArray<int> output)
    {
        output = shape;
        bool ok = true;
        string index = Num(s.Index), what = $"layer {index} (Conv2D)";
        if (Filters <= 0)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, "filters", 0, $"The filters of {what}", Num(Filters)));
            ok = false;
        }
        if (KernelHeight <= 0 || KernelWidth <= 0)
        {
            bool height = KernelHeight <= 0;
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, height ? "kernelHeight" : "kernelWidth", height ? 1 : KernelWidthArgument,
                $"The kernel size of {what}", Num(height ? KernelHeight : KernelWidth)));
            ok = false;
        }
        if (Stride <= 0)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NonPositiveSize, AttributeIndex, "Stride", -1, $"The stride of {what}", Num(Stride)));
            ok = false;
        }
        if (Padding < -1)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.NegativePadding, AttributeIndex, "Padding", -1, index, Num(Padding)));
            ok = false;
        }
        if (Padding == -1 && Stride > 1)
            s.Report(Problem.OnArgument(DiagnosticIds.SameNeedsStrideOne, AttributeIndex, "Padding", -1, index, Num(Stride)));
        if (Activation == ActivationKind.Softmax)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.InvalidEnumValue, AttributeIndex, "Activation", -1, "Softmax", "activation for a Conv2D layer (softmax is over a vector: Flatten and use a Dense layer)"));
            ok = false;
        }
        if (!ok || shape.IsEmpty || (Padding == -1 && Stride > 1)) return false;
        if (!s.NeedsImage(shape)) return false;

        var (top, left) = PaddingBefore;
        int outH = 0, outW = 0;
        for (int axis = 1; axis <= 2; axis++)
        {
            int size = shape[axis], kernel = axis == 1 ? KernelHeight : KernelWidth;
            int padded = Padding == -1 ? size + kernel - 1 : size + 2 * (axis == 1 ? top : left);
            string side = axis == 1 ? "height" : "width";
            if (kernel > padded)
            {
                s.Report(Problem.OnArgument(DiagnosticIds.KernelLargerThanInput, AttributeIndex, axis == 1 ? "kernelHeight" : "kernelWidth",
                    axis == 1 ? 1 : KernelWidthArgument, index, side, Num(kernel), Num(size), Num(padded)));
                return false;
            }
            // Rows past the last window: only padding (ResNet's stride-2 convolutions) loses nothing; input rows are lost.
            int rest = (padded - kernel) % Stride, lost = rest - (axis == 1 ? top : left);
            if (lost > 0)
                s.Report(Problem.OnArgument(DiagnosticIds.StrideLeavesInputUnused, AttributeIndex, "Stride", -1, index, Num(Stride), side,
                    Num(padded), Num(kernel), Num(lost), axis == 1 ? "row(s)" : "column(s)"));
            int result = (padded - kernel) / Stride + 1;
            if (axis == 1) outH = result; else outW = result;
        }
        output = ImmutableArray.Create(Filters, outH, outW);
        return true;
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new ConvolutionEmitter(layer, last);
}

/// <summary>
/// <c>[Conv2D]</c> on (channels, height, width), ReLU taken as the outputs are stored. Under a 2×2, stride-2 max pooling
/// (<see cref="PoolsItsOutput"/>) it pools its output as it goes: the step then writes the pooling's output, keeps which
/// input of each window was the maximum, and its backward routes the pooled gradient itself.
/// </summary>
internal sealed class ConvolutionEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private Conv2DSpec Spec => (Conv2DSpec)Layer.Spec;

    private int WeightLength => Spec.Filters * Layer.InputShape[0] * Spec.KernelHeight * Spec.KernelWidth;

    private bool Relu => Spec.Activation == ActivationKind.ReLU;

    private string Weight => $"p.Slice(Layer{N}WeightOffset, {WeightLength})";

    private string Bias => $"p.Slice(Layer{N}BiasOffset, {Spec.Filters})";

    private string Gradients => $"g.Slice(Layer{N}WeightOffset, {WeightLength}), g.Slice(Layer{N}BiasOffset, {Spec.Filters})";

    public override string Description
    {
        get
        {
            var (top, left) = Spec.PaddingBefore;
            return $"Conv2D {Layer.InputShape[0]}→{Layer.OutputShape[0]} {Spec.KernelHeight}×{Spec.KernelWidth}"
                + (Spec.Stride == 1 ? "" : $" stride {Spec.Stride}")
                + (top == 0 && left == 0 ? "" : top == left ? $" pad {top}" : $" pad ({top}, {left})")
                + (Spec.Activation == ActivationKind.Identity ? "" : " " + Spec.Activation);
        }
    }

    public override long ForwardFlopsPerSample => 2L * WeightLength * Layer.OutputShape[1] * Layer.OutputShape[2];

    public override int[] WeightShape => [Spec.Filters, Layer.InputShape[0], Spec.KernelHeight, Spec.KernelWidth];

    public override IEnumerable<TrainingBuffer> KeptBuffers => PreActivationBuffer;

    public override IEnumerable<string> TensorEntries => WeightAndBias(string.Join(", ", WeightShape), Spec.Filters);

    public override string LayerInfoArguments(int firstTensor)
    {
        var (top, left) = Spec.PaddingBefore;
        return $", global::GenNets.Activation.{Spec.Activation}, Weight: s_tensors[{firstTensor}], Bias: s_tensors[{firstTensor + 1}], " +
            $"KernelHeight: {Spec.KernelHeight}, KernelWidth: {Spec.KernelWidth}, Stride: {Spec.Stride}, PadTop: {top}, PadLeft: {left}";
    }

    public override void EmitStatics(IndentedWriter w)
    {
        var (top, left) = Spec.PaddingBefore;
        w.Line($"// Layer {N}: {Description}, as the convolution kernels take it.");
        w.Line($"private static readonly {Kernels}Conv2DGeometry s_geometry{N} = new(inChannels: {Layer.InputShape[0]}, height: {Layer.InputShape[1]}, width: {Layer.InputShape[2]}, " +
            $"outChannels: {Layer.OutputShape[0]}, kernelHeight: {Spec.KernelHeight}, kernelWidth: {Spec.KernelWidth}, stride: {Spec.Stride}, padTop: {top}, padLeft: {left}, " +
            $"outHeight: {Layer.OutputShape[1]}, outWidth: {Layer.OutputShape[2]});");
        w.Line();
    }

    // PyTorch's fans: the receptive field counts on both sides.
    public override void EmitInitialization(IndentedWriter w)
        => w.Line($"global::GenNets.Initialization.Fill(p.Slice(Layer{N}WeightOffset, {WeightLength}), (global::GenNets.Initializer){Spec.Initializer}, global::GenNets.Activation.{Spec.Activation}, " +
            $"fanIn: {Layer.InputShape[0] * Spec.KernelHeight * Spec.KernelWidth}, fanOut: {Spec.Filters * Spec.KernelHeight * Spec.KernelWidth}, ref random);");

    /// <summary>
    /// Whether layer <paramref name="i"/> is a convolution (no activation or ReLU) under a 2×2, stride-2 max pooling whose
    /// windows cover its output: Convolution.ForwardPooled then takes both layers in one pass.
    /// </summary>
    public static bool PoolsItsOutput(EquatableArray<ShapedLayer> layers, int i)
        => layers[i].Spec is Conv2DSpec { Activation: ActivationKind.Identity or ActivationKind.ReLU } && i + 1 < layers.Length
           && layers[i + 1].Spec is PoolSpec { Max: true, Size: 2, Step: 2 }
           && layers[i].OutputShape[1] % 2 == 0 && layers[i].OutputShape[2] % 2 == 0;

    /// <summary>What a pooled convolution's step keeps: the pooled output, and which input of each window was the maximum.</summary>
    public static IEnumerable<TrainingBuffer> PooledBuffers(ShapedLayer pool) =>
    [
        NetworkPlan.OutputBuffer(pool),
        new TrainingBuffer($"_argmax{pool.Index}", pool.OutputLength, $"layer {pool.Index}: which input of each window was the maximum (0-3, row-major)"),
    ];

    public override (string Weight, string Bias, int PerChannel)? FoldableTensors => (Weight, Bias, WeightLength / Spec.Filters);

    // ReLU is applied as the convolution stores its outputs; other activations are a pass of their own. In inference a
    // batch normalisation after it may be folded in: its weights then, and its activation.
    protected override void EmitForward(IndentedWriter w, string x, string pre, string y, string? reverse)
    {
        var (weight, bias, activation) = reverse is not null && Folded is { } f ? f : (Weight, Bias, Spec.Activation);
        bool relu = activation == ActivationKind.ReLU;
        w.Line($"{Kernels}Convolution.Forward({x}, {weight}, {bias}, {pre}, batch, s_geometry{N}{(relu ? ", relu: true" : "")});");
        if (activation is not (ActivationKind.Identity or ActivationKind.ReLU))
            w.Line($"{Kernels}Activations.{activation}({pre}, {y});");
    }

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

    public override bool ReadsOutputGradientOnly => Layer.Activation == ActivationKind.Identity;

    // ---- The residual sum this convolution writes (Step.SumTaken) ----

    private static string SumArguments(ShapedLayer sum, string skip)
        => (sum.Activation == ActivationKind.ReLU ? ", relu: true" : "") + $", residual: {skip}";

    /// <summary>Inference into <paramref name="y"/> (the sum's output, which is this layer's: in place) of this convolution and the residual sum above it.</summary>
    public string EmitInferenceWithSum(IndentedWriter w, InferenceSite site, ShapedLayer sum, string skip)
    {
        string y = site.Output(Layer);
        w.Line($"{Kernels}Convolution.Forward({site.Input}, {Weight}, {Bias}, {y}, batch, s_geometry{N}{SumArguments(sum, skip)}); // with layer {sum.Index}'s sum{(sum.Activation == ActivationKind.ReLU ? " (the ReLU after it)" : "")}, in place");
        return y;
    }

    /// <summary>The training forward of this convolution and the residual sum above it, into the sum's kept output.</summary>
    public string EmitTrainingForwardWithSum(IndentedWriter w, TrainingSite site, ShapedLayer sum, string skip)
    {
        w.Line($"// Its output is read by layer {sum.Index}'s sum alone: it writes the sum{(sum.Activation == ActivationKind.ReLU ? " and its ReLU" : "")} as it stores it, kept as layer {sum.Index}'s output.");
        string y = OutputView(w, sum);
        w.Line($"{Kernels}Convolution.Forward({site.Input}, {Weight}, {Bias}, {y}, batch, s_geometry{N}{SumArguments(sum, skip)});");
        return y;
    }

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
    {
        if (step.ReluTakenAbove)
            w.Line("// The ReLU's gradient was taken by the pooling's backward above.");
        else if (step.ReluTakenNote is { } note)
            w.Line(note);
        else
            EmitActivationBackward(w, Layer, $"y{N}", $"z{N}", Rows, "dy");
        string dx = EmitInputGradient(w, site);
        // dX may take the skip's join and the ReLU below as it is written, where the backward walk chose so.
        string fused = (step.InputSkipGradient is { } skip ? $", inputSkipGradient: {skip}" : "") + (step.InputGradientThroughReLU ? ", throughInputReLU: true" : "");
        w.Line($"{Kernels}Convolution.Backward({site.Input}, {Weight}, dy, {Gradients}, {dx}, batch, s_geometry{N}{fused});" +
            (fused.Length == 0 ? "" : step.InputSkipGradient is null ? " // dX ⊙ [x > 0]" : $" // dX = (dX + {step.InputSkipGradient}) ⊙ [x > 0]"));
        if (!site.First) w.Line($"dy = dx{N};");
    }

    private string EmitInputGradient(IndentedWriter w, BackwardSite site, bool overDy = false)
    {
        if (site.First)
        {
            w.Line("// The input needs no gradient.");
            return "default";
        }
        w.Line($"{Span} dx{N} = new {Span}({site.NextGradient(overDy)}, stretch, batch * {Layer.InputLength});");
        return $"dx{N}";
    }

    private static string PoolHeader(LayerEmitter pool)
        => $"// Layer {pool.Layer.Index}: {pool.Description}    (batch, {Join(pool.Layer.InputShape)}) -> (batch, {Join(pool.Layer.OutputShape)}), taken with the convolution";

    // ---- The pooled step: this convolution and the max pooling above it ----

    public string EmitPooledInference(IndentedWriter w, InferenceSite site, LayerEmitter pool)
    {
        w.Line(PoolHeader(pool));
        string pooled = site.Output(pool.Layer);
        w.Line($"{Kernels}Convolution.ForwardPooled({site.Input}, {Weight}, {Bias}, {pooled}, batch, s_geometry{N}{(Relu ? ", relu: true" : "")});");
        return pooled;
    }

    public string EmitPooledTrainingForward(IndentedWriter w, TrainingSite site, LayerEmitter pooling)
    {
        var pool = pooling.Layer;
        int p = pool.Index;
        w.Line(PoolHeader(pooling));
        string pooled = OutputView(w, pool);
        w.Line("// Of the convolution's full output, backward needs only which input of each window was the maximum: only that is kept.");
        w.Line($"{Span} argmax{p} = new {Span}(_argmax{p}, start * {pool.OutputLength}, batch * {pool.OutputLength});");
        w.Line($"{Kernels}Convolution.ForwardPooled({site.Input}, {Weight}, {Bias}, {pooled}, batch, s_geometry{N}, relu: {Bool(Relu)}, argmax: argmax{p});");
        return pooled;
    }

    public static void EmitPooledKeptViews(IndentedWriter w, ShapedLayer pool)
    {
        w.Line($"{RoSpan} argmax{pool.Index} = new {RoSpan}(_argmax{pool.Index}, start * {pool.OutputLength}, batch * {pool.OutputLength});");
        w.Line($"{RoSpan} y{pool.Index} = new {RoSpan}({NetworkPlan.FieldOf(pool)}, start * {pool.OutputLength}, batch * {pool.OutputLength});");
    }

    // Called with the pooling's header written: its part, then the convolution's.
    public void EmitPooledBackward(IndentedWriter w, BackwardSite site, ShapedLayer pool)
    {
        int p = pool.Index;
        // Routed a sample at a time by the convolution's backward, which takes dy (the pooled gradient) as it is.
        w.Line($"{Span} dx{p} = new {Span}({site.NextGradient(false)}, stretch, batch * {pool.InputLength});");
        w.Line($"// The convolution's backward below routes dy to each window's argmax{(Relu ? " (and through its ReLU)" : "")}, a sample at a time; dx{p} is its room for dY.");
        w.Line($"// Layer {N}: {Description}    (batch, {Join(Layer.OutputShape)}) -> (batch, {Join(Layer.InputShape)})");
        if (Relu)
            w.Line("// The ReLU's gradient is taken as the pooled gradient is routed, below.");
        string dx = EmitInputGradient(w, site, overDy: true); // BackwardPooled routes every sample's dy before it writes dx
        w.Line($"{Kernels}Convolution.BackwardPooled({site.Input}, {Weight}, dy, argmax{p}, y{p}, relu: {Bool(Relu)}, dx{p}, {Gradients}, {dx}, batch, s_geometry{N});");
        if (!site.First) w.Line($"dy = dx{N};");
    }
}
