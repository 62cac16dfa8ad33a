using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace GenNets.Generators.Tests;

/// <summary>
/// (Shared by the generator and analyzer tests.) An .editorconfig applied the way the compiler applies one: parsed by Roslyn's own AnalyzerConfig, its
/// <c>dotnet_diagnostic.ID.severity</c> entries given to the compilation per source file.
/// </summary>
internal sealed class EditorConfig : SyntaxTreeOptionsProvider
{
    private readonly AnalyzerConfigSet _set;

    private EditorConfig(AnalyzerConfigSet set) => _set = set;

    /// <summary>
    /// The compilation's options with <paramref name="text"/> as the .editorconfig at the root of its source files (or,
    /// when it says <c>is_global = true</c>, as a global analyzer config).
    /// </summary>
    public static TCompilation Apply<TCompilation>(TCompilation compilation, string text) where TCompilation : Compilation
    {
        var config = AnalyzerConfig.Parse(text, text.Contains("is_global = true") ? "/.globalconfig" : "/.editorconfig");
        var options = compilation.Options.WithSyntaxTreeOptionsProvider(new EditorConfig(AnalyzerConfigSet.Create(ImmutableArray.Create(config))));
        return (TCompilation)compilation.WithOptions(options);
    }

    private ImmutableDictionary<string, ReportDiagnostic> For(SyntaxTree tree) => _set.GetOptionsForSourcePath(Rooted(tree.FilePath)).TreeOptions;

    private static string Rooted(string path) => path.StartsWith('/') ? path : "/" + path;

    public override GeneratedKind IsGenerated(SyntaxTree tree, CancellationToken cancellationToken) => GeneratedKind.Unknown;

    public override bool TryGetDiagnosticValue(SyntaxTree tree, string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity)
        => For(tree).TryGetValue(diagnosticId, out severity);

    public override bool TryGetGlobalDiagnosticValue(string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity)
        => _set.GlobalConfigOptions.TreeOptions.TryGetValue(diagnosticId, out severity);
}
