using System.Collections.Generic;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Planning;
using GenNets.Generators.Shapes;
using static GenNets.Generators.Text;

namespace GenNets.Generators.Layers;

/// <summary><c>[BatchNorm]</c>: normalisation per channel (or feature) over the batch, with running statistics, then <see cref="Activation"/>.</summary>
internal sealed record BatchNormSpec(int AttributeIndex, string? Name, ActivationKind Activation) : LayerSpec(AttributeIndex, Name)
{
    public override string Kind => "BatchNorm";
    public override ActivationKind OutputActivation => Activation;
    public override bool HasTensors => true;

    public static LayerSpec Read(AttributeReading r)
    {
        var activation = ActivationKind.Identity;
        foreach (var named in r.Named)
            if (named.Key == "Activation") activation = r.Activation(named.Value, "Activation", -1);
        return new BatchNormSpec(r.Index, r.Name, activation);
    }

    // Channels of an image, or features of a vector; a sequence's (time, features) it cannot take. Parameters: weight,
    // then bias and the buffers running_mean, running_var and num_batches_tracked.
    public override void Shape(LayerShaping s)
    {
        s.ClaimTensorNames();
        if (Activation == ActivationKind.Softmax)
        {
            s.Report(Problem.OnArgument(DiagnosticIds.InvalidEnumValue, AttributeIndex, "Activation", -1, "Softmax", "activation for a BatchNorm layer (softmax is over a vector: use a Dense layer)"));
            s.Fail();
        }
        else if (s.Known && s.Input.Length == 2)
        {
            s.Report(Problem.OnAttribute(DiagnosticIds.BatchNormRank, AttributeIndex, LayerShaping.Num(s.Index), LayerShaping.Join(s.Input), LayerShaping.Num(s.Input.Length)));
            s.Fail();
        }
        else if (s.Known)
        {
            int channels = s.Input.Length == 3 ? s.Input[0] : s.Input[s.Input.Length - 1];
            s.Reserve(channels, 3L * channels + 1);
        }
    }

    public override LayerEmitter Emitter(ShapedLayer layer, bool last) => new BatchNormEmitter(layer, last);
}

/// <summary>
/// <c>[BatchNorm]</c> per channel of an image (or feature of a vector). Training normalises by the statistics of the
/// whole batch, however it is split: each part computes its partial sums, the network combines them in part order
/// between two segments of the forward pass (updating the running statistics), then each part normalises; backward
/// likewise. Inference uses the running statistics, folded into the convolution or dense layer before it when that
/// layer's output goes to the normalisation alone.
/// </summary>
internal sealed class BatchNormEmitter(ShapedLayer layer, bool last = false) : LayerEmitter(layer, last)
{
    private bool Image => Layer.InputShape.Length == 3;

    /// <summary>Channels: an image's first axis, a vector's features.</summary>
    public int Channels => Image ? Layer.InputShape[0] : Layer.InFeatures;

    /// <summary>Values per channel per sample: an image's height × width, 1 for a vector.</summary>
    public int Spatial => Image ? Layer.InputShape[1] * Layer.InputShape[2] : 1;

    private int PartialLength => 3 * Channels; // (count, mean, M2) or (count, Σdy, Σdy·x̂) per channel, as Normalization.PartialLength

    public string Gamma => $"p.Slice(Layer{N}WeightOffset, {Channels})";

    public string Beta => $"p.Slice(Layer{N}BiasOffset, {Channels})";

    public string RunningMean => $"p.Slice(Layer{N}BiasOffset + {Channels}, {Channels})";

    public string RunningVariance => $"p.Slice(Layer{N}BiasOffset + {2 * Channels}, {Channels})";

    private string Sizes => $"batch, {Channels}, {Spatial}";

    /// <summary>The step whose convolution or dense layer takes this normalisation in inference, if one does.</summary>
    public Step? FoldedInto { get; set; }

    public override string Description => $"BatchNorm {Channels}" + (Layer.Activation == ActivationKind.Identity ? "" : " " + Layer.Activation);

    public override int[] WeightShape => [Channels];

    public override IEnumerable<TrainingBuffer> KeptBuffers => PreActivationBuffer;

