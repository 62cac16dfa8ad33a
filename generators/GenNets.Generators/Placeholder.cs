using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using GenNets.Generators.Layers;
using GenNets.Generators.Model;
using GenNets.Generators.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GenNets.Generators;

/// <summary>The kinds of network whose generated classes differ in their public members.</summary>
internal enum NetworkFamily
{
    Dense,
    Convolutional,
    Recurrent,
}

/// <summary>
/// The members an invalid network gets, so that code using it compiles and the GN diagnostics are the only errors the
/// user sees. They are not written by hand: a small valid network of the same family is generated, and each of its
/// public members (and explicit interface members) is copied with a body that throws. So the placeholder always offers
/// exactly what the real class offers, whatever the emitter adds later.
/// </summary>
internal static class Placeholder
{
    private const string Marker = "GenNetsPlaceholderClass";

    private static readonly ConcurrentDictionary<NetworkFamily, Template> Templates = new();

    /// <summary>The family a declaration belongs to, from its layers and input, even when they are invalid.</summary>
    public static NetworkFamily FamilyOf(NetworkSpec spec)
    {
        if (spec.Layers.Any(l => l is RecurrentSpec)) return NetworkFamily.Recurrent;
        if (spec.InputShape.Length == 3 || spec.Layers.Any(l => l is Conv2DSpec or PoolSpec or GlobalAvgPoolSpec))
            return NetworkFamily.Convolutional;
        return NetworkFamily.Dense;
    }

    /// <summary>
    /// Writes the placeholder class of <paramref name="spec"/>. Members named in <paramref name="omitted"/> (names the
    /// user's own members already take; ".ctor" for the constructor) are left out; if any is, the class implements no interface, since it no longer
    /// could.
    /// </summary>
    public static void Emit(IndentedWriter w, NetworkSpec spec, EquatableArray<string> omitted)
    {
        var template = Templates.GetOrAdd(FamilyOf(spec), Build);
        var skip = new HashSet<string>(omitted);
        var members = template.Members.Where(m => !skip.Contains(m.Name)).ToList();
        bool complete = members.Count == template.Members.Length;
        if (!complete) members.RemoveAll(m => m.ExplicitInterface);

        string fail = $"throw new global::System.InvalidOperationException(\"The network '{spec.ClassName}' is invalid; see its GN diagnostics.\")";
        w.Line("/// <summary>The declaration of this network has errors (see the GN diagnostics), so no code was generated for it.</summary>");
        w.Open($"partial class {spec.ClassName}" + (complete ? " : " + template.BaseList : ""));
        int input = spec.InputShape.Length > 0 && spec.InputShape.All(d => d > 0) ? ShapeEngine.Product(spec.InputShape) : 0;
        foreach (var member in members)
        {
            string text = member.Name switch
            {
                "InputSize" when member.Constant => member.Text.Replace("= default;", $"= {input.ToString(CultureInfo.InvariantCulture)};"),
                "Steps" when member.Constant && spec.InputShape.Length == 2 && spec.InputShape[0] > 0
                    => member.Text.Replace("= default;", $"= {spec.InputShape[0].ToString(CultureInfo.InvariantCulture)};"),
                _ => member.Text,
            };
            foreach (string line in text.Replace(Marker + "Failure", fail).Replace(Marker, spec.ClassName).Split('\n'))
                w.Line(line);
        }
        // A layer with tensors has offset constants; the real class numbers them by layer.
        for (int i = 0; i < spec.Layers.Length; i++)
            if (spec.Layers[i].HasTensors)
            {
                string weight = $"Layer{i.ToString(CultureInfo.InvariantCulture)}WeightOffset", bias = $"Layer{i.ToString(CultureInfo.InvariantCulture)}BiasOffset";
                if (!skip.Contains(weight)) w.Line($"/// <summary>Offset of layer {i.ToString(CultureInfo.InvariantCulture)}'s weight (none: the network is invalid).</summary>").Line($"public const int {weight} = 0;");
                if (!skip.Contains(bias)) w.Line($"/// <summary>Offset of layer {i.ToString(CultureInfo.InvariantCulture)}'s bias (none: the network is invalid).</summary>").Line($"public const int {bias} = 0;");
            }
        w.Close();
    }

    /// <summary>The names of the members the placeholder of <paramref name="spec"/> would declare.</summary>
    public static IEnumerable<string> MemberNames(NetworkSpec spec)
    {
        var template = Templates.GetOrAdd(FamilyOf(spec), Build);
        foreach (var member in template.Members.Where(m => !m.ExplicitInterface)) yield return member.Name;
        for (int i = 0; i < spec.Layers.Length; i++)
            if (spec.Layers[i].HasTensors)
            {
                yield return $"Layer{i.ToString(CultureInfo.InvariantCulture)}WeightOffset";
                yield return $"Layer{i.ToString(CultureInfo.InvariantCulture)}BiasOffset";
            }
    }

    /// <summary>
    /// A source file holding the placeholder of a small network of <paramref name="family"/>, in a namespace of its own:
    /// compiled against a runtime, it tells whether the placeholders of that family would compile against it.
    /// </summary>
    public static string ProbeSource(NetworkFamily family)
        => Emitter.Emit(new GenerationModel(Canonical(family) with { Namespace = "GenNetsPlaceholderProbe" }, null), default);

