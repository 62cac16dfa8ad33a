using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GenNets.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>
/// The generator writes code only against the runtime it is made for: another runtime gets GN0040 and no generated
/// code, a missing one GN0041, and in neither case a cascade of compiler errors.
/// </summary>
public class RuntimeCheckTests
{
    private const string Network = "using GenNets; [Input(4)] [Dense(3)] public partial class Net { }";

    // A GenNets.dll of another release: the attributes a declaration needs, and another contract (or none).
    private static MetadataReference FakeRuntime(string? contract, string informational = "9.9.0+0123abc")
    {
        string source = $$"""
            using System;
            using System.Reflection;
            [assembly: AssemblyVersion("9.9.0.0")]
            [assembly: AssemblyInformationalVersion("{{informational}}")]
            namespace GenNets
            {
                public enum Activation { Identity }
                [AttributeUsage(AttributeTargets.Class)] public sealed class InputAttribute : Attribute { public InputAttribute(params int[] shape) { } }
                [AttributeUsage(AttributeTargets.Class, AllowMultiple = true)] public sealed class DenseAttribute : Attribute { public DenseAttribute(int units, Activation activation = Activation.Identity) { } }
                {{(contract is null ? "" : "public static class GeneratedCodeContract { public const int Version = " + contract + "; }")}}
            }
            """;
        var compilation = CSharpCompilation.Create("GenNets", [CSharpSyntaxTree.ParseText(source)], GeneratorHarness.Framework.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, GeneratorHarness.Describe(emitted.Diagnostics));
        return MetadataReference.CreateFromImage(image.ToArray());
    }

    private static (Compilation Output, GeneratorDriverRunResult Result) Run(CSharpCompilation compilation)
    {
        var driver = GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (output, driver.GetRunResult());
    }

    private static string Message(Diagnostic d) => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void RuntimeOfAnotherContract_GetsGN0040NamingBothVersions_AndNoCodeNorCompilerError()
    {
        var (output, result) = Run(GeneratorHarness.CompileAgainst([FakeRuntime("99")], Network));

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.RuntimeMismatch, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        string message = Message(diagnostic);
        Assert.Contains("network 'Net'", message);
        Assert.Contains($"generator {RuntimeContract.GeneratorVersion} writes code for generated-code contract {RuntimeContract.Expected},", message);
        Assert.Contains("runtime GenNets.dll 9.9.0 has contract 99;", message); // the informational version, without its commit
        Assert.Equal("Source0.cs", diagnostic.Location.SourceTree!.FilePath);
        Assert.Equal("Net", diagnostic.Location.SourceTree.ToString().Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));

