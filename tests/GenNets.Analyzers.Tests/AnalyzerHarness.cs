using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using GenNets.Analyzers;
using GenNets.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace GenNets.Analyzers.Tests;

/// <summary>
/// Compiles a snippet with the generator and the analyzer, the way a build does, and checks the GN
/// diagnostics against markup: <c>{|GN0005:0|}</c> marks the span where GN0005 must be reported. Each
/// marked diagnostic's message must also contain the given fragments (the actual numbers).
/// References come from this test process, so nothing is downloaded at test time.
/// </summary>
internal static class AnalyzerHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is var f && (f.StartsWith("System.", StringComparison.Ordinal) || f is "mscorlib.dll" or "netstandard.dll"))
            .Append(typeof(GenNets.INetwork).Assembly.Location)
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    private static readonly Regex Markup = new(@"\{\|(GN\d{4}):(.*?)\|\}", RegexOptions.Singleline);

    public static (string Source, List<(string Id, TextSpan Span)> Expected) Parse(string marked)
    {
        var expected = new List<(string, TextSpan)>();
        var text = new System.Text.StringBuilder();
        int last = 0;
        foreach (Match m in Markup.Matches(marked))
        {
            text.Append(marked, last, m.Index - last);
            expected.Add((m.Groups[1].Value, new TextSpan(text.Length, m.Groups[2].Length)));
            text.Append(m.Groups[2].Value);
            last = m.Index + m.Length;
        }
        text.Append(marked, last, marked.Length - last);
        return (text.ToString(), expected);
    }

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    // One empty compilation that every test adds its source to: a compilation derived from another shares its
    // referenced assemblies' symbols, where a new one would load the framework's 160 assemblies again.
    private static readonly Lazy<CSharpCompilation> Empty = new(() => CSharpCompilation.Create("TestAssembly", [], References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)));

    public static CSharpCompilation Compile(string source)
        => Empty.Value.AddSyntaxTrees(CSharpSyntaxTree.ParseText(source, ParseOptions, path: "Test.cs"));

    private static Compilation Generate(string source, string? editorConfig = null)
    {
        var compilation = editorConfig is null ? Compile(source) : Generators.Tests.EditorConfig.Apply(Compile(source), editorConfig);
        CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], parseOptions: ParseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out var withGenerated, out _);
        return withGenerated;
    }

    /// <summary>Generator, then analyzer: every diagnostic the user would see, GN and compiler alike (one pass over the compilation).</summary>
    public static Task<ImmutableArray<Diagnostic>> Diagnose(string source) => Diagnose(source, null);

    /// <summary>As <see cref="Diagnose(string)"/>, with <paramref name="editorConfig"/> as the project's .editorconfig (null for none).</summary>
    public static async Task<ImmutableArray<Diagnostic>> Diagnose(string source, string? editorConfig)
    {
        var all = await Generate(source, editorConfig).WithAnalyzers([new NetworkAnalyzer()]).GetAllDiagnosticsAsync(CancellationToken.None);
        var crashes = all.Where(d => d.Id == "AD0001").ToList();
        Assert.True(crashes.Count == 0, string.Join("\n", crashes));
        return all;
    }

    /// <summary>
    /// The analyzer alone over the generated compilation, failing on any exception it throws. It binds declarations
    /// only, not the generated method bodies, which is what makes hundreds of malformed inputs cheap to run.
    /// </summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeOnly(string source)
    {
        var exceptions = new List<string>();
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]),
            onAnalyzerException: (e, _, _) => { lock (exceptions) exceptions.Add(e.ToString()); }, concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var compilation = Generate(source);
        var tree = compilation.SyntaxTrees.First(); // the user's file: its symbols, not the generated method bodies
        var diagnostics = await compilation.WithAnalyzers([new NetworkAnalyzer()], options)
            .GetAnalyzerSemanticDiagnosticsAsync(compilation.GetSemanticModel(tree), filterSpan: null, CancellationToken.None);
        Assert.True(exceptions.Count == 0, string.Join("\n", exceptions));
        return diagnostics;
    }

    /// <summary>
    /// Asserts that exactly the marked GN diagnostics are reported, on the marked spans, with messages
    /// containing <paramref name="messageFragments"/>, and that the compiler reports no other error.
    /// </summary>
    public static async Task Verify(string marked, params string[] messageFragments)
    {
        var (source, expected) = Parse(marked);
        var diagnostics = await Diagnose(source);
        var gn = diagnostics.Where(d => d.Id.StartsWith("GN", StringComparison.Ordinal)).OrderBy(d => d.Location.SourceSpan.Start).ToList();
        string all = string.Join("\n", diagnostics.Select(d => d.ToString()));
        Assert.True(gn.Count == expected.Count, $"expected {expected.Count} GN diagnostics, got:\n{all}");
        foreach (var (id, span) in expected.OrderBy(e => e.Span.Start))
            Assert.Contains(gn, d => d.Id == id && d.Location.SourceSpan == span);
        foreach (string fragment in messageFragments)
            Assert.True(gn.Any(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains(fragment, StringComparison.Ordinal)),
                $"no message contains '{fragment}':\n{all}");
        var otherErrors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("GN", StringComparison.Ordinal)).ToList();
        Assert.True(otherErrors.Count == 0, $"compiler errors besides the GN diagnostics (a cascade):\n{all}");
    }

    /// <summary>Applies the first code fix offered for <paramref name="id"/> and returns the new source.</summary>
    public static async Task<string> ApplyFix(string source, string id, CodeFixProvider fixer)
    {
        using var workspace = new AdhocWorkspace();
        var project = workspace.AddProject("Test", LanguageNames.CSharp)
            .WithMetadataReferences(References.Value)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary))
            .WithParseOptions(new CSharpParseOptions(LanguageVersion.Latest));
        var document = project.AddDocument("Test.cs", source);
        var compilation = (await document.Project.GetCompilationAsync())!;
        var diagnostics = await compilation.WithAnalyzers([new NetworkAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        var diagnostic = diagnostics.First(d => d.Id == id);
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await fixer.RegisterCodeFixesAsync(context);
        var action = Assert.Single(actions);
        var operations = await action.GetOperationsAsync(CancellationToken.None);
        var changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
        return (await changed.GetDocument(document.Id)!.GetTextAsync()).ToString();
    }
}
