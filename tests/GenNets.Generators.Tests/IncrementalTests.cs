using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>The pipeline's cache: an unrelated edit reuses the model; an edit to a layer changes it.</summary>
public class IncrementalTests
{
    private const string Other = "public static class Unrelated { public static int Value => 1; }";

    private static IncrementalStepRunReason ModelStep(GeneratorDriver driver)
        => driver.GetRunResult().Results[0].TrackedSteps[TrackingNames.Models].Single().Outputs.Single().Reason;

    [Fact]
    public void UnrelatedEdit_ReusesCachedModel()
    {
        var compilation = GeneratorHarness.Compile(SnapshotTests.Mlp, Other);
        var driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);
        Assert.Equal(IncrementalStepRunReason.New, ModelStep(driver));

        var unrelated = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(unrelated,
            CSharpSyntaxTree.ParseText("public static class Unrelated { public static int Value => 2; public static int More => 3; }", GeneratorHarness.ParseOptions, path: unrelated.FilePath));
        driver = driver.RunGenerators(edited);
        var reasons = driver.GetRunResult().Results[0].TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason);
        Assert.All(reasons, r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void LayerSizeEdit_ModifiesModelAndOutput()
    {
        var compilation = GeneratorHarness.Compile(SnapshotTests.Mlp, Other);
        var driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);
        var network = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(network,
            CSharpSyntaxTree.ParseText(SnapshotTests.Mlp.Replace("Dense(128", "Dense(64"), GeneratorHarness.ParseOptions, path: network.FilePath));
        driver = driver.RunGenerators(edited);
        Assert.Equal(IncrementalStepRunReason.Modified, ModelStep(driver));
        Assert.Contains("Dense 256→64", driver.GetRunResult().GeneratedTrees.Single().ToString());
    }

    [Fact]
    public void WhitespaceEditInNetworkFile_KeepsOutputCached()
    {
        var compilation = GeneratorHarness.Compile(SnapshotTests.Mlp);
        var driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);
        var network = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(network,
            CSharpSyntaxTree.ParseText(SnapshotTests.Mlp + "\n// a comment\n", GeneratorHarness.ParseOptions, path: network.FilePath));
        driver = driver.RunGenerators(edited);
        // The file changed, so the transform ran again, but its model compared equal: nothing is emitted again.
        Assert.Contains(ModelStep(driver), new[] { IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Cached });
        var outputs = driver.GetRunResult().Results[0].TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason);
        Assert.All(outputs, r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }
}
