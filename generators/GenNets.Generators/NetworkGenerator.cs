using System.Linq;
using System.Threading;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GenNets.Generators;

/// <summary>
/// Generates each network's members from its attributes. Diagnostics are the analyzers' job: this
/// generator quietly emits a placeholder for an invalid network, so that the user sees the GN
/// diagnostics and not a cascade of "member not found" errors.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class NetworkGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Cache boundary: the transform reduces each network to a GenerationModel of strings, numbers
        // and EquatableArrays, so an edit elsewhere in the compilation compares equal here and
        // nothing downstream runs again.
        var models = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                NetworkParser.InputAttributeName,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => BuildModel(ctx, ct))
            .Where(static m => m is not null)
            .WithTrackingName(TrackingNames.Models);

        context.RegisterSourceOutput(models, static (spc, model) =>
        {
            var source = Emitter.Emit(model!, spc.CancellationToken);
            spc.AddSource(model!.Spec.HintName, source);
        });
    }

    private static GenerationModel? BuildModel(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type) return null;

        // A class declared in several parts (or with [Input] twice) reaches here once per part that
        // carries [Input]; only the part holding the first [Input] speaks for it.
        var firstInput = type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == NetworkParser.InputAttributeName);
        if (firstInput?.ApplicationSyntaxReference is not { } reference
            || reference.SyntaxTree != context.TargetNode.SyntaxTree
            || !context.TargetNode.Span.Contains(reference.Span))
            return null;

        var parsed = NetworkParser.Parse(type, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        if (parsed.Problems.Any(p => p.Id is DiagnosticIds.NotPartial or DiagnosticIds.UnsupportedDeclaration or DiagnosticIds.DerivedNetwork))
            return null; // nothing can (or should: a derived network keeps its base's members) be added; the analyzer says why
        if (!NetworkParser.HasSourceNames(type))
            return null; // a half-typed declaration (no class or namespace name yet): the compiler reports it

        var shaped = ShapeEngine.Infer(parsed.Spec);
        bool valid = !parsed.HasBindingErrors
            && shaped.Network is not null
            && !parsed.Problems.Concat(shaped.Problems).Any(p => DiagnosticIds.IsError(p.Id));
        var model = new GenerationModel(parsed.Spec, valid ? shaped.Network : null);
        // A member of the user's that a generated one would collide with: a placeholder without it, and GN0019 on it.
        var collisions = MemberCollisions.Find(type, model, cancellationToken);
        return collisions.Count == 0 ? model
            : new GenerationModel(parsed.Spec, null, collisions.Select(c => c.UserMember is IMethodSymbol { MethodKind: MethodKind.Constructor } ? ".ctor" : c.UserMember.Name).Distinct().OrderBy(n => n, System.StringComparer.Ordinal).ToEquatableArray());
    }
}

/// <summary>Names of the pipeline steps, for tests that check what was cached.</summary>
public static class TrackingNames
{
    public const string Models = "GenNets.Models";
}
