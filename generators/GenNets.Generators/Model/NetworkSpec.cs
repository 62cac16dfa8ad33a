namespace GenNets.Generators.Model;

// The parsed declaration of a network: what the attributes say, before any shape is inferred.
// It holds only strings, numbers and EquatableArrays (never a symbol, syntax node or location), so
// the incremental pipeline can compare two versions of it by value and skip unchanged networks.

/// <summary>Kinds of layer attribute, mirroring GenNets.LayerKind plus the non-layer attributes.</summary>
internal enum SpecKind
{
    Dense = 0,
    Dropout = 1,
}

/// <summary>Mirrors GenNets.Activation (the generator cannot reference the runtime).</summary>
internal enum ActivationKind
{
    Identity = 0,
    ReLU = 1,
    LeakyReLU = 2,
    Sigmoid = 3,
    Tanh = 4,
    GELU = 5,
    Softmax = 6,
}

/// <summary>Mirrors GenNets.LossKind.</summary>
internal enum LossKindSpec
{
    MeanSquaredError = 0,
    SoftmaxCrossEntropy = 1,
    BinaryCrossEntropyWithLogits = 2,
}

/// <summary>One layer attribute as written. <see cref="AttributeIndex"/> locates it among the class's attributes.</summary>
internal sealed record LayerSpec(
    SpecKind Kind,
    int AttributeIndex,
    int Units,
    ActivationKind Activation,
    float Probability,
    int Initializer,
    string? Name);

/// <summary>A type that encloses the network class, as a declaration header such as <c>partial class Outer</c>.</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>The whole declaration of one network class.</summary>
internal sealed record NetworkSpec(
    string? Namespace,
    string ClassName,
    string MetadataName,
    EquatableArray<ContainingType> ContainingTypes,
    EquatableArray<int> InputShape,
    int InputAttributeIndex,
    EquatableArray<LayerSpec> Layers,
    LossKindSpec? Loss,
    int LossAttributeIndex);
