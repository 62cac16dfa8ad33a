using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using GenNets.Generators.Layers;
using GenNets.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GenNets.Generators.Parsing;

/// <summary>The parser's result: the declaration, what is wrong with it, and whether the compiler itself could not bind some attribute.</summary>
internal sealed record ParseResult(NetworkSpec Spec, EquatableArray<Problem> Problems, bool HasBindingErrors);

/// <summary>
/// Reads a class's GenNets attributes into a <see cref="NetworkSpec"/>. The one parser shared by the
/// generator and the analyzers. It never throws on half-typed code: an attribute the compiler could
/// not bind is skipped (the compiler reports it) and the result is marked as having binding errors.
/// </summary>
internal static class NetworkParser
{
    public const string AttributeNamespace = "GenNets";
    public const string InputAttributeName = "GenNets.InputAttribute";
    public const string TokenInputAttributeName = "GenNets.TokenInputAttribute";

    /// <summary>Whether <paramref name="attribute"/> is [Input] or [TokenInput]: the attributes that make a class a network.</summary>
    public static bool IsInput(AttributeData attribute) => attribute.AttributeClass?.ToDisplayString() is InputAttributeName or TokenInputAttributeName;

    public const string BlockAttributeName = "GenNets.BlockAttribute";

    /// <summary>True when <paramref name="attribute"/> is one of GenNets' declaration attributes.</summary>
    public static bool IsGenNetsAttribute(AttributeData attribute)
        => attribute.AttributeClass is { } c && c.ContainingNamespace?.ToDisplayString() == AttributeNamespace
           && (LayerRegistry.Readers.ContainsKey(c.Name) || c.Name is "InputAttribute" or "TokenInputAttribute" or "LossAttribute" or "BlockAttribute");

