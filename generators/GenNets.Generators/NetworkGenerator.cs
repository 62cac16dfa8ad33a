using System.Linq;
using System.Threading;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GenNets.Generators;

/// <summary>
/// Generates each network's members from its attributes. Diagnostics of the declarations are the analyzers' job: this
/// generator quietly emits a placeholder for an invalid network, so that the user sees the GN
/// diagnostics and not a cascade of "member not found" errors. It reports only what it alone can tell: that the
/// runtime the project references is not the one its code is written for (GN0040), or is missing (GN0041).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class NetworkGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // The runtime the generated code will call: read on every compilation, but equal (so cached downstream) until
        // the references change. Generated code is written only against the contract this generator knows.
        var runtime = context.CompilationProvider
            .Select(static (compilation, ct) => RuntimeCheck.Read(compilation, ct))
            .WithTrackingName(TrackingNames.Runtime);

        // A network is a class with [Input] or [TokenInput]: one pipeline each, the same from there on.
        Networks(context, NetworkParser.InputAttributeName, TrackingNames.Models, runtime);
        Networks(context, NetworkParser.TokenInputAttributeName, TrackingNames.TokenModels, runtime);

        // GN0041 (or GN0040 for a GenNets.dll without the attributes) on each class whose [Input] binds to nothing while
        // GenNets layers sit beside it: the generator runs, but the attributes' assembly is not the runtime it knows.
        // With the runtime referenced, [Input] binds, and no site is made.
        var unresolved = context.SyntaxProvider
            .CreateSyntaxProvider(static (node, _) => RuntimeCheck.IsInputAttribute(node), static (ctx, ct) => RuntimeCheck.UnresolvedNetwork(ctx, ct))
            .Where(static site => site is not null)
            .Combine(runtime)
            .Where(static pair => !pair.Right.Matches);
        context.RegisterSourceOutput(unresolved, static (spc, pair) => spc.ReportDiagnostic(pair.Right.Referenced
            ? Mismatch(pair.Left!, pair.Right)
            : Diagnostic.Create(RuntimeContract.Missing, pair.Left!.Location, pair.Left.ClassName, RuntimeContract.GeneratorVersion)));
    }

    private static void Networks(IncrementalGeneratorInitializationContext context, string inputAttribute, string trackingName, IncrementalValueProvider<RuntimeInfo> runtime)
    {
        // Cache boundary: the transform reduces each network to a GenerationModel of strings, numbers
        // and EquatableArrays, so an edit elsewhere in the compilation compares equal here and
        // nothing downstream runs again.
        var models = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                inputAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                (ctx, ct) => BuildModel(ctx, inputAttribute, ct))
            .Where(static m => m is not null)
            .WithTrackingName(trackingName);

        context.RegisterSourceOutput(models.Combine(runtime), static (spc, pair) =>
        {
            var (model, runtime) = (pair.Left!, pair.Right);
            if (runtime.Matches)
            {
                spc.AddSource(model.Spec.HintName, Emitter.Emit(model, spc.CancellationToken));
                return;
            }
            // Another contract: the network's code would call kernels that are not there, or not the same. GN0040 says so;
            // a placeholder keeps the code that uses the network compiling, if even the placeholder compiles against that runtime.
            if (runtime.PlaceholderFits(Placeholder.FamilyOf(model.Spec)))
                spc.AddSource(model.Spec.HintName, Emitter.Emit(model with { Network = null }, spc.CancellationToken));
        });

        // GN0040 on each network class, when the runtime is not the one the generated code is written for. A site changes
        // with every edit of its file; with the runtime right, none passes the filter, so nothing downstream runs again.
        var mismatched = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                inputAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, _) => NetworkSite.Of((ClassDeclarationSyntax)ctx.TargetNode))
            .Combine(runtime)
            .Where(static pair => pair.Right is { Referenced: true, Matches: false });
        context.RegisterSourceOutput(mismatched, static (spc, pair) => spc.ReportDiagnostic(Mismatch(pair.Left, pair.Right)));
    }

    private static Diagnostic Mismatch(NetworkSite site, RuntimeInfo runtime)
        => Diagnostic.Create(RuntimeContract.Mismatch, site.Location, site.ClassName, RuntimeContract.GeneratorVersion,
            RuntimeContract.Expected, runtime.Version, runtime.Contract?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");

    private static GenerationModel? BuildModel(GeneratorAttributeSyntaxContext context, string inputAttribute, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type) return null;

        // A class declared in several parts (or with [Input] twice, or [Input] and [TokenInput]) reaches here once per
        // part and pipeline that finds its attribute; only the part holding the first input attribute, in that
        // attribute's pipeline, speaks for it.
        var firstInput = type.GetAttributes().FirstOrDefault(NetworkParser.IsInput);
        if (firstInput?.AttributeClass?.ToDisplayString() != inputAttribute
            || firstInput.ApplicationSyntaxReference is not { } reference
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
    public const string TokenModels = "GenNets.TokenModels";
    public const string Runtime = "GenNets.Runtime";
}