    public override IEnumerable<string> TensorEntries
    {
        get
        {
            string owner = $"layer {N} ({Description})";
            yield return $"    new({Literal(Layer.TensorPrefix + ".weight")}, \"{owner}\", Layer{N}WeightOffset, [{Channels}], Decays: false),";
            yield return $"    new({Literal(Layer.TensorPrefix + ".bias")}, \"{owner}\", Layer{N}BiasOffset, [{Channels}], Decays: false),";
            yield return $"    new({Literal(Layer.TensorPrefix + ".running_mean")}, \"{owner}\", Layer{N}BiasOffset + {Channels}, [{Channels}], Decays: false, Trainable: false),";
            yield return $"    new({Literal(Layer.TensorPrefix + ".running_var")}, \"{owner}\", Layer{N}BiasOffset + {2 * Channels}, [{Channels}], Decays: false, Trainable: false),";
            yield return $"    new({Literal(Layer.TensorPrefix + ".num_batches_tracked")}, \"{owner}\", Layer{N}BiasOffset + {3 * Channels}, [], Decays: false, Trainable: false),";
        }
    }

    public override string LayerInfoArguments(int firstTensor)
        => $", global::GenNets.Activation.{Layer.Activation}, Weight: s_tensors[{firstTensor}], Bias: s_tensors[{firstTensor + 1}], RunningMean: s_tensors[{firstTensor + 2}]";

    public override void EmitInitialization(IndentedWriter w)
    {
        w.Line($"p.Slice(Layer{N}WeightOffset, {Channels}).Fill(1f); // γ starts at 1, β at 0");
        w.Line($"p.Slice(Layer{N}BiasOffset + {2 * Channels}, {Channels}).Fill(1f); // running_var starts at 1, running_mean and num_batches_tracked at 0");
    }

    /// <summary>The fields of the batch's statistics: the parts' partial sums, and the combined mean, rstd and backward coefficients.</summary>
    public void EmitFields(IndentedWriter w)
    {
        w.Line($"private double[] _normPartials{N} = global::System.Array.Empty<double>(); // layer {N}: each part's partial sums, {PartialLength} a part");
        w.Line($"private readonly double[] _normMean{N} = new double[{Channels}], _normRstd{N} = new double[{Channels}], _normCoefficients{N} = new double[{2 * Channels}]; // layer {N}: the batch's statistics");
    }

    // ---- Inference ----

    public override InferenceOutputKind InferenceOutput(bool inputIsNetworks)
        => FoldedInto is not null ? InferenceOutputKind.Alias : inputIsNetworks ? InferenceOutputKind.New : InferenceOutputKind.InPlace;

    public override string EmitInference(IndentedWriter w, InferenceSite site)
    {
        if (FoldedInto is not null)
        {
            w.Line($"// Folded into layer {FoldedInto.Layer.Index}: its weights, scaled by the running statistics, gave this output.");
            return site.Input;
        }
        string y = site.Output(Layer);
        w.Line($"{Kernels}Normalization.BatchNormInference({site.Input}, {Gamma}, {Beta}, {RunningMean}, {RunningVariance}, {y}, {Sizes});");
        EmitActivation(w, y, y, "batch");
        return y;
    }

    /// <summary>Folds the normalisation into the weights of the layer before it, into <c>folded</c> at <paramref name="at"/>; returns the folded weight's and bias's spans.</summary>
    public (string Weight, string Bias) EmitFold(IndentedWriter w, string weight, string bias, int perChannel, int at)
    {
        int weightLength = Channels * perChannel;
        w.Line($"{Span} foldedWeight{N} = folded.Slice({at}, {weightLength}), foldedBias{N} = folded.Slice({at + weightLength}, {Channels});");
        w.Line($"{Kernels}Normalization.FoldBatchNorm({weight}, {bias}, {Gamma}, {Beta}, {RunningMean}, {RunningVariance}, foldedWeight{N}, foldedBias{N}, {Channels}, {perChannel}); // layer {N}'s running statistics");
        return ($"foldedWeight{N}", $"foldedBias{N}");
    }