    public static ParseResult Parse(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var problems = new List<Problem>();
        var attributes = type.GetAttributes();
        bool bindingErrors = false;

        // A [Block] without an [Input] gets no members (it is read where it is used): the checks of a class that
        // does (partial, not generic, not nested in a non-partial type …) are not its business.
        bool block = attributes.Any(a => a.AttributeClass?.ToDisplayString() == BlockAttributeName);
        if (!block || attributes.Any(IsInput))
            CheckDeclaration(type, problems, cancellationToken);

        var inputShape = ImmutableArray<int>.Empty;
        int inputIndex = -1, inputs = 0, losses = 0, lossIndex = -1, layersBeforeInput = 0, vocabulary = 0;
        LossKindSpec? loss = null;
        var layers = new List<LayerSpec>();

        // [Input] or [TokenInput] at attribute i: the network's input, unless one came before (reported).
        bool TakeInput(int i)
        {
            inputs++;
            if (inputs > 1)
            {
                problems.Add(Problem.OnAttribute(DiagnosticIds.RepeatedInput, i, type.Name, inputs.ToString(CultureInfo.InvariantCulture)));
                return false;
            }
            inputIndex = i;
            if (layers.Count > 0) layersBeforeInput = layers.Count;
            return true;
        }

        for (int i = 0; i < attributes.Length; i++)
        {
            var attribute = attributes[i];
            if (!IsGenNetsAttribute(attribute)) continue;
            cancellationToken.ThrowIfCancellationRequested();
            var args = attribute.ConstructorArguments;
            if (attribute.AttributeConstructor is null || args.Any(a => a.Kind == TypedConstantKind.Error))
            {
                bindingErrors = true;
                continue;
            }

            switch (attribute.AttributeClass!.Name)
            {
                case "InputAttribute":
                    if (!TakeInput(i)) break;
                    inputShape = ReadInts(args.Length > 0 ? args[0] : default);
                    if (inputShape.IsEmpty)
                        problems.Add(Problem.OnAttribute(DiagnosticIds.NonPositiveSize, i, "The input's rank", "0"));
                    for (int d = 0; d < inputShape.Length; d++)
                        if (inputShape[d] <= 0)
                            problems.Add(Problem.OnArgument(DiagnosticIds.NonPositiveSize, i, "shape", d,
                                $"Input dimension {d}", inputShape[d].ToString(CultureInfo.InvariantCulture)));
                    break;

                case "TokenInputAttribute":
                    if (!TakeInput(i)) break;
                    int length = AttributeReading.Int(args.Length > 0 ? args[0] : default);
                    vocabulary = AttributeReading.Int(args.Length > 1 ? args[1] : default);
                    inputShape = ImmutableArray.Create(length);
                    if (length <= 0)
                        problems.Add(Problem.OnArgument(DiagnosticIds.NonPositiveSize, i, "length", 0, "The token input's length", length.ToString(CultureInfo.InvariantCulture)));
                    if (vocabulary < 2)
                    {
                        problems.Add(Problem.OnArgument(DiagnosticIds.VocabularyTooSmall, i, "vocabulary", 1, type.Name, vocabulary.ToString(CultureInfo.InvariantCulture)));
                        vocabulary = 2; // read on as a valid token input: the embedding's checks still apply
                    }
                    break;

                case "LossAttribute":
                    losses++;
                    if (losses > 1)
                    {
                        problems.Add(Problem.OnAttribute(DiagnosticIds.RepeatedLoss, i, type.Name, losses.ToString(CultureInfo.InvariantCulture)));
                        break;
                    }
                    lossIndex = i;
                    int lossValue = AttributeReading.Int(args.Length > 0 ? args[0] : default);
                    if (lossValue is < 0 or > 2)
                        problems.Add(Problem.OnArgument(DiagnosticIds.InvalidEnumValue, i, "kind", 0, lossValue.ToString(CultureInfo.InvariantCulture), "LossKind"));
                    else
                        loss = (LossKindSpec)lossValue;
                    break;

                case "BlockAttribute":
                    break; // a network that is also a block: its layers are read where it is used, too

                default:
                    layers.Add(ReadLayer(new AttributeReading(attribute, i, layers.Count, problems, ImmutableArray.Create(type), cancellationToken)));
                    break;
            }
        }

        // A [Block] takes its input shape where it is used: it has none of its own, nor a loss.
        if (inputs == 0 && layers.Count > 0 && !block)
            problems.Add(Problem.OnClass(DiagnosticIds.MissingInput, type.Name, layers.Count.ToString(CultureInfo.InvariantCulture)));
        if (block)
            for (int i = 0; i < attributes.Length; i++)
                if (attributes[i].AttributeClass is { } c && c.ContainingNamespace?.ToDisplayString() == AttributeNamespace && c.Name is "InputAttribute" or "TokenInputAttribute" or "LossAttribute")
                    problems.Add(Problem.OnAttribute(DiagnosticIds.BlockDeclaresInputOrLoss, i, type.Name, c.Name.Replace("Attribute", "")));
        if (layersBeforeInput > 0)
            problems.Add(Problem.OnAttribute(DiagnosticIds.InputNotFirst, inputIndex, layersBeforeInput.ToString(CultureInfo.InvariantCulture)));

        CheckSplit(type, attributes, problems);

        var spec = new NetworkSpec(
            Namespace: NamespaceName(type.ContainingNamespace),
            ClassName: Identifier(type.Name),
            MetadataName: MetadataName(type),
            ContainingTypes: ContainingTypes(type).ToEquatableArray(),
            InputShape: new EquatableArray<int>(inputShape),
            InputAttributeIndex: inputIndex,
            Layers: layers.ToEquatableArray(),
            Loss: loss,
            LossAttributeIndex: lossIndex,
            Vocabulary: vocabulary);
        return new ParseResult(spec, problems.ToEquatableArray(), bindingErrors);
    }

    /// <summary>A layer attribute, read by its kind's reader (see <see cref="LayerRegistry"/>).</summary>
    public static LayerSpec ReadLayer(AttributeReading reading) => LayerRegistry.Readers[reading.Attribute.AttributeClass!.Name](reading);