        // Not even the placeholder: it implements INetwork, which this runtime lacks.
        Assert.Empty(result.GeneratedTrees);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, GeneratorHarness.Describe(errors));
    }

    [Fact]
    public void RuntimeOfAnotherContract_WhoseTypesFitThePlaceholder_GetsIt_SoCodeUsingTheNetworkCompiles()
    {
        // This repository's runtime, compiled from source with the next contract number: a later release.
        string root = Path.Combine(GeneratorHarness.RepositoryRoot(), "src", "GenNets");
        var trees = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => File.ReadAllText(f))
            .Select(text => text.Replace($"public const int Version = {RuntimeContract.Expected};", $"public const int Version = {RuntimeContract.Expected + 1};"))
            .Append("[assembly: System.Reflection.AssemblyInformationalVersion(\"9.9.0\")]")
            .Select(text => CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions))
            .ToList();
        Assert.Contains(trees, t => t.ToString().Contains($"public const int Version = {RuntimeContract.Expected + 1};", StringComparison.Ordinal));
        var later = CSharpCompilation.Create("GenNets", trees, GeneratorHarness.Framework.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));

        var (output, result) = Run(GeneratorHarness.CompileAgainst([later.ToMetadataReference()], SnapshotTests.Mlp, """
            namespace Samples;
            public static class User
            {
                public static float Use()
                {
                    var n = new FashionMlp(1);
                    n.Forward(new float[FashionMlp.InputSize], new float[FashionMlp.OutputSize]);
                    GenNets.INetwork network = n;
                    return n.Parameters[0] + network.ParameterCount + FashionMlp.Layer0WeightOffset;
                }
            }
            """));
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.RuntimeMismatch, diagnostic.Id);
        Assert.Contains($"runtime GenNets.dll 9.9.0 has contract {RuntimeContract.Expected + 1};", Message(diagnostic));
        string generated = Assert.Single(result.GeneratedTrees).ToString();
        Assert.Contains("The declaration of this network has errors", generated); // the placeholder, not the network's code
        Assert.DoesNotContain("GenNets.Kernels", generated);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, GeneratorHarness.Describe(errors));
    }

    [Fact]
    public void RuntimeOlderThanTheContract_GetsGN0040WithContractNone()
    {
        var (_, result) = Run(GeneratorHarness.CompileAgainst([FakeRuntime(null, "0.9.1")], Network));
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.RuntimeMismatch, diagnostic.Id);
        Assert.Contains("runtime GenNets.dll 0.9.1 has contract none;", Message(diagnostic));
        Assert.Empty(result.GeneratedTrees);
    }

    [Fact]
    public void EveryNetworkClass_GetsItsOwnGN0040()
    {
        var (_, result) = Run(GeneratorHarness.CompileAgainst([FakeRuntime("99")],
            "using GenNets; namespace A { [Input(4)] [Dense(3)] public partial class One { } [Input(2)] [Dense(1)] public partial class Two { } }"));
        Assert.Equal(["GN0040 One", "GN0040 Two"], result.Diagnostics.Select(d => d.Id + " " + d.Location.SourceTree!.ToString().Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)).OrderBy(s => s));
    }

    [Fact]
    public void MatchingRuntime_GetsNoDiagnostic_AndItsCodeCarriesTheGeneratorVersion()
    {
        Assert.Equal(GenNets.GeneratedCodeContract.Version, RuntimeContract.Expected);
        var (output, result) = GeneratorHarness.Run(SnapshotTests.Mlp);
        Assert.Empty(result.Diagnostics);
        string generated = Assert.Single(result.GeneratedTrees).ToString();
        Assert.Contains($"[global::System.CodeDom.Compiler.GeneratedCode(\"GenNets.Generators\", \"{RuntimeContract.GeneratorVersion}\")]", generated);
        Assert.DoesNotContain("+", RuntimeContract.GeneratorVersion);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void MissingRuntime_GetsGN0041OnTheNetwork_AndOnlyTheUnresolvedNames()
    {
        var (output, result) = Run(GeneratorHarness.CompileAgainst([], Network + " public class Plain { }"));
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.RuntimeMissing, diagnostic.Id);
        Assert.Equal("Net", diagnostic.Location.SourceTree!.ToString().Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Contains("network 'Net'", Message(diagnostic));
        Assert.Contains($"generator {RuntimeContract.GeneratorVersion} runs in this project, but the project does not reference the runtime GenNets.dll", Message(diagnostic));
        Assert.Empty(result.GeneratedTrees);
        // What remains is the compiler saying the same: 'GenNets', 'Input' and 'Dense' cannot be found.
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Equal("CS0246", e.Id));
    }

    [Theory]
    [InlineData("[Input(4)] public partial class Net { }")]                                            // an [Input] of someone else's, alone
    [InlineData("public class InputAttribute : System.Attribute { } public class DenseAttribute : System.Attribute { public DenseAttribute(int n) { } } [Input] [Dense(3)] public class Net { }")] // resolved to the project's own attributes
    [InlineData("public class Plain { }")]
    public void MissingRuntime_WithoutANetwork_GetsNoDiagnostic(string source)
    {
        var (_, result) = Run(GeneratorHarness.CompileAgainst([], source));
        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.GeneratedTrees);
    }

    [Theory]
    [InlineData("none", null)]
    [InlineData("warning", DiagnosticSeverity.Warning)]
    [InlineData("error", DiagnosticSeverity.Error)]
    public void GeneratorDiagnostic_TakesItsSeverityFromEditorConfig(string setting, DiagnosticSeverity? expected)
    {
        var compilation = EditorConfig.Apply(GeneratorHarness.CompileAgainst([FakeRuntime("99")], Network),
            $"root = true\n\n[*.cs]\ndotnet_diagnostic.GN0040.severity = {setting}\n");
        var driver = GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out _, out var diagnostics);
        var reported = diagnostics.Where(d => d.Id == DiagnosticIds.RuntimeMismatch).ToList();
        if (expected is null) Assert.Empty(reported);
        else Assert.Equal(expected, Assert.Single(reported).Severity);
    }
}
