using System.Collections.Generic;
using System.Linq;
using System.Threading;
using GenNets.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GenNets.Generators;

/// <summary>A member of the user's class (or of a base class) whose name a generated member would take.</summary>
internal sealed record MemberCollision(ISymbol UserMember, string GeneratedMember);

/// <summary>
/// Finds the user's members that a network's generated members would collide with (CS0102, CS0111) or hide (CS0108).
/// Shared by the generator, which leaves such members out of a placeholder, and the analyzer, which reports them. The
/// generated members are read from the generated source itself, so no list is kept by hand.
/// </summary>
internal static class MemberCollisions
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

    /// <summary>
    /// The collisions of the network <paramref name="type"/> whose generated class <paramref name="model"/> describes.
    /// Members declared in the network's own generated file (named <see cref="NetworkSpec.HintName"/>) are not the user's.
    /// </summary>
    public static List<MemberCollision> Find(INamedTypeSymbol type, GenerationModel model, CancellationToken cancellationToken)
    {
        var result = new List<MemberCollision>();
        var user = UserMembers(type, model.Spec.HintName).ToList();
        if (user.Count == 0) return result; // the usual network class is empty: nothing to generate and parse

        var generated = GeneratedMembers(model, cancellationToken);
        foreach (var member in user)
        {
            string name = member is IMethodSymbol { MethodKind: MethodKind.Constructor } ? ".ctor" : member.Name;
            foreach (var (generatedName, parameters, display) in generated)
            {
                if (generatedName != name) continue;
                // Overloads are fine: two methods (or constructors) collide only with the same parameter types.
                if (parameters is not null && member is IMethodSymbol method
                    && !parameters.SequenceEqual(method.Parameters.Select(p => p.Type.ToDisplayString(TypeFormat))))
                    continue;
                result.Add(new MemberCollision(member, display));
                break;
            }
        }
        return result;
    }

    // The user's members and the visible members of the user's base classes, but not System.Object's.
    private static IEnumerable<ISymbol> UserMembers(INamedTypeSymbol type, string hintName)
    {
        foreach (var member in type.GetMembers())
            if (!member.IsImplicitlyDeclared && member.DeclaringSyntaxReferences.Any(r => !r.SyntaxTree.FilePath.EndsWith(hintName, System.StringComparison.Ordinal)))
                yield return member;
        for (var b = type.BaseType; b is not null && b.SpecialType != SpecialType.System_Object; b = b.BaseType)
            foreach (var member in b.GetMembers())
                if (!member.IsImplicitlyDeclared && !member.IsStatic && member.DeclaredAccessibility != Accessibility.Private
                    && member is not IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor or MethodKind.Destructor })
                    yield return member;
    }

    // Each member the generated class declares: its name (".ctor" for the constructor), its parameter types when it is a
    // method or constructor, and how to show it.
    private static List<(string Name, string[]? Parameters, string Display)> GeneratedMembers(GenerationModel model, CancellationToken cancellationToken)
    {
        var members = new List<(string, string[]?, string)>();
        var root = CSharpSyntaxTree.ParseText(Emitter.Emit(model, cancellationToken), cancellationToken: cancellationToken).GetRoot(cancellationToken);
        string className = model.Spec.ClassName.TrimStart('@');
        // The network's class is the innermost class of that name (its enclosing types come first).
        var type = root.DescendantNodes().OfType<ClassDeclarationSyntax>().LastOrDefault(c => c.Identifier.ValueText == className);
        if (type is null) return members;
        foreach (var member in type.Members)
            switch (member)
            {
                case ConstructorDeclarationSyntax c:
                    members.Add((".ctor", Parameters(c.ParameterList), className + c.ParameterList));
                    break;
                case MethodDeclarationSyntax m when m.ExplicitInterfaceSpecifier is null:
                    members.Add((m.Identifier.ValueText, Parameters(m.ParameterList), m.Identifier.ValueText + m.ParameterList));
                    break;
                case PropertyDeclarationSyntax p when p.ExplicitInterfaceSpecifier is null:
                    members.Add((p.Identifier.ValueText, null, p.Identifier.ValueText));
                    break;
                case BaseFieldDeclarationSyntax f:
                    foreach (var v in f.Declaration.Variables) members.Add((v.Identifier.ValueText, null, v.Identifier.ValueText));
                    break;
                case BaseTypeDeclarationSyntax t:
                    members.Add((t.Identifier.ValueText, null, t.Identifier.ValueText));
                    break;
            }
        return members;
    }

    private static string[] Parameters(ParameterListSyntax list) => list.Parameters.Select(p => p.Type?.ToString() ?? "").ToArray();
}
