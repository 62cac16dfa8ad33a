using System;

namespace GenNets;

/// <summary>The kinds of layer a network can hold.</summary>
public enum LayerKind
{
    /// <summary>Fully connected, on the last axis.</summary>
    Dense = 0,
    /// <summary>Inverted dropout.</summary>
    Dropout = 1,
    /// <summary>2-D convolution on (channels, height, width).</summary>
    Conv2D = 2,
    /// <summary>Max pooling per channel.</summary>
    MaxPool2D = 3,
    /// <summary>Average pooling per channel.</summary>
    AvgPool2D = 4,
    /// <summary>The mean of each channel.</summary>
    GlobalAvgPool = 5,
    /// <summary>A tensor read as one vector.</summary>
    Flatten = 6,
    /// <summary>Elman recurrent layer (tanh) on (time, features).</summary>
    SimpleRNN = 7,
    /// <summary>Long short-term memory on (time, features).</summary>
    LSTM = 8,
    /// <summary>Gated recurrent unit on (time, features).</summary>
    GRU = 9,
    /// <summary>The sum of two layers' outputs (a residual block's skip), with an activation after it.</summary>
    Add = 10,
    /// <summary>Layer normalisation over the last axis, with a learned weight and bias per feature.</summary>
    LayerNorm = 11,
    /// <summary>Batch normalisation per channel (after a convolution) or feature (after a dense layer), with running statistics.</summary>
    BatchNorm = 12,
    /// <summary>A learned vector per token id, looked up for each position.</summary>
    Embedding = 13,
    /// <summary>Each position's code added to a (positions, features) input: sinusoidal, or a learned table.</summary>
    PositionalEncoding = 14,
    /// <summary>Multi-head scaled dot-product self-attention on (positions, features), optionally causal.</summary>
    SelfAttention = 15,
}

/// <summary>
/// A generated network's description of one of its layers, as constants: what the reference
/// implementation, the summary table and the weight files read.
/// </summary>
/// <param name="Index">Position in the layer list, from 0 (the input is not a layer).</param>
/// <param name="Kind">What the layer computes.</param>
/// <param name="InputShape">Shape of one sample entering the layer.</param>
/// <param name="OutputShape">Shape of one sample leaving it.</param>
/// <param name="Activation">For a dense or convolution layer, or a residual sum, its activation.</param>
/// <param name="Probability">For dropout, the drop probability.</param>
/// <param name="Weight">For a dense or convolution layer, its weight tensor ([out, in] or [outC, inC, kh, kw]); for a normalisation, its weight (γ); for an embedding, its table [vocabulary, features]; for a learned positional encoding, its table [length, features].</param>
/// <param name="Bias">For a dense or convolution layer, its bias tensor [out]; for a normalisation, its bias (β).</param>
/// <param name="KernelHeight">For a convolution, the kernel's rows; for pooling, the window's side.</param>
/// <param name="KernelWidth">For a convolution, the kernel's columns; for pooling, the window's side.</param>
/// <param name="Stride">For a convolution or pooling, the step between windows.</param>
/// <param name="PadTop">For a convolution, the zero rows above the input.</param>
/// <param name="PadLeft">For a convolution, the zero columns left of the input.</param>
/// <param name="HiddenWeight">For a recurrent layer, <c>weight_hh_l0</c> [gates·units, units] (<see cref="Weight"/> is <c>weight_ih_l0</c>).</param>
/// <param name="HiddenBias">For a recurrent layer, <c>bias_hh_l0</c> [gates·units] (<see cref="Bias"/> is <c>bias_ih_l0</c>).</param>
/// <param name="ReturnSequences">For a recurrent layer, whether its output is every step's state or the last one.</param>
/// <param name="RunningMean">For batch normalisation, its <c>running_mean</c>; <c>running_var</c> follows it, then <c>num_batches_tracked</c>.</param>
/// <param name="Description">A short description such as <c>Dense 784→256 ReLU</c>, the same the generated code's comments give.</param>
/// <param name="Inputs">
/// The layers whose outputs the layer reads, by index; −1 is the network's input. Null: the layer before it (or the input).
/// An <see cref="LayerKind.Add"/> reads two: the block's last layer, then the skip (the block's input, or its projection).
/// </param>
/// <param name="OutputWeight">For self-attention, <c>out_proj.weight</c> [features, features] (<see cref="Weight"/> is <c>in_proj_weight</c>, <see cref="Bias"/> <c>in_proj_bias</c>).</param>
/// <param name="OutputBias">For self-attention, <c>out_proj.bias</c> [features].</param>
/// <param name="Heads">For self-attention, its heads.</param>
/// <param name="Causal">For self-attention, whether each position attends only to itself and those before it.</param>
public sealed record LayerInfo(
    int Index,
    LayerKind Kind,
    int[] InputShape,
    int[] OutputShape,
    Activation Activation = Activation.Identity,
    float Probability = 0f,
    ParameterTensor? Weight = null,
    ParameterTensor? Bias = null,
    int KernelHeight = 0,
    int KernelWidth = 0,
    int Stride = 0,
    int PadTop = 0,
    int PadLeft = 0,
    ParameterTensor? HiddenWeight = null,
    ParameterTensor? HiddenBias = null,
    bool ReturnSequences = false,
    ParameterTensor? RunningMean = null,
    string Description = "",
    int[]? Inputs = null,
    ParameterTensor? OutputWeight = null,
    ParameterTensor? OutputBias = null,
    int Heads = 0,
    bool Causal = false)
{
    /// <summary>The indices of the layers whose outputs this layer reads (−1: the network's input).</summary>
    public int[] Sources => Inputs ?? [Index - 1];

    /// <summary>For a recurrent layer, its sizes as the kernels take them; otherwise null.</summary>
    public Kernels.RecurrentGeometry? Recurrent => Kind is LayerKind.SimpleRNN or LayerKind.LSTM or LayerKind.GRU
        ? new Kernels.RecurrentGeometry(Kind, InputShape[0], InputShape[1], HiddenWeight!.Shape[1], ReturnSequences)
        : null;

    /// <summary>For a convolution, its sizes as the kernels take them; otherwise null.</summary>
    public Kernels.Conv2DGeometry? Convolution => Kind == LayerKind.Conv2D
        ? new Kernels.Conv2DGeometry(InputShape[0], InputShape[1], InputShape[2], OutputShape[0], KernelHeight, KernelWidth, Stride, PadTop, PadLeft, OutputShape[1], OutputShape[2])
        : null;

    /// <summary>Elements of one sample entering the layer.</summary>
    public int InputLength => Product(InputShape);

    /// <summary>Elements of one sample leaving the layer.</summary>
    public int OutputLength => Product(OutputShape);

    private static int Product(int[] shape)
    {
        int p = 1;
        foreach (int d in shape) p *= d;
        return p;
    }
}
