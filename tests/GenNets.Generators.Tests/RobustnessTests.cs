using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>
/// Hundreds of malformed and half-typed declarations, as an editor sees them while the user types:
/// the generator must never throw (which the compiler would report as CS8785).
/// </summary>
public class RobustnessTests
{
    [Fact]
    public void Generator_NeverThrows_OnMalformedInput()
    {
        int count = 0;
        foreach (string source in RobustnessCorpus.Sources())
        {
            count++;
            var (output, result) = GeneratorHarness.Run(source);
            var run = result.Results.Single();
            Assert.True(run.Exception is null, $"The generator threw {run.Exception} on:\n{source}");
            var crash = output.GetDiagnostics().FirstOrDefault(d => d.Id is "CS8785" or "CS8784");
            Assert.True(crash is null, $"{crash} on:\n{source}");
        }
        Assert.True(count > 300, $"only {count} cases");
    }
}