    private sealed record Member(string Name, string Text, bool ExplicitInterface, bool Constant);

    private sealed record Template(string BaseList, ImmutableArray<Member> Members);

    private static readonly Regex LayerOffset = new(@"^Layer\d+(Weight|Bias)Offset$", RegexOptions.CultureInvariant);

    // The smallest valid network of each family: what the placeholder copies its members from.
    private static NetworkSpec Canonical(NetworkFamily family)
    {
        var dense = new DenseSpec(2, null, 2, ActivationKind.Identity, 0);
        var layers = family switch
        {
            NetworkFamily.Recurrent => new LayerSpec[] { new RecurrentSpec(1, null, RecurrentCell.LSTM, 1, false, 0f), dense },
            NetworkFamily.Convolutional => new LayerSpec[]
            {
                new Conv2DSpec(1, null, 1, 1, 1, 1, 1, 0, ActivationKind.Identity, 0),
                new FlattenSpec(2),
                dense with { AttributeIndex = 3 },
            },
            _ => new LayerSpec[] { dense },
        };
        int[] input = family switch { NetworkFamily.Recurrent => [2, 1], NetworkFamily.Convolutional => [1, 2, 2], _ => [2] };
        return new NetworkSpec(null, Marker, Marker, EquatableArray<ContainingType>.Empty, input.ToEquatableArray(), 0, layers.ToEquatableArray(), null, -1);
    }

    private static Template Build(NetworkFamily family)
    {
        var spec = Canonical(family);
        var network = ShapeEngine.Infer(spec).Network!;
        string source = Emitter.Emit(new GenerationModel(spec, network), default);
        var root = CSharpSyntaxTree.ParseText(source).GetRoot();
        var type = root.DescendantNodes().OfType<ClassDeclarationSyntax>().First(c => c.Identifier.ValueText == Marker);
        var fail = SyntaxFactory.ParseExpression(Marker + "Failure");
        var members = ImmutableArray.CreateBuilder<Member>();
        foreach (var member in type.Members)
        {
            bool isPublic = member.Modifiers.Any(SyntaxKind.PublicKeyword);
            switch (member)
            {
                case FieldDeclarationSyntax field when isPublic && field.Modifiers.Any(SyntaxKind.ConstKeyword):
                    foreach (var variable in field.Declaration.Variables)
                        if (!LayerOffset.IsMatch(variable.Identifier.ValueText))
                            members.Add(new Member(variable.Identifier.ValueText,
                                Text(field.WithDeclaration(field.Declaration.WithVariables(SyntaxFactory.SingletonSeparatedList(
                                    variable.WithInitializer(SyntaxFactory.EqualsValueClause(SyntaxFactory.ParseExpression("default")))))), field), false, true));
                    break;
                case ConstructorDeclarationSyntax constructor when isPublic:
                    members.Add(new Member(".ctor", Text(constructor.WithBody(null).WithInitializer(null).WithExpressionBody(SyntaxFactory.ArrowExpressionClause(fail))
                        .WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken)), constructor), false, false));
                    break;
                case MethodDeclarationSyntax method when isPublic || method.ExplicitInterfaceSpecifier is not null:
                    members.Add(new Member(method.Identifier.ValueText, Text(method.WithBody(null).WithExpressionBody(SyntaxFactory.ArrowExpressionClause(fail))
                        .WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken)), method), method.ExplicitInterfaceSpecifier is not null, false));
                    break;
                case PropertyDeclarationSyntax property when isPublic || property.ExplicitInterfaceSpecifier is not null:
                {
                    var accessors = property.AccessorList?.Accessors.Select(a => a.Keyword.Kind()).ToList() ?? [SyntaxKind.GetKeyword];
                    var list = SyntaxFactory.AccessorList(SyntaxFactory.List(accessors.Select(k =>
                        SyntaxFactory.AccessorDeclaration(k == SyntaxKind.GetKeyword ? SyntaxKind.GetAccessorDeclaration : k == SyntaxKind.InitKeyword ? SyntaxKind.InitAccessorDeclaration : SyntaxKind.SetAccessorDeclaration)
                            .WithExpressionBody(SyntaxFactory.ArrowExpressionClause(fail)).WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken)))));
                    members.Add(new Member(property.Identifier.ValueText, Text(property.WithExpressionBody(null).WithInitializer(null)
                        .WithSemicolonToken(default).WithAccessorList(list), property), property.ExplicitInterfaceSpecifier is not null, false));
                    break;
                }
            }
        }
        return new Template(type.BaseList!.Types.ToString(), members.ToImmutable());
    }

    // A member as text, on one line, with a doc comment that says what it is (the real one's would give the canonical network's sizes).
    private static string Text(MemberDeclarationSyntax rewritten, MemberDeclarationSyntax original)
    {
        string text = rewritten.WithoutTrivia().NormalizeWhitespace(indentation: "", eol: " ").ToFullString();
        bool explicitMember = original is BasePropertyDeclarationSyntax { ExplicitInterfaceSpecifier: not null } or MethodDeclarationSyntax { ExplicitInterfaceSpecifier: not null };
        return explicitMember ? text : "/// <summary>Not generated: the network's declaration has errors (see its GN diagnostics).</summary>\n" + text;
    }
}
