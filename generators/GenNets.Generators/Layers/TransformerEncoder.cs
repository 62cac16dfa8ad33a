using GenNets.Generators.Model;
using GenNets.Generators.Parsing;

namespace GenNets.Generators.Layers;

/// <summary>
/// <c>[TransformerEncoder(layers, heads, feedForward)]</c>: read as the blocks it stands for, a [Sequential] of
/// <c>layers</c> pre-LN encoder layers, each two residual sublayers (LayerNorm and SelfAttention; LayerNorm, Dense of
/// the feed-forward width with the activation, and Dense back to the model's width), named as PyTorch's
/// nn.TransformerEncoder names them.
/// </summary>
internal static class TransformerEncoder
{
    public static LayerSpec Read(AttributeReading r)
    {
        int layers = AttributeReading.Int(r.Arg(0)), heads = AttributeReading.Int(r.Arg(1)), feedForward = AttributeReading.Int(r.Arg(2));
        var activation = ActivationKind.GELU;
        bool causal = false;
        foreach (var named in r.Named)
            if (named.Key == "Activation") activation = r.Activation(named.Value, "Activation", -1);
            else if (named.Key == "Causal") causal = named.Value.Value is true;
        if (layers <= 0)
            r.Problems.Add(Problem.OnArgument(DiagnosticIds.NonPositiveSize, r.Index, "layers", 0, "The layers of a transformer encoder", layers.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        int i = r.Index;
        var attention = new ResidualSpec(i, null, "self-attention sublayer",
            new LayerSpec[] { new LayerNormSpec(i, "norm1"), new SelfAttentionSpec(i, "self_attn", heads, causal, HeadsArgument: 1) }.ToEquatableArray(),
            ActivationKind.Identity, 1, Nameless: true, Encoder: true);
        var feedForwardPart = new ResidualSpec(i, null, "feed-forward sublayer",
            new LayerSpec[]
            {
                new LayerNormSpec(i, "norm2"),
                new DenseSpec(i, "linear1", feedForward, activation, 0),
                new DenseSpec(i, "linear2", 0, ActivationKind.Identity, 0, KeepsWidth: true),
            }.ToEquatableArray(),
            ActivationKind.Identity, 1, Nameless: true, Encoder: true);
        return new ResidualSpec(i, r.Name, "TransformerEncoderLayer", new LayerSpec[] { attention, feedForwardPart }.ToEquatableArray(), ActivationKind.Identity,
            layers <= 0 ? 1 : layers, Skip: false, Segment: "layers.", Encoder: true);
    }
}
