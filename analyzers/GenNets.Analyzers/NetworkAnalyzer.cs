using System.Collections.Immutable;
using System.Linq;
using GenNets.Generators;
using GenNets.Generators.Model;
using GenNets.Generators.Parsing;
using GenNets.Generators.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace GenNets.Analyzers;

/// <summary>
/// Reports every mistake in a network declaration as a GN diagnostic on the attribute or argument
/// at fault, using the same parser and shape engine as the generator.
/// </summary>
[DiagnosticAnalyzer(Microsoft.CodeAnalysis.LanguageNames.CSharp)]
public sealed class NetworkAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Descriptors.All;

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            // Compilations that do not reference GenNets have nothing to analyze.
            if (start.Compilation.GetTypeByMetadataName(NetworkParser.InputAttributeName) is null) return;
            start.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var attributes = type.GetAttributes();
        if (!attributes.Any(NetworkParser.IsGenNetsAttribute)) return;

        var parsed = NetworkParser.Parse(type, context.CancellationToken);
        foreach (var problem in parsed.Problems)
            Report(context, type, attributes, problem);
        var shaped = ShapeEngine.Infer(parsed.Spec);
        foreach (var problem in shaped.Problems)
            Report(context, type, attributes, problem);

        // The generator adds members only to a class that can take them (a network: a [Block] alone gets none); those
        // may collide with the user's.
        if (parsed.Spec.InputAttributeIndex < 0 || parsed.Problems.Any(p => p.Id is DiagnosticIds.NotPartial or DiagnosticIds.UnsupportedDeclaration or DiagnosticIds.DerivedNetwork)
            || !NetworkParser.HasSourceNames(type))
            return;
        bool valid = !parsed.HasBindingErrors && shaped.Network is not null && !parsed.Problems.Concat(shaped.Problems).Any(p => DiagnosticIds.IsError(p.Id));
        var model = new GenerationModel(parsed.Spec, valid ? shaped.Network : null);
        foreach (var collision in MemberCollisions.Find(type, model, context.CancellationToken))
        {
            var member = collision.UserMember;
            var location = member.Locations.FirstOrDefault(l => l.IsInSource && context.Compilation.ContainsSyntaxTree(l.SourceTree))
                ?? type.Locations.FirstOrDefault() ?? Location.None;
            string owner = SymbolEqualityComparer.Default.Equals(member.ContainingType, type) ? "it" : $"its base class '{member.ContainingType.Name}'";
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.MemberCollision, location,
                type.Name, collision.GeneratedMember, member.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat), owner));
        }
    }

    private static void Report(SymbolAnalysisContext context, INamedTypeSymbol type, ImmutableArray<AttributeData> attributes, Problem problem)
    {
        var location = Locate(type, attributes, problem, context.CancellationToken);
        var args = problem.MessageArguments.AsImmutableArray().Cast<object?>().ToArray();
        context.ReportDiagnostic(Diagnostic.Create(Descriptors.For(problem.Id), location, args));
    }

    /// <summary>The narrowest location for a problem: the argument, else the attribute, else the class name.</summary>
    internal static Location Locate(INamedTypeSymbol type, ImmutableArray<AttributeData> attributes, Problem problem, System.Threading.CancellationToken cancellationToken)
    {
        var classLocation = type.Locations.FirstOrDefault() ?? Location.None;
        if (problem.AttributeIndex < 0 || problem.AttributeIndex >= attributes.Length) return classLocation;
        if (attributes[problem.AttributeIndex].ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax attribute)
            return classLocation;
        if (problem.Argument is null || attribute.ArgumentList is null) return attribute.GetLocation();

        var arguments = attribute.ArgumentList.Arguments;
        foreach (var argument in arguments)
        {
            if (argument.NameEquals?.Name.Identifier.ValueText == problem.Argument || argument.NameColon?.Name.Identifier.ValueText == problem.Argument)
                return argument.GetLocation();
        }
        if (problem.ArgumentPosition >= 0)
        {
            var positional = arguments.Where(a => a.NameEquals is null && a.NameColon is null).ToList();
            if (problem.ArgumentPosition < positional.Count) return positional[problem.ArgumentPosition].GetLocation();
        }
        return attribute.GetLocation();
    }
}
