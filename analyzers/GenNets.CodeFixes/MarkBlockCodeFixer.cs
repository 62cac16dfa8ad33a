using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using GenNets.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GenNets.CodeFixes;

/// <summary>
/// GN0050: adds <c>[Block]</c> to the class given to <c>[Residual(typeof(…))]</c>, wherever in the solution it is declared.
/// Not offered for a class outside the solution's source, one that is not a class, or one that declares <c>[Input]</c>
/// (a network: marking it would only trade GN0050 for GN0052).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MarkBlockCodeFixer)), Shared]
public sealed class MarkBlockCodeFixer : CodeFixProvider
{
    private const string Namespace = "GenNets";

    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(DiagnosticIds.NotABlock);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            // The diagnostic is on the typeof argument of [Residual].
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            var typeOf = node as TypeOfExpressionSyntax ?? (node as AttributeArgumentSyntax)?.Expression as TypeOfExpressionSyntax;
            if (typeOf?.FirstAncestorOrSelf<AttributeSyntax>() is not { } residual) continue;
            if (model.GetTypeInfo(typeOf.Type, context.CancellationToken).Type is not INamedTypeSymbol { TypeKind: TypeKind.Class } type) continue;
            type = type.OriginalDefinition;
            var attributes = type.GetAttributes();
            if (attributes.Any(a => IsGenNets(a, "InputAttribute"))) continue;
            if (Target(type, attributes, context.CancellationToken) is not { } target) continue;
            var document = context.Document.Project.Solution.GetDocument(target.SyntaxTree);
            if (document is null) continue;
            context.RegisterCodeFix(
                CodeAction.Create($"Mark '{type.Name}' as [Block]", ct => AddBlock(document, target.Span, residual.Name, ct), equivalenceKey: DiagnosticIds.NotABlock),
                diagnostic);
        }
    }

    private static bool IsGenNets(AttributeData attribute, string name)
        => attribute.AttributeClass is { } c && c.Name == name && c.ContainingNamespace?.ToDisplayString() == Namespace;

    // The declaration that gets [Block]: the one holding the class's GenNets attributes, since the layers and [Block] must be
    // on the same part (GN0008); the first part when it has none.
    private static SyntaxReference? Target(INamedTypeSymbol type, ImmutableArray<AttributeData> attributes, CancellationToken cancellationToken)
    {
        var parts = type.DeclaringSyntaxReferences;
        foreach (var attribute in attributes)
        {
            if (attribute.AttributeClass?.ContainingNamespace?.ToDisplayString() != Namespace || attribute.ApplicationSyntaxReference is not { } applied) continue;
            var owner = parts.FirstOrDefault(p => p.SyntaxTree == applied.SyntaxTree && p.Span.Contains(applied.Span));
            if (owner is not null) return owner;
        }
        return parts.FirstOrDefault(p => p.GetSyntax(cancellationToken) is TypeDeclarationSyntax);
    }

    private static async Task<Solution> AddBlock(Document document, Microsoft.CodeAnalysis.Text.TextSpan span, NameSyntax residualName, CancellationToken cancellationToken)
    {
        var solution = document.Project.Solution;
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || model is null || root.FindNode(span, getInnermostNodeForTie: true) is not TypeDeclarationSyntax declaration) return solution;

        var block = SyntaxFactory.Attribute(BlockName(declaration, residualName, model));
        // On a line of its own above the declaration, indented as it; the comments above the declaration stay above [Block].
        var leading = declaration.GetLeadingTrivia();
        var indentation = SyntaxFactory.TriviaList(leading.Reverse().TakeWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Reverse());
        var list = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(block))
            .WithLeadingTrivia(leading)
            .WithTrailingTrivia(EndOfLine(root));
        var first = declaration.GetFirstToken();
        var updated = declaration.ReplaceToken(first, first.WithLeadingTrivia(indentation));
        updated = updated.WithAttributeLists(updated.AttributeLists.Insert(0, list));
        return solution.WithDocumentSyntaxRoot(document.Id, root.ReplaceNode(declaration, updated));
    }

    // [Block] spelled as the class's own GenNets attributes are, else as the [Residual] that uses it (Block, GenNets.Block, an
    // alias), as long as that binds to GenNets' BlockAttribute where the class is declared; else fully qualified.
    private static NameSyntax BlockName(TypeDeclarationSyntax declaration, NameSyntax residualName, SemanticModel model)
    {
        var candidates = new List<NameSyntax>();
        foreach (var attribute in declaration.AttributeLists.SelectMany(l => l.Attributes))
            if (model.GetSymbolInfo(attribute).Symbol?.ContainingType?.ContainingNamespace?.ToDisplayString() == Namespace)
            {
                candidates.Add(Like(attribute.Name));
                break;
            }
        candidates.Add(Like(residualName));
        candidates.Add(SyntaxFactory.ParseName("GenNets.Block"));
        candidates.Add(SyntaxFactory.ParseName("global::GenNets.Block"));
        int position = declaration.SpanStart;
        foreach (var name in candidates)
        {
            var bound = model.GetSpeculativeSymbolInfo(position, SyntaxFactory.Attribute(name)).Symbol?.ContainingType;
            if (bound?.ToDisplayString() == Namespace + ".BlockAttribute") return name.WithoutTrivia();
        }
        return candidates[candidates.Count - 1];
    }

    // Block in place of the last identifier of an attribute's name: Dense → Block, GenNets.Residual → GenNets.Block.
    private static NameSyntax Like(NameSyntax name) => name switch
    {
        QualifiedNameSyntax qualified => SyntaxFactory.QualifiedName(qualified.Left.WithoutTrivia(), SyntaxFactory.IdentifierName("Block")),
        AliasQualifiedNameSyntax alias => SyntaxFactory.AliasQualifiedName(alias.Alias.WithoutTrivia(), SyntaxFactory.IdentifierName("Block")),
        _ => SyntaxFactory.IdentifierName("Block"),
    };

    private static SyntaxTrivia EndOfLine(SyntaxNode root)
        => root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { } eol && eol.IsKind(SyntaxKind.EndOfLineTrivia)
            ? eol : SyntaxFactory.EndOfLine("\n");
}
