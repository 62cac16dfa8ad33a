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

/// <summary>GN0023: inserts <c>[Flatten]</c> before a dense layer that gets a (channels, height, width) tensor.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InsertFlattenCodeFixer)), Shared]
public sealed class InsertFlattenCodeFixer : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(DiagnosticIds.NeedsFlatten);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            var attribute = root.FindNode(diagnostic.Location.SourceSpan).AncestorsAndSelf().OfType<AttributeSyntax>().FirstOrDefault();
            if (attribute?.Parent is not AttributeListSyntax) continue;
            context.RegisterCodeFix(
                CodeAction.Create("Insert [Flatten] before the dense layer", ct => InsertFlatten(context.Document, attribute, ct), equivalenceKey: DiagnosticIds.NeedsFlatten),
                diagnostic);
        }
    }

    private static async Task<Document> InsertFlatten(Document document, AttributeSyntax dense, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || dense.Parent is not AttributeListSyntax list) return document;
        // Name it the way the dense attribute is named: Dense → Flatten, GenNets.Dense → GenNets.Flatten.
        NameSyntax name = dense.Name is QualifiedNameSyntax qualified
            ? SyntaxFactory.QualifiedName(qualified.Left, SyntaxFactory.IdentifierName("Flatten"))
            : SyntaxFactory.IdentifierName("Flatten");
        var flatten = SyntaxFactory.Attribute(name);
        SyntaxNode updated;
        if (list.Attributes.Count == 1 && list.Parent is { } owner)
        {
            // [Dense(10)] alone on its line: a line [Flatten] above it, indented the same.
            var line = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(flatten))
                .WithLeadingTrivia(list.GetLeadingTrivia())
                .WithTrailingTrivia(list.GetTrailingTrivia());
            updated = owner.InsertNodesBefore(list, new[] { line });
            return document.WithSyntaxRoot(root.ReplaceNode(owner, updated));
        }
        // [Conv2D(8, 3), Dense(10)]: Flatten goes into the same list, right before the dense layer.
        int index = list.Attributes.IndexOf(dense);
        var grown = list.WithAttributes(list.Attributes.Insert(index, flatten));
        return document.WithSyntaxRoot(root.ReplaceNode(list, grown));
    }
}
