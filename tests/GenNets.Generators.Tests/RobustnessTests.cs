using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>
/// Malformed and half-typed declarations, as an editor sees them while the user types, and odd but legal ones: the
/// generator must never throw (which the compiler would report as CS8785) and never write a file the compiler rejects.
/// Each declaration is its own test case, so that one failure does not hide the others.
/// </summary>
public class RobustnessTests
{
    public static IEnumerable<object[]> Malformed() => RobustnessCorpus.Sources().Select(s => new object[] { s.Label, s.Source });

    public static IEnumerable<object[]> Declarations() => RobustnessCorpus.Declarations().Select(d => new object[] { d.Label, d.Source, string.Join(",", d.ExpectedIds) });

    [Fact]
    public void Corpus_IsLarge() => Assert.True(RobustnessCorpus.Sources().Count() > 300);

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Generator_NeverThrows_NorWritesAnError(string label, string source)
    {
        var (output, result) = GeneratorHarness.Run(source);
        AssertSound(output, result, label, source);
    }

    [Theory]
    [MemberData(nameof(Declarations))]
    public void Declaration_CompilesCleanly_OrOnlyTheAnalyzerObjects(string label, string source, string expectedIds)
    {
        var (output, result) = GeneratorHarness.Run(source);
        AssertSound(output, result, label, source);
        bool accepted = expectedIds.Length == 0;
        // The GN diagnostics come from the analyzer (its tests check them); here no compiler error may remain, anywhere,
        // and a declaration GenNets accepts compiles without a warning.
        var problems = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error
            || (accepted && d.Severity == DiagnosticSeverity.Warning)).ToList();
        Assert.True(problems.Count == 0, GeneratorHarness.Describe(problems) + "\non:\n" + source);
        if (accepted)
            Assert.NotEmpty(result.Results.Single().GeneratedSources);
    }

    private static void AssertSound(Compilation output, GeneratorDriverRunResult result, string label, string source)
    {
        var run = result.Results.Single();
        Assert.True(run.Exception is null, $"{label}: the generator threw {run.Exception} on:\n{source}");
        var generatedTrees = run.GeneratedSources.Select(g => g.SyntaxTree).ToHashSet();
        var inGenerated = output.GetDiagnostics()
            .Where(d => d.Id is "CS8785" or "CS8784" || (d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree is { } t && generatedTrees.Contains(t)))
            .ToList();
        Assert.True(inGenerated.Count == 0, $"{label}: in the generated code:\n{GeneratorHarness.Describe(inGenerated)}\non:\n{source}");
    }
}
