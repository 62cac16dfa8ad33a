using System.Linq;

namespace GenNets.Generators.Model;

// One record per layer kind: what its attribute says, as written. AttributeIndex locates the attribute among the class's
// attributes (for diagnostics); Name is the user's prefix for the layer's tensors, when given.

/// <summary>One layer attribute as written.</summary>
internal abstract record LayerSpec(int AttributeIndex, string? Name)
{
    public abstract SpecKind Kind { get; }

    /// <summary>The activation applied to the layer's output (dense and convolution layers have one).</summary>
    public virtual ActivationKind OutputActivation => ActivationKind.Identity;

    /// <summary>Whether the layer has tensors of its own (and so offset constants and a tensor name).</summary>
    public virtual bool HasTensors => false;
}

/// <summary><c>[Dense(units, activation)]</c>: fully connected on the last axis.</summary>
internal sealed record DenseSpec(int AttributeIndex, string? Name, int Units, ActivationKind Activation, int Initializer)
    : LayerSpec(AttributeIndex, Name)
{
    public override SpecKind Kind => SpecKind.Dense;
    public override ActivationKind OutputActivation => Activation;
    public override bool HasTensors => true;
}

/// <summary>
/// <c>[Conv2D(filters, kernelHeight, kernelWidth)]</c>. Padding −1 is "same"; <see cref="KernelWidthArgument"/> is the
/// position of the kernel's width among the constructor's arguments (for diagnostics).
/// </summary>
internal sealed record Conv2DSpec(int AttributeIndex, string? Name, int Filters, int KernelHeight, int KernelWidth, int KernelWidthArgument,
    int Stride, int Padding, ActivationKind Activation, int Initializer)
    : LayerSpec(AttributeIndex, Name)
{
    public override SpecKind Kind => SpecKind.Conv2D;
    public override ActivationKind OutputActivation => Activation;
    public override bool HasTensors => true;

    /// <summary>Rows and columns of zero padding added above and left; "same" pads the rest below and right.</summary>
    public (int Top, int Left) PaddingBefore => Padding == -1 ? ((KernelHeight - 1) / 2, (KernelWidth - 1) / 2) : (Padding, Padding);
}

/// <summary><c>[MaxPool2D(size)]</c> or <c>[AvgPool2D(size)]</c>: a square window; Stride 0 means the window's size.</summary>
internal sealed record PoolSpec(int AttributeIndex, bool Max, int Size, int Stride) : LayerSpec(AttributeIndex, null)
{
    public override SpecKind Kind => Max ? SpecKind.MaxPool2D : SpecKind.AvgPool2D;

    /// <summary>The step between windows.</summary>
    public int Step => Stride == 0 ? Size : Stride;
}

/// <summary><c>[GlobalAvgPool]</c>: the mean of each channel.</summary>
internal sealed record GlobalAvgPoolSpec(int AttributeIndex) : LayerSpec(AttributeIndex, null)
{
    public override SpecKind Kind => SpecKind.GlobalAvgPool;
}

/// <summary><c>[Flatten]</c>: the tensor read as one vector.</summary>
internal sealed record FlattenSpec(int AttributeIndex) : LayerSpec(AttributeIndex, null)
{
    public override SpecKind Kind => SpecKind.Flatten;
}

/// <summary><c>[Dropout(p)]</c>: inverted dropout in training, the identity in inference.</summary>
internal sealed record DropoutSpec(int AttributeIndex, float Probability) : LayerSpec(AttributeIndex, null)
{
    public override SpecKind Kind => SpecKind.Dropout;
}

/// <summary><c>[LayerNorm]</c>: normalisation over the last axis, with a weight and a bias per feature.</summary>
internal sealed record LayerNormSpec(int AttributeIndex, string? Name) : LayerSpec(AttributeIndex, Name)
{
    public override SpecKind Kind => SpecKind.LayerNorm;
    public override bool HasTensors => true;
}

/// <summary><c>[BatchNorm]</c>: normalisation per channel (or feature) over the batch, with running statistics, then <see cref="Activation"/>.</summary>
internal sealed record BatchNormSpec(int AttributeIndex, string? Name, ActivationKind Activation) : LayerSpec(AttributeIndex, Name)
{
    public override SpecKind Kind => SpecKind.BatchNorm;
    public override ActivationKind OutputActivation => Activation;
    public override bool HasTensors => true;
}

/// <summary><c>[SimpleRNN]</c>, <c>[LSTM]</c> or <c>[GRU]</c> (<see cref="Cell"/>) of <see cref="Units"/> hidden units.</summary>
internal sealed record RecurrentSpec(int AttributeIndex, string? Name, SpecKind Cell, int Units, bool ReturnSequences, float ForgetBias)
    : LayerSpec(AttributeIndex, Name)
{
    public override SpecKind Kind => Cell;
    public override bool HasTensors => true;

    /// <summary>Gates of the cell: 1, 4 or 3.</summary>
    public int Gates => Cell switch { SpecKind.LSTM => 4, SpecKind.GRU => 3, _ => 1 };
}

/// <summary>
/// <c>[Residual(typeof(B))]</c>: the layers of the [Block] class <see cref="Block"/> (<see cref="Body"/>, read from its
/// attributes), applied <see cref="Repeat"/> times, each with its input added back after it (unless <see cref="Skip"/> is false:
/// <c>[Sequential(typeof(B))]</c>, the block's layers in place). The body's layers carry the index of
/// the [Residual] attribute: what is wrong in them is reported where the block is used, where its shapes are known.
/// </summary>
internal sealed record ResidualSpec(int AttributeIndex, string? Name, string Block, EquatableArray<LayerSpec> Body, ActivationKind Activation, int Repeat, bool Skip = true)
    : LayerSpec(AttributeIndex, Name)
{
    public override SpecKind Kind => SpecKind.Residual;
    public override ActivationKind OutputActivation => Activation;
    public override bool HasTensors => Body.Any(l => l.HasTensors);
}

/// <summary>
/// The sum at the end of a residual block (made by the shape engine, never written): the block's output plus its input
/// (or the input's projection), then <see cref="Activation"/>.
/// </summary>
internal sealed record AddSpec(int AttributeIndex, ActivationKind Activation) : LayerSpec(AttributeIndex, null)
{
    public override SpecKind Kind => SpecKind.Add;
    public override ActivationKind OutputActivation => Activation;
}
