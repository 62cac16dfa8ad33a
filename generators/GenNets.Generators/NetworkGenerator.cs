using System.Linq;
using System.Threading;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GenNets.Generators;

/// <summary>What the emitter needs for one network: the parsed declaration and, when it is valid, its shapes.</summary>
internal sealed record GenerationModel(NetworkSpec Spec, ShapedNetwork? Network);

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
            spc.AddSource(model!.Spec.MetadataName.Replace('+', '.') + ".g.cs", source);
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
        if (parsed.Problems.Any(p => p.Id is DiagnosticIds.NotPartial or DiagnosticIds.UnsupportedDeclaration))
            return null; // nothing can be added to such a class; the analyzer says why

        var shaped = ShapeEngine.Infer(parsed.Spec);
        bool valid = !parsed.HasBindingErrors
            && shaped.Network is not null
            && !parsed.Problems.Concat(shaped.Problems).Any(p => DiagnosticIds.IsError(p.Id));
        return new GenerationModel(parsed.Spec, valid ? shaped.Network : null);
    }
}

/// <summary>Names of the pipeline steps, for tests that check what was cached.</summary>
public static class TrackingNames
{
    public const string Models = "GenNets.Models";
}