    private static void CheckDeclaration(INamedTypeSymbol type, List<Problem> problems, CancellationToken cancellationToken)
    {
        bool partial = true;
        foreach (var reference in type.DeclaringSyntaxReferences)
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                partial = false;
        if (!partial)
            problems.Add(Problem.OnClass(DiagnosticIds.NotPartial, type.Name));
        if (type.IsRecord)
            problems.Add(Problem.OnClass(DiagnosticIds.UnsupportedDeclaration, type.Name,
                "a network must be a class, not a record (a record's generated equality, printing and 'with' copies would compare, print and share the network's buffers)"));
        else if (type.TypeKind != TypeKind.Class)
            problems.Add(Problem.OnClass(DiagnosticIds.UnsupportedDeclaration, type.Name, "a network must be a class, not a " + type.TypeKind.ToString().ToLowerInvariant()));
        else if (type.IsStatic)
            problems.Add(Problem.OnClass(DiagnosticIds.UnsupportedDeclaration, type.Name, "a network class cannot be static"));
        if (type.TypeParameters.Length > 0) // IsGenericType is also true when only an enclosing type is generic, which works
            problems.Add(Problem.OnClass(DiagnosticIds.UnsupportedDeclaration, type.Name, "a network class cannot be generic"));
        int depth = 0; // an inheritance cycle (an error the compiler reports) must not loop here
        for (var b = type.BaseType; b is not null && depth++ < 64; b = b.BaseType)
            if (b.GetAttributes().Any(IsGenNetsAttribute))
            {
                problems.Add(Problem.OnClass(DiagnosticIds.DerivedNetwork, type.Name, b.Name));
                break;
            }
        if (type.IsFileLocal)
            problems.Add(Problem.OnClass(DiagnosticIds.UnsupportedDeclaration, type.Name,
                "a file-local ('file') class cannot get generated members, since C# requires every part of a file-local class to be in the same file; remove 'file' (or make it internal)"));
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (outer.IsFileLocal)
                problems.Add(Problem.OnClass(DiagnosticIds.UnsupportedDeclaration, type.Name,
                    $"it is nested in the file-local ('file') type '{outer.Name}', and C# requires every part of a file-local type to be in the same file"));
            foreach (var reference in outer.DeclaringSyntaxReferences)
                if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    problems.Add(Problem.OnClass(DiagnosticIds.UnsupportedDeclaration, type.Name, $"it is nested in '{outer.Name}', which is not partial"));
                    break;
                }
        }
    }

    // Attribute order is the layer order, and only one declaration's attribute order is defined.
    private static void CheckSplit(INamedTypeSymbol type, ImmutableArray<AttributeData> attributes, List<Problem> problems)
    {
        if (type.DeclaringSyntaxReferences.Length < 2) return;
        SyntaxTree? firstTree = null;
        Microsoft.CodeAnalysis.Text.TextSpan firstSpan = default;
        var declarations = new HashSet<(SyntaxTree, int)>();
        for (int i = 0; i < attributes.Length; i++)
        {
            if (!IsGenNetsAttribute(attributes[i]) || attributes[i].ApplicationSyntaxReference is not { } reference) continue;
            var owner = type.DeclaringSyntaxReferences.FirstOrDefault(d => d.SyntaxTree == reference.SyntaxTree && d.Span.Contains(reference.Span));
            if (owner is null) continue;
            declarations.Add((owner.SyntaxTree, owner.Span.Start));
            if (firstTree is null)
            {
                firstTree = owner.SyntaxTree;
                firstSpan = owner.Span;
            }
            else if (owner.SyntaxTree != firstTree || owner.Span != firstSpan)
            {
                problems.Add(Problem.OnAttribute(DiagnosticIds.SplitAcrossPartials, i, type.Name, "2"));
                return;
            }
        }
    }

    private static IEnumerable<ContainingType> ContainingTypes(INamedTypeSymbol type)
    {
        var chain = new List<ContainingType>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            string keyword = outer.IsRecord ? (outer.TypeKind == TypeKind.Struct ? "record struct" : "record")
                : outer.TypeKind switch { TypeKind.Struct => "struct", TypeKind.Interface => "interface", _ => "class" };
            string name = Identifier(outer.Name);
            if (outer.TypeParameters.Length > 0)
                name += "<" + string.Join(", ", outer.TypeParameters.Select(t => Identifier(t.Name))) + ">";
            chain.Insert(0, new ContainingType(keyword, name));
        }
        return chain;
    }

    /// <summary>False while the class, an enclosing type or the namespace has no name yet (code being typed): nothing can be generated then.</summary>
    public static bool HasSourceNames(INamedTypeSymbol type)
    {
        for (INamespaceOrTypeSymbol? s = type; s is not null && !(s is INamespaceSymbol { IsGlobalNamespace: true }); s = (INamespaceOrTypeSymbol?)s.ContainingType ?? s.ContainingNamespace)
            if (string.IsNullOrEmpty(s.Name)) return false;
        return true;
    }

    /// <summary>A name as C# source can spell it: a keyword (contextual ones too) gets an '@'.</summary>
    public static string Identifier(string name)
        => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    // The namespace as source spells it, each part escaped (a namespace may be named @event.@fixed); null for the global one.
    private static string? NamespaceName(INamespaceSymbol? ns)
    {
        var parts = new List<string>();
        for (; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace) parts.Insert(0, Identifier(ns.Name));
        return parts.Count == 0 ? null : string.Join(".", parts);
    }

    private static string MetadataName(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (ISymbol? s = type; s is INamedTypeSymbol t; s = t.ContainingType) parts.Insert(0, t.MetadataName);
        string name = string.Join("+", parts);
        return type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() + "." + name : name;
    }

    private static ImmutableArray<int> ReadInts(TypedConstant constant)
    {
        if (constant.Kind != TypedConstantKind.Array || constant.Values.IsDefault) return ImmutableArray<int>.Empty;
        return constant.Values.Select(AttributeReading.Int).ToImmutableArray();
    }
}
