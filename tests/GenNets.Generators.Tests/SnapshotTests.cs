using System;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>
/// The generated source of a few networks, compared with checked-in baselines in Baselines/. After an
/// intended change to the emitter, accept the new output with
/// <c>GENNETS_UPDATE_BASELINES=1 dotnet test tests/GenNets.Generators.Tests</c> and review the diff. The generator's
/// version in the <c>GeneratedCode</c> attributes is written as <c>$(GeneratorVersion)</c>, so a release changes no baseline.
/// </summary>
public class SnapshotTests
{
    public const string Mlp = RobustnessCorpus.Mlp;

    public const string Mixed = RobustnessCorpus.Mixed;

    public const string Invalid = """
        using GenNets;
        namespace Samples;

        [Input(10)]
        [Dense(0, Activation.ReLU)]
        [Dense(3)]
        public partial class Broken { }
        """;

    [Theory]
    [InlineData("FashionMlp", Mlp, "Samples.FashionMlp.g.cs")]
    [InlineData("PerPosition", Mixed, "Models.PerPosition.g.cs")]
    [InlineData("Broken", Invalid, "Samples.Broken.g.cs")]
    [InlineData("Cnn", RobustnessCorpus.Cnn, "Samples.Cnn.g.cs")]
    [InlineData("Recurrent", RobustnessCorpus.Recurrent, "Samples.Recurrent.g.cs")]
    public void GeneratedSource_MatchesBaseline(string name, string source, string hintName)
    {
        var (output, result) = GeneratorHarness.Run(source);
        Assert.Empty(result.Diagnostics);
        var generated = Assert.Single(result.Results.Single().GeneratedSources);
        Assert.Equal(hintName, generated.HintName);
        // The generator's version changes with every release; the baselines hold a token in its place.
        string version = $"GeneratedCode(\"GenNets.Generators\", \"{GenNets.Generators.Model.RuntimeContract.GeneratorVersion}\")";
        string text = generated.SourceText.ToString();
        Assert.Contains(version, text);
        text = text.Replace(version, "GeneratedCode(\"GenNets.Generators\", \"$(GeneratorVersion)\")");

        string file = Path.Combine(GeneratorHarness.RepositoryRoot(), "tests", "GenNets.Generators.Tests", "Baselines", name + ".g.cs.txt");
        if (Environment.GetEnvironmentVariable("GENNETS_UPDATE_BASELINES") == "1")
            File.WriteAllText(file, text);
        Assert.True(File.Exists(file), $"No baseline {file}: run with GENNETS_UPDATE_BASELINES=1 to create it.");
        string expected = File.ReadAllText(file).ReplaceLineEndings("\n");
        Assert.Equal(expected, text);

        if (name != "Broken")
        {
            var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(problems.Count == 0, GeneratorHarness.Describe(problems));
        }
    }

    [Fact]
    public void InvalidNetwork_GetsPlaceholder_SoUsesCompileWithoutCascade()
    {
        // Code that uses a broken network compiles: only the GN diagnostics (from the analyzer) should show.
        var (output, _) = GeneratorHarness.Run(Invalid, """
            namespace Samples;
            public static class User
            {
                public static float Use() { var n = new Broken(1); n.Forward(new float[Broken.InputSize], new float[3]); return n.Parameters[0]; }
            }
            """);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, GeneratorHarness.Describe(errors));
    }

    [Fact]
    public void Output_IsDeterministic()
    {
        string a = GeneratorHarness.Run(Mlp).Result.Results[0].GeneratedSources[0].SourceText.ToString();
        string b = GeneratorHarness.Run(Mlp).Result.Results[0].GeneratedSources[0].SourceText.ToString();
        Assert.Equal(a, b);
    }

    [Fact]
    public void NotPartial_GeneratesNothing()
    {
        var (_, result) = GeneratorHarness.Run("using GenNets; [Input(3)] [Dense(2)] public class Plain { }");
        Assert.Empty(result.Results[0].GeneratedSources);
    }
}
