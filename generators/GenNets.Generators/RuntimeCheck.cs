using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GenNets.Generators;

/// <summary>
/// The GenNets runtime a compilation references, as the generator sees it: its version (null when there is none), its
/// generated-code contract (null when it has none: a runtime older than the contract) and, when that contract is not
/// the generator's, which placeholder families still compile against it.
/// </summary>
internal sealed record RuntimeInfo(string? Version, int? Contract, bool DensePlaceholderFits, bool ConvolutionalPlaceholderFits, bool RecurrentPlaceholderFits)
{
    public bool Referenced => Version is not null;

    /// <summary>The runtime is the one the generated code is written for.</summary>
    public bool Matches => Referenced && Contract == RuntimeContract.Expected;

    public bool PlaceholderFits(NetworkFamily family) => family switch
    {
        NetworkFamily.Convolutional => ConvolutionalPlaceholderFits,
        NetworkFamily.Recurrent => RecurrentPlaceholderFits,
        _ => DensePlaceholderFits,
    };
}

/// <summary>
/// A network class's name and where it is declared. The location holds on to its syntax tree, so a site changes with
/// every edit of its file: the pipeline keeps sites only while there is something to report on them.
/// </summary>
internal sealed record NetworkSite(string ClassName, Location Location)
{
    public static NetworkSite Of(ClassDeclarationSyntax declaration) => new(declaration.Identifier.ValueText, declaration.Identifier.GetLocation());
}

/// <summary>
/// Checks that the compilation references the runtime the generated code is written for (see <see cref="RuntimeContract"/>).
/// </summary>
internal static class RuntimeCheck
{
    private const string RuntimeAssemblyName = "GenNets";

    // Placeholders probed against one runtime assembly: the answer holds as long as that assembly does (a probe compiles
    // three small classes, and a compilation changes with every keystroke).
    private static readonly ConditionalWeakTable<IAssemblySymbol, RuntimeInfo> Probed = new();

    /// <summary>The runtime <paramref name="compilation"/> references.</summary>
    public static RuntimeInfo Read(Compilation compilation, CancellationToken cancellationToken)
    {
        var assembly = compilation.GetTypeByMetadataName(NetworkParser.InputAttributeName)?.ContainingAssembly;
        if (assembly is null)
        {
            // A GenNets.dll without the attributes is no runtime this generator knows: name its version, with no contract.
            var named = compilation.ReferencedAssemblyNames.FirstOrDefault(a => a.Name == RuntimeAssemblyName);
            return named is null ? new RuntimeInfo(null, null, false, false, false) : new RuntimeInfo(named.Version.ToString(), null, false, false, false);
        }
        int? contract = assembly.GetTypeByMetadataName(RuntimeContract.ContractTypeName)?.GetMembers("Version").OfType<IFieldSymbol>()
            .Select(f => f.HasConstantValue && f.ConstantValue is int v ? v : (int?)null).FirstOrDefault(v => v is not null);
        string version = VersionOf(assembly);
        if (contract == RuntimeContract.Expected) return new RuntimeInfo(version, contract, true, true, true);
        return Probed.GetValue(assembly, _ => new RuntimeInfo(version, contract,
            Fits(compilation, NetworkFamily.Dense, cancellationToken),
            Fits(compilation, NetworkFamily.Convolutional, cancellationToken),
            Fits(compilation, NetworkFamily.Recurrent, cancellationToken)));
    }

    /// <summary>The version of a referenced assembly: its informational version without "+commit", else its assembly version.</summary>
    public static string VersionOf(IAssemblySymbol assembly)
    {
        var informational = assembly.GetAttributes()
            .FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "System.Reflection.AssemblyInformationalVersionAttribute")
            ?.ConstructorArguments.FirstOrDefault().Value as string;
        return RuntimeContract.Trim(informational) ?? assembly.Identity.Version.ToString();
    }

    // Whether the placeholder of a family compiles against the runtime's types: it implements the runtime's interfaces and
    // names its types, which a runtime of another contract may have changed. A placeholder that does not compile would
    // add the very errors it is there to prevent, so such a network gets no code at all.
    private static bool Fits(Compilation compilation, NetworkFamily family, CancellationToken cancellationToken)
    {
        var options = compilation.SyntaxTrees.FirstOrDefault()?.Options as CSharpParseOptions ?? CSharpParseOptions.Default;
        var tree = CSharpSyntaxTree.ParseText(Placeholder.ProbeSource(family), options, cancellationToken: cancellationToken);
        var probe = compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(tree);
        return !probe.GetSemanticModel(tree).GetDiagnostics(cancellationToken: cancellationToken).Any(d => d.Severity == DiagnosticSeverity.Error);
    }

    /// <summary>
    /// A class that looks like a network but whose <c>[Input]</c> binds to nothing: what a project that runs the generator
    /// without referencing the runtime declares. Null for anything else.
    /// </summary>
    public static NetworkSite? UnresolvedNetwork(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        var attribute = (AttributeSyntax)context.Node;
        if (attribute.Parent?.Parent is not ClassDeclarationSyntax declaration) return null;
        // [Input] alone could be anyone's attribute; with a GenNets layer beside it, it is a network.
        if (!declaration.AttributeLists.SelectMany(l => l.Attributes).Any(a => LayerNames.Contains(SimpleName(a)))) return null;
        if (context.SemanticModel.GetSymbolInfo(attribute, cancellationToken).Symbol is not null) return null;
        return NetworkSite.Of(declaration);
    }

    /// <summary>Syntax only: an attribute spelled <c>Input</c>, <c>InputAttribute</c> or qualified so, on a class.</summary>
    public static bool IsInputAttribute(SyntaxNode node)
        => node is AttributeSyntax { Parent.Parent: ClassDeclarationSyntax } attribute && SimpleName(attribute) is "Input" or "InputAttribute" or "TokenInput" or "TokenInputAttribute";

    private static readonly System.Collections.Generic.HashSet<string> LayerNames = new(
        new[] { "Dense", "Dropout", "Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool", "Flatten", "SimpleRNN", "LSTM", "GRU", "Loss", "LayerNorm", "BatchNorm", "Residual", "Sequential",
            "Embedding", "PositionalEncoding", "SelfAttention", "TransformerEncoder" }
            .SelectMany(n => new[] { n, n + "Attribute" }));

    private static string SimpleName(AttributeSyntax attribute) => attribute.Name switch
    {
        QualifiedNameSyntax q => q.Right.Identifier.ValueText,
        AliasQualifiedNameSyntax a => a.Name.Identifier.ValueText,
        SimpleNameSyntax s => s.Identifier.ValueText,
        _ => "",
    };
}