    /// <summary>Floats of folded weights and biases.</summary>
    public int FoldedLength(int perChannel) => Channels * perChannel + Channels;

    // ---- Training: partial sums (end of a segment), combined between segments, normalisation (start of the next) ----

    public void EmitPartials(IndentedWriter w, string x)
        => w.Line($"{Kernels}Normalization.BatchNormPartials({x}, new global::System.Span<double>(_normPartials{N}, part * {PartialLength}, {PartialLength}), {Sizes}); // this part's sums; the batch's are combined next");

    public void EmitCombine(IndentedWriter w)
    {
        w.Line($"// Layer {N}: {Description}. The batch's mean and rstd from the parts' sums, in part order; the running statistics move towards them.");
        w.Line(Generated);
        w.Open($"private void Normalize{N}Statistics(int parts)");
        w.Line($"{Span} p = _parameters;");
        w.Line($"{Kernels}Normalization.BatchNormCombine(new global::System.ReadOnlySpan<double>(_normPartials{N}, 0, parts * {PartialLength}), parts, {Channels}, _normMean{N}, _normRstd{N}, {RunningMean}, {RunningVariance});");
        w.Line($"p[Layer{N}BiasOffset + {3 * Channels}] += 1f; // num_batches_tracked");
        w.Close();
        w.Line();
        w.Line("// Its gradients: γ's and β's from the parts' sums, in part order, and the coefficients each part's input gradient takes.");
        w.Line(Generated);
        w.Open($"private void Normalize{N}Gradients(int parts)");
        w.Line($"{Kernels}Normalization.BatchNormBackwardCombine(new global::System.ReadOnlySpan<double>(_normPartials{N}, 0, parts * {PartialLength}), parts, {Channels}, _normCoefficients{N}, " +
            $"new {Span}(_gradients, Layer{N}WeightOffset, {Channels}), new {Span}(_gradients, Layer{N}BiasOffset, {Channels}), accumulate: false);");
        w.Close();
        w.Line();
    }

    /// <summary>Grows the partial sums for <c>parts</c> parts.</summary>
    public void EmitReservePartials(IndentedWriter w)
        => w.Line($"if (_normPartials{N}.Length < parts * {PartialLength}) _normPartials{N} = new double[parts * {PartialLength}];");

    public override string EmitTrainingForward(IndentedWriter w, TrainingSite site)
    {
        string y = OutputView(w, Layer), pre = y;
        if (KeepsPreActivation)
        {
            w.Line($"{Span} z{N} = new {Span}(_z{N}, start * {Layer.OutputLength}, batch * {Layer.OutputLength});");
            pre = $"z{N}";
        }
        w.Line($"{Kernels}Normalization.BatchNormNormalize({site.Input}, {Gamma}, {Beta}, _normMean{N}, _normRstd{N}, {pre}, {Sizes}); // by the whole batch's statistics");
        EmitActivation(w, pre, y, "batch");
        return y;
    }

    /// <summary>The first half of backward: the activation's gradient, then this part's sums of dy and dy·x̂.</summary>
    public void EmitBackwardPartials(IndentedWriter w, string x)
    {
        EmitActivationBackward(w, Layer, $"y{N}", $"z{N}", "batch", "dy");
        w.Line($"{Kernels}Normalization.BatchNormBackwardPartials({x}, dy, _normMean{N}, _normRstd{N}, new global::System.Span<double>(_normPartials{N}, part * {PartialLength}, {PartialLength}), {Sizes});");
    }

    /// <summary>The second half: the input's gradient, written over dy, from the batch's coefficients.</summary>
    public void EmitBackwardData(IndentedWriter w, BackwardSite site)
    {
        if (site.First)
        {
            w.Line("// The input needs no gradient.");
            return;
        }
        w.Line($"{Kernels}Normalization.BatchNormBackwardData({site.Input}, dy, {Gamma}, _normMean{N}, _normRstd{N}, _normCoefficients{N}, dy, {Sizes}); // dx, over dy");
    }

    public override void EmitBackward(IndentedWriter w, BackwardSite site, Step step)
        => w.Line("// Backward in two halves around a segment boundary: EmitBackwardPartials, then EmitBackwardData.");
}
