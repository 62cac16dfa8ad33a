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
/// GN0052: removes <c>[Input]</c> or <c>[Loss]</c> from a <c>[Block]</c> class. Offered on the diagnostic reported on
/// that attribute; the same diagnostic where the block is used (on a typeof argument) gets no fix there.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveBlockInputCodeFixer)), Shared]
public sealed class RemoveBlockInputCodeFixer : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(DiagnosticIds.BlockDeclaresInputOrLoss);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            var span = diagnostic.Location.SourceSpan;
            var attribute = root.FindNode(span).AncestorsAndSelf().OfType<AttributeSyntax>().FirstOrDefault();
            if (attribute is null || attribute.Span != span || attribute.Parent is not AttributeListSyntax { Parent: TypeDeclarationSyntax }) continue;
            var kind = model.GetSymbolInfo(attribute, context.CancellationToken).Symbol?.ContainingType;
            if (kind is null || kind.ContainingNamespace?.ToDisplayString() != "GenNets" || kind.Name is not ("InputAttribute" or "LossAttribute")) continue;
            string name = kind.Name.Substring(0, kind.Name.Length - "Attribute".Length);
            context.RegisterCodeFix(
                CodeAction.Create($"Remove [{name}] from the block", ct => Remove(context.Document, attribute, ct), equivalenceKey: DiagnosticIds.BlockDeclaresInputOrLoss),
                diagnostic);
        }
    }

    private static async Task<Document> Remove(Document document, AttributeSyntax attribute, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || attribute.Parent is not AttributeListSyntax { Parent: TypeDeclarationSyntax declaration } list) return document;
        if (list.Attributes.Count > 1)
            // [Block, Input(8), Dense(8)]: the attribute goes with its comma.
            return document.WithSyntaxRoot(root.ReplaceNode(list, list.WithAttributes(list.Attributes.Remove(attribute))));

        int index = declaration.AttributeLists.IndexOf(list);
        var updated = declaration;
        if (index == 0)
        {
            // The declaration's leading trivia (doc comment, blank lines, indentation) moves to what now comes first.
            var first = list.GetFirstToken();
            var next = list.GetLastToken().GetNextToken();
            var moved = list.GetLeadingTrivia().AddRange(next.LeadingTrivia.SkipWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia)));
            updated = updated.ReplaceTokens(new[] { first, next }, (original, _) => original == first ? original.WithLeadingTrivia() : original.WithLeadingTrivia(moved));
        }
        else
        {
            // [Block] [Input(8)] ending a line: the line break stays after [Block].
            var previous = list.GetFirstToken().GetPreviousToken();
            var trailing = list.GetTrailingTrivia();
            if (trailing.Any(SyntaxKind.EndOfLineTrivia) && !previous.TrailingTrivia.Any(SyntaxKind.EndOfLineTrivia))
                updated = updated.ReplaceToken(previous, previous.WithTrailingTrivia(trailing));
        }
        updated = updated.RemoveNode(updated.AttributeLists[index], SyntaxRemoveOptions.KeepNoTrivia | SyntaxRemoveOptions.KeepUnbalancedDirectives)!;
        return document.WithSyntaxRoot(root.ReplaceNode(declaration, updated));
    }
}
