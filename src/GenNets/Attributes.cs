using System;

namespace GenNets;

// The attributes below declare a network. Their order on the class is the layer order, read top
// to bottom like nn.Sequential. They carry no behaviour: the GenNets generator reads them at
// compile time. AllowMultiple is true even for [Input] and [Loss] so that a repeated one is
// reported by a GenNets diagnostic that says what is wrong, not by a generic compiler error.

/// <summary>Activation applied to a layer's output.</summary>
public enum Activation
{
    /// <summary>No activation: the layer's output is its affine result.</summary>
    Identity = 0,
    /// <summary>max(0, x).</summary>
    ReLU = 1,
    /// <summary>x for x &gt; 0, 0.01·x otherwise (PyTorch's default negative slope).</summary>
    LeakyReLU = 2,
    /// <summary>1 / (1 + e^(−x)).</summary>
    Sigmoid = 3,
    /// <summary>tanh(x).</summary>
    Tanh = 4,
    /// <summary>x·Φ(x) with the exact normal CDF, as PyTorch's default <c>nn.GELU()</c>.</summary>
    GELU = 5,
    /// <summary>Softmax over the layer's units; allowed only on the last layer.</summary>
    Softmax = 6,
}

/// <summary>The training loss of a network, applied to its final output.</summary>
public enum LossKind
{
    /// <summary>Mean over every output element of (y − t)², as PyTorch's <c>MSELoss</c>.</summary>
    MeanSquaredError = 0,
    /// <summary>Softmax followed by cross-entropy, fused and numerically stable, mean over the batch, as <c>CrossEntropyLoss</c>. The network outputs logits.</summary>
    SoftmaxCrossEntropy = 1,
    /// <summary>Sigmoid followed by binary cross-entropy, fused and stable, mean over every element, as <c>BCEWithLogitsLoss</c>. The network outputs logits.</summary>
    BinaryCrossEntropyWithLogits = 2,
}

/// <summary>How a layer's weights are drawn at construction. Biases start at zero.</summary>
public enum Initializer
{
    /// <summary>He (Kaiming) uniform for ReLU-family activations, Glorot (Xavier) uniform otherwise.</summary>
    Auto = 0,
    /// <summary>U(−a, a) with a = √(6 / (fan_in + fan_out)).</summary>
    GlorotUniform = 1,
    /// <summary>N(0, 2 / (fan_in + fan_out)).</summary>
    GlorotNormal = 2,
    /// <summary>U(−a, a) with a = √(6 / fan_in).</summary>
    HeUniform = 3,
    /// <summary>N(0, 2 / fan_in).</summary>
    HeNormal = 4,
}

/// <summary>The shape of one input sample. A vector is <c>[Input(784)]</c>; later layer families take (time, features) or (channels, height, width).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class InputAttribute : Attribute
{
    /// <summary>Declares the input shape, outermost axis first.</summary>
    public InputAttribute(params int[] shape) => Shape = shape;

    /// <summary>The input shape, outermost axis first.</summary>
    public int[] Shape { get; }
}

/// <summary>A fully connected layer: y = x·Wᵀ + b, applied to the last axis (per position for a sequence).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute : Attribute
{
    /// <summary>Declares a dense layer with <paramref name="units"/> outputs and an activation.</summary>
    public DenseAttribute(int units, Activation activation = Activation.Identity)
    {
        Units = units;
        Activation = activation;
    }

    /// <summary>Number of output units.</summary>
    public int Units { get; }

    /// <summary>The activation applied to the output.</summary>
    public Activation Activation { get; }

    /// <summary>How the weights are drawn; <see cref="Initializer.Auto"/> picks from the activation.</summary>
    public Initializer Init { get; set; }

    /// <summary>Prefix of the layer's tensor names in a weights file (<c>{Name}.weight</c>, <c>{Name}.bias</c>); by default the layer's index.</summary>
    public string? Name { get; set; }
}

/// <summary>Inverted dropout: in training each value is zeroed with probability p and the rest scaled by 1/(1−p); in inference it does nothing.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute : Attribute
{
    /// <summary>Declares dropout with drop probability <paramref name="probability"/> in [0, 1).</summary>
    public DropoutAttribute(float probability) => Probability = probability;

    /// <summary>The probability of zeroing each value in training.</summary>
    public float Probability { get; }
}

/// <summary>The loss the network is trained with.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LossAttribute : Attribute
{
    /// <summary>Declares the training loss.</summary>
    public LossAttribute(LossKind kind) => Kind = kind;

    /// <summary>The loss.</summary>
    public LossKind Kind { get; }
}
