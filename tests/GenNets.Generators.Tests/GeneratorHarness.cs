using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace GenNets.Generators.Tests;

/// <summary>
/// Runs the generator over source text in memory, with references taken from this test process
/// (the running framework and GenNets.dll): nothing is downloaded at test time.
/// </summary>
internal static class GeneratorHarness
{
    /// <summary>The running framework's assemblies, without GenNets.dll.</summary>
    public static readonly Lazy<ImmutableArray<MetadataReference>> Framework = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is var f && (f.StartsWith("System.", StringComparison.Ordinal) || f is "mscorlib.dll" or "netstandard.dll"))
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        Framework.Value.Add(MetadataReference.CreateFromFile(typeof(GenNets.INetwork).Assembly.Location)));

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    // One empty compilation that every test adds its sources to: a compilation derived from another shares its
    // referenced assemblies' symbols, where a new one would load the framework's 160 assemblies again.
    private static readonly Lazy<CSharpCompilation> Empty = new(() => CSharpCompilation.Create("TestAssembly", [], References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true)));

    public static CSharpCompilation Compile(params string[] sources)
        => Empty.Value.AddSyntaxTrees(sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")));

    /// <summary>
    /// A compilation of <paramref name="sources"/> against the framework and <paramref name="runtime"/> in place of
    /// this repository's GenNets.dll (none, for a project that lacks the runtime).
    /// </summary>
    public static CSharpCompilation CompileAgainst(IEnumerable<MetadataReference> runtime, params string[] sources)
        => Empty.Value.WithReferences(Framework.Value.AddRange(runtime))
            .AddSyntaxTrees(sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")));

    public static GeneratorDriver Driver(bool trackSteps = false)
        => CSharpGeneratorDriver.Create(
            [new NetworkGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator; returns the compilation with generated code and the run's result.</summary>
    public static (Compilation Output, GeneratorDriverRunResult Result) Run(params string[] sources)
    {
        var driver = Driver().RunGeneratorsAndUpdateCompilation(Compile(sources), out var output, out _);
        return (output, driver.GetRunResult());
    }

    /// <summary>Errors and warnings of a compilation, for messages.</summary>
    public static string Describe(IEnumerable<Diagnostic> diagnostics)
        => string.Join(Environment.NewLine, diagnostics.Select(d => d.ToString()));

    /// <summary>The repository root: the folder holding GenNets.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GenNets.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("No GenNets.sln above " + AppContext.BaseDirectory);
    }
}
