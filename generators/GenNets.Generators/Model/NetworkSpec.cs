namespace GenNets.Generators.Model;

// The parsed declaration of a network: what the attributes say, before any shape is inferred.
// It holds only strings, numbers and EquatableArrays (never a symbol, syntax node or location), so
// the incremental pipeline can compare two versions of it by value and skip unchanged networks.

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
    GELUTanh = 7,
}

/// <summary>Mirrors GenNets.LossKind.</summary>
internal enum LossKindSpec
{
    MeanSquaredError = 0,
    SoftmaxCrossEntropy = 1,
    BinaryCrossEntropyWithLogits = 2,
}

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
    int LossAttributeIndex,
    int Vocabulary = 0)
{
    /// <summary>Whether the input is token ids ([TokenInput], of <see cref="Vocabulary"/> ids) rather than floats.</summary>
    public bool ReadsTokens => Vocabulary > 0;

    /// <summary>
    /// The generated file's name: the metadata name (namespace, enclosing types, the class) with '+' read as '.', and
    /// every character other than a letter, digit, '_' or '.' replaced by '_'; when something had to be replaced (a
    /// generic enclosing type's '`', a non-ASCII letter), a hash of the metadata name follows, so two networks never
    /// share a file name.
    /// </summary>
    public string HintName => MakeHintName(MetadataName);

    internal static string MakeHintName(string metadataName)
    {
        var name = new System.Text.StringBuilder(metadataName.Length + 16);
        bool replaced = false;
        foreach (char c in metadataName)
        {
            if (c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '.') name.Append(c);
            else if (c == '+') name.Append('.');
            else
            {
                name.Append('_');
                replaced = true;
            }
        }
        if (replaced)
        {
            uint hash = 2166136261; // FNV-1a: stable across runs and platforms, unlike string.GetHashCode
            foreach (char c in metadataName) hash = (hash ^ c) * 16777619;
            name.Append('.').Append(hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
        }
        return name.Append(".g.cs").ToString();
    }
}
