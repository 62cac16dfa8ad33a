using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Threading;
using GenNets.Generators.Model;
using Microsoft.CodeAnalysis;

namespace GenNets.Generators.Parsing;

/// <summary>
/// One layer attribute as its kind's reader (registered in GenNets.Generators.Layers.LayerRegistry) sees it: the
/// arguments, where the attribute is, and where to report what is wrong. Readers record what is written; numbers are
/// checked later, by the layer's shape rule.
/// </summary>
internal sealed class AttributeReading(AttributeData attribute, int index, int position, List<Problem> problems,
    ImmutableArray<INamedTypeSymbol> enclosing, CancellationToken cancellationToken)
{
    public AttributeData Attribute { get; } = attribute;

    /// <summary>The attribute's index among the class's attributes (a block's layers carry their use site's).</summary>
    public int Index { get; } = index;

    /// <summary>The layer's position in its list (the network's or the block's).</summary>
    public int Position { get; } = position;

    public List<Problem> Problems { get; } = problems;

    /// <summary>The blocks being read, outermost first: the network class, then each block used on the way here.</summary>
    public ImmutableArray<INamedTypeSymbol> Enclosing { get; } = enclosing;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Positional arguments given.</summary>
    public int Count => Attribute.ConstructorArguments.Length;

    /// <summary>The positional argument <paramref name="n"/>, or the default constant when there are fewer.</summary>
    public TypedConstant Arg(int n) => Attribute.ConstructorArguments.Length > n ? Attribute.ConstructorArguments[n] : default;

    public IEnumerable<KeyValuePair<string, TypedConstant>> Named => Attribute.NamedArguments;

    /// <summary>The named argument <c>Name</c>: the user's prefix for the layer's tensors, or null when absent or blank.</summary>
    public string? Name
    {
        get
        {
            foreach (var named in Attribute.NamedArguments)
                if (named.Key == "Name") return NameOrNull(named.Value.Value as string);
            return null;
        }
    }

    public static string? NameOrNull(string? name) => string.IsNullOrWhiteSpace(name) ? null : name;

    public static int Int(TypedConstant constant)
        => constant.Kind is TypedConstantKind.Primitive or TypedConstantKind.Enum && constant.Value is int v ? v : 0;

    public static float Float(TypedConstant constant) => constant.Value is float f ? f : constant.Value is double d ? (float)d : 0f;

    /// <summary>An Activation argument (named when <paramref name="position"/> is −1); a value outside the enum is reported and read as Identity.</summary>
    public ActivationKind Activation(TypedConstant constant, string argument, int position)
        => (ActivationKind)Enum(constant, MaxActivation, "Activation", argument, position);

    /// <summary>An Initializer argument; a value outside the enum is reported and read as the default.</summary>
    public int Initializer(TypedConstant constant, string argument, int position) => Enum(constant, MaxInitializer, "Initializer", argument, position);

    private const int MaxActivation = 7, MaxInitializer = 4;

    // An enum argument; a value outside the enum is reported on the argument and read as the enum's default.
    public int Enum(TypedConstant constant, int max, string enumName, string argument, int position)
    {
        int value = Int(constant);
        if (value >= 0 && value <= max) return value;
        Problems.Add(Problem.OnArgument(DiagnosticIds.InvalidEnumValue, Index, argument, position, value.ToString(CultureInfo.InvariantCulture), enumName));
        return 0;
    }
}
