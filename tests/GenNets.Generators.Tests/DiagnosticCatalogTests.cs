using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using GenNets.Generators.Model;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>Every diagnostic ID is documented, and the generator treats as warnings exactly the ones documented as warnings.</summary>
public class DiagnosticCatalogTests
{
    private static string[] Ids() => typeof(DiagnosticIds).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).ToArray();

    [Fact]
    public void EveryId_HasASectionAndATableRow_WithTheSeverityTheGeneratorUses()
    {
        string docs = File.ReadAllText(Path.Combine(GeneratorHarness.RepositoryRoot(), "docs", "diagnostics.md"));
        foreach (string id in Ids())
        {
            Assert.Contains("## " + id, docs);
            var row = Regex.Match(docs, $@"\| \[{id}\]\(#{id.ToLowerInvariant()}\) \| (Error|Warning|Info) \|");
            Assert.True(row.Success, $"{id} has no row in the table of docs/diagnostics.md");
            // A network with only warnings is still generated; the documented severity must say the same.
            Assert.Equal(row.Groups[1].Value == "Warning", DiagnosticIds.IsWarning(id));
            Assert.Equal(row.Groups[1].Value == "Info", DiagnosticIds.IsInfo(id));
        }
    }
}
