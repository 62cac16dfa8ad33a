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
    /// <summary>
    /// GELU's tanh approximation, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as GPT-2 uses it and PyTorch's
    /// <c>nn.GELU(approximate='tanh')</c>.
    /// </summary>
    GELUTanh = 7,
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

/// <summary>
/// The input of a network that reads text or other symbols: <c>length</c> integer token ids per sample, each
/// in [0, <c>vocabulary</c>). The first layer must be an [Embedding]. <c>Forward</c> and training take the ids
/// as <c>ReadOnlySpan&lt;int&gt;</c> (or as floats holding whole numbers, through the float API every network has); an id
/// outside the vocabulary is an error naming the sample, the position and the id.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TokenInputAttribute : Attribute
{
    /// <summary>Declares <paramref name="length"/> positions of token ids in [0, <paramref name="vocabulary"/>).</summary>
    public TokenInputAttribute(int length, int vocabulary)
    {
        Length = length;
        Vocabulary = vocabulary;
    }

    /// <summary>Positions per sample.</summary>
    public int Length { get; }

    /// <summary>How many distinct ids there are.</summary>
    public int Vocabulary { get; }
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

/// <summary>
/// A 2-D convolution on a (channels, height, width) sample, as PyTorch's <c>Conv2d</c>: <c>weight</c> [filters, inChannels,
/// kernelHeight, kernelWidth] and <c>bias</c> [filters]. The output is [filters, (H + 2·Padding − kernelHeight) / Stride + 1,
/// (W + 2·Padding − kernelWidth) / Stride + 1].
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Conv2DAttribute : Attribute
{
    /// <summary>The value of <see cref="Padding"/> that keeps the height and width (stride 1 only; an even kernel pads one more below and right, as PyTorch).</summary>
    public const int Same = -1;

    /// <summary>Declares a convolution with <paramref name="filters"/> output channels and a square kernel.</summary>
    public Conv2DAttribute(int filters, int kernel) : this(filters, kernel, kernel)
    {
    }

    /// <summary>Declares a convolution with <paramref name="filters"/> output channels and a rectangular kernel.</summary>
    public Conv2DAttribute(int filters, int kernelHeight, int kernelWidth)
    {
        Filters = filters;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
    }

    /// <summary>Output channels.</summary>
    public int Filters { get; }

    /// <summary>Kernel rows.</summary>
    public int KernelHeight { get; }

    /// <summary>Kernel columns.</summary>
    public int KernelWidth { get; }

    /// <summary>Step between windows along both axes; 1 by default.</summary>
    public int Stride { get; set; } = 1;

    /// <summary>
    /// Zero rows and columns added on every side; 0 by default, <see cref="Same"/> (−1) to keep the size. <c>Padding = -1</c>
    /// is <see cref="Same"/>; any other negative value is refused (GN0027).
    /// </summary>
    public int Padding { get; set; }

    /// <summary>The activation applied to the output.</summary>
    public Activation Activation { get; set; }

    /// <summary>How the weights are drawn; <see cref="Initializer.Auto"/> picks from the activation.</summary>
    public Initializer Init { get; set; }

    /// <summary>Prefix of the layer's tensor names in a weights file; by default the layer's index.</summary>
    public string? Name { get; set; }
}

/// <summary>Max pooling over size×size windows of each channel, <see cref="Stride"/> apart (by default the size), no padding.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxPool2DAttribute : Attribute
{
    /// <summary>Declares max pooling over <paramref name="size"/>×<paramref name="size"/> windows.</summary>
    public MaxPool2DAttribute(int size) => Size = size;

    /// <summary>The window's side.</summary>
    public int Size { get; }

    /// <summary>Step between windows; 0 (the default) means the window's size.</summary>
    public int Stride { get; set; }
}

/// <summary>Average pooling over size×size windows of each channel, <see cref="Stride"/> apart (by default the size), no padding.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AvgPool2DAttribute : Attribute
{
    /// <summary>Declares average pooling over <paramref name="size"/>×<paramref name="size"/> windows.</summary>
    public AvgPool2DAttribute(int size) => Size = size;

    /// <summary>The window's side.</summary>
    public int Size { get; }

    /// <summary>Step between windows; 0 (the default) means the window's size.</summary>
    public int Stride { get; set; }
}

/// <summary>The mean of each channel: (channels, height, width) → (channels).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAvgPoolAttribute : Attribute
{
}

/// <summary>Reads a sample's tensor as one vector, in row-major order (as PyTorch's <c>Flatten</c>); nothing is copied.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class FlattenAttribute : Attribute
{
}

/// <summary>
/// What the recurrent layers share. A recurrent layer takes a (time, features) sample and runs one cell per step with the
/// same weights, from a zero state. Parameters follow PyTorch (<c>nn.RNN</c>, <c>nn.LSTM</c>, <c>nn.GRU</c> with
/// <c>batch_first=True</c>): <c>weight_ih_l0</c> [gates·units, features], <c>weight_hh_l0</c> [gates·units, units],
/// <c>bias_ih_l0</c> and <c>bias_hh_l0</c> [gates·units]. Weights start uniform in ±1/√units, as PyTorch's; biases at zero.
/// </summary>
public abstract class RecurrentAttribute : Attribute
{
    /// <summary>Declares a recurrent layer with <paramref name="units"/> hidden units.</summary>
    protected RecurrentAttribute(int units) => Units = units;

    /// <summary>Hidden units: the size of the state and of each output step.</summary>
    public int Units { get; }

    /// <summary>True: the output is every step's hidden state, (time, units). False (the default): the last step's, (units).</summary>
    public bool ReturnSequences { get; set; }

    /// <summary>Prefix of the layer's tensor names in a weights file (<c>{Name}.weight_ih_l0</c> …); by default the layer's index.</summary>
    public string? Name { get; set; }
}

/// <summary>An Elman recurrent layer: hₜ = tanh(W_ih·xₜ + b_ih + W_hh·hₜ₋₁ + b_hh), as PyTorch's <c>nn.RNN</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SimpleRNNAttribute(int units) : RecurrentAttribute(units)
{
}

/// <summary>
/// A long short-term memory layer, as PyTorch's <c>nn.LSTM</c>: gates in the order input, forget, cell (g), output;
/// cₜ = f⊙cₜ₋₁ + i⊙g, hₜ = o⊙tanh(cₜ).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LSTMAttribute(int units) : RecurrentAttribute(units)
{
    /// <summary>
    /// The starting value of the forget gate's bias (in <c>bias_ih_l0</c>); 0 by default, as PyTorch. 1 keeps the cell's
    /// memory open from the start (Gers et al., 2000; Keras's <c>unit_forget_bias</c>), which helps on long dependencies.
    /// </summary>
    public float ForgetBias { get; set; }
}

/// <summary>
/// A gated recurrent unit layer, as PyTorch's <c>nn.GRU</c>: gates in the order reset, update (z), new (n), with the reset
/// gate applied to W_hn·hₜ₋₁ + b_hn; hₜ = (1 − z)⊙n + z⊙hₜ₋₁.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GRUAttribute(int units) : RecurrentAttribute(units)
{
}

/// <summary>
/// Layer normalisation over the last axis (per position of a sequence), as PyTorch's <c>nn.LayerNorm(features)</c>:
/// y = (x − mean)/√(var + ε)·weight + bias, with the biased variance, ε = 1e-5, weight starting at 1 and bias at 0.
/// Its tensors are <c>{Name}.weight</c> and <c>{Name}.bias</c>; neither decays under AdamW.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LayerNormAttribute : Attribute
{
    /// <summary>Prefix of the layer's tensor names in a weights file; by default the layer's index.</summary>
    public string? Name { get; set; }
}

/// <summary>
/// Batch normalisation, as PyTorch's <c>BatchNorm2d</c> after a convolution (per channel, over the batch and the image) or
/// <c>BatchNorm1d</c> after a dense layer (per feature, over the batch). Training normalises by the batch's mean and
/// biased variance, over the whole batch however it is split over threads, and updates the running statistics with
/// momentum 0.1 from the unbiased variance; inference uses the running statistics and is folded into the convolution or
/// dense layer before it. Tensors: <c>{Name}.weight</c> (1), <c>{Name}.bias</c> (0), and the buffers
/// <c>{Name}.running_mean</c> (0), <c>{Name}.running_var</c> (1) and <c>{Name}.num_batches_tracked</c>, which are saved and
/// loaded but never optimised. ε = 1e-5.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNormAttribute : Attribute
{
    /// <summary>The activation applied after the normalisation (ReLU in ResNet's blocks); none by default.</summary>
    public Activation Activation { get; set; }

    /// <summary>Prefix of the layer's tensor names in a weights file; by default the layer's index.</summary>
    public string? Name { get; set; }
}

/// <summary>
/// A lookup table of one learned vector of <c>dimension</c> features per token id, as PyTorch's <c>nn.Embedding</c>:
/// (positions) ids in, (positions, dimension) out. Right after a [TokenInput]. Its tensor is <c>{Name}.weight</c>
/// [vocabulary, dimension], drawn from N(0, 1) as PyTorch's.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EmbeddingAttribute : Attribute
{
    /// <summary>Declares an embedding of <paramref name="dimension"/> features per token.</summary>
    public EmbeddingAttribute(int dimension) => Dimension = dimension;

    /// <summary>Features per token: the model's width.</summary>
    public int Dimension { get; }

    /// <summary>Prefix of the layer's tensor names in a weights file; by default the layer's index.</summary>
    public string? Name { get; set; }
}

/// <summary>
/// Adds each position's code to a (positions, features) input, so that attention, which sees a set, knows the order.
/// By default the sinusoids of "Attention Is All You Need": PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d)),
/// fixed and not saved. With <see cref="Learned"/>, a learned table <c>{Name}.weight</c> [<see cref="Length"/>, features],
/// drawn from N(0, 0.02²) as GPT-2's, of which the first <c>positions</c> rows are used.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class PositionalEncodingAttribute : Attribute
{
    /// <summary>A learned table instead of the fixed sinusoids.</summary>
    public bool Learned { get; set; }

    /// <summary>Rows of a learned table: at least the input's positions (0, the default: exactly those).</summary>
    public int Length { get; set; }

    /// <summary>Prefix of the layer's tensor names in a weights file; by default the layer's index.</summary>
    public string? Name { get; set; }
}

/// <summary>
/// Multi-head scaled dot-product self-attention on a (positions, features) input, as PyTorch's
/// <c>nn.MultiheadAttention(features, heads, batch_first=True)</c> called with the input as query, key and value:
/// q, k, v = x·in_proj_weightᵀ + in_proj_bias, each head's softmax(q·kᵀ/√(features/heads))·v, the heads concatenated
/// and projected by <c>out_proj</c>. Tensors: <c>{Name}.in_proj_weight</c> [3·features, features] (q, k, v stacked),
/// <c>{Name}.in_proj_bias</c> [3·features], <c>{Name}.out_proj.weight</c> [features, features], <c>{Name}.out_proj.bias</c>.
/// The features must divide by the heads.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SelfAttentionAttribute : Attribute
{
    /// <summary>Declares attention with <paramref name="heads"/> heads.</summary>
    public SelfAttentionAttribute(int heads) => Heads = heads;

    /// <summary>Heads, each attending over features / heads of the features.</summary>
    public int Heads { get; }

    /// <summary>Each position attends only to itself and the positions before it (a language model's mask).</summary>
    public bool Causal { get; set; }

    /// <summary>Prefix of the layer's tensor names in a weights file; by default the layer's index.</summary>
    public string? Name { get; set; }
}

/// <summary>
/// A stack of <c>layers</c> pre-LN transformer encoder layers on (positions, features), as PyTorch's
/// <c>nn.TransformerEncoder(nn.TransformerEncoderLayer(features, heads, feedForward, dropout=0, activation, batch_first=True,
/// norm_first=True), layers)</c>. Each layer is x = x + SelfAttention(LayerNorm(x)), then x = x + Dense(features)(act(Dense(feedForward)(LayerNorm(x)))).
/// Tensor names as PyTorch's: <c>{Name}.layers.{i}.norm1.weight</c>, <c>….self_attn.in_proj_weight</c>,
/// <c>….norm2.weight</c>, <c>….linear1.weight</c>, <c>….linear2.weight</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TransformerEncoderAttribute : Attribute
{
    /// <summary>Declares the stack.</summary>
    public TransformerEncoderAttribute(int layers, int heads, int feedForward)
    {
        Layers = layers;
        Heads = heads;
        FeedForward = feedForward;
    }

    /// <summary>Encoder layers.</summary>
    public int Layers { get; }

    /// <summary>Attention heads of each layer.</summary>
    public int Heads { get; }

    /// <summary>Units of the feed-forward part's hidden layer.</summary>
    public int FeedForward { get; }

    /// <summary>The feed-forward part's activation: GELU unless set.</summary>
    public Activation Activation { get; set; } = Activation.GELU;

    /// <summary>Causal attention in every layer (a language model).</summary>
    public bool Causal { get; set; }

    /// <summary>Prefix of the stack's tensor names in a weights file; by default the layer's index.</summary>
    public string? Name { get; set; }
}

/// <summary>
/// Marks a class whose layer attributes form a block: a piece of network to use in others, as <c>[Residual(typeof(B))]</c>
/// does. A block has no [Input] and no [Loss]; its shapes come from where it is used, so the same block serves at any
/// width, and every size is still a constant there. A block may use other blocks, but never itself.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BlockAttribute : Attribute
{
}

/// <summary>
/// A residual block: y = act(F(x) + x), where F is the block's layers (He et al., 2016). When F changes the shape (a stride,
/// more channels, another width) the skip is a projection: a 1×1 convolution with the stride, or a dense layer, as
/// PyTorch's ResNet <c>downsample</c>. Gradients reach x through the skip unchanged, so deep stacks still train.
/// Tensor names nest as PyTorch's: <c>{Name}.{repeat}.{layer}.weight</c>, the projection's <c>{Name}.{repeat}.downsample.0.weight</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ResidualAttribute : Attribute
{
    /// <summary>Declares a residual block of the layers of <paramref name="block"/>, a class marked [Block].</summary>
    public ResidualAttribute(Type block) => Block = block;

    /// <summary>The [Block] class whose layers are F.</summary>
    public Type Block { get; }

    /// <summary>The activation applied after the sum (ReLU in ResNet's basic block); none by default.</summary>
    public Activation Activation { get; set; }

    /// <summary>How many times the block is applied, one after another, each with weights of its own; 1 by default.</summary>
    public int Repeat { get; set; } = 1;

    /// <summary>
    /// Prefix of the blocks' tensor names (<c>layer1</c> gives <c>layer1.0.conv1.weight</c>); by default the block's position.
    /// Consecutive residuals with the same name number on: the second's first block is <c>{Name}.{first's Repeat}</c>.
    /// </summary>
    public string? Name { get; set; }
}

/// <summary>
/// The layers of a [Block] class in place, with no skip: <c>Repeat</c> copies one after another, each with weights of its
/// own, as an <c>nn.Sequential</c> of blocks. The plain counterpart of <see cref="ResidualAttribute"/>, with the same
/// tensor names (<c>{Name}.{repeat}.{layer}.weight</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SequentialAttribute : Attribute
{
    /// <summary>Declares the layers of <paramref name="block"/>, a class marked [Block], in place.</summary>
    public SequentialAttribute(Type block) => Block = block;

    /// <summary>The [Block] class whose layers are used.</summary>
    public Type Block { get; }

    /// <summary>How many times the block's layers are applied, one after another; 1 by default.</summary>
    public int Repeat { get; set; } = 1;

    /// <summary>Prefix of the blocks' tensor names; by default the block's position. Consecutive uses of a name number on.</summary>
    public string? Name { get; set; }
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
