using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GenNets.Generators.Tests;

/// <summary>
/// An invalid network's placeholder offers exactly the public members of a valid network of its family, so code
/// written against the valid class compiles against the invalid one and the GN diagnostics are the only errors.
/// </summary>
public class PlaceholderTests
{
    [Theory]
    [InlineData("dense", "[Input(6)] [Dense(4, Activation.ReLU)] [Dropout(0.1f)] [Dense(3)]", "[Input(6)] [Dense(0, Activation.ReLU)] [Dropout(0.1f)] [Dense(3)]")]
    [InlineData("convolutional", "[Input(1, 6, 6)] [Conv2D(2, 3)] [MaxPool2D(2)] [Flatten] [Dense(3)]", "[Input(1, 6, 6)] [Conv2D(2, 9)] [MaxPool2D(2)] [Flatten] [Dense(3)]")]
    [InlineData("recurrent", "[Input(5, 2)] [LSTM(4, ReturnSequences = true)] [GRU(3)] [Dense(2)]", "[Input(5, 2)] [LSTM(4)] [GRU(3)] [Dense(2)]")]
    public void InvalidNetwork_OffersExactlyTheValidMembers_SoCallersCompile(string family, string valid, string invalid)
    {
        var validMembers = PublicMembers(valid, out var calls);
        var invalidMembers = PublicMembers(invalid, out _);
        Assert.Equal(validMembers, invalidMembers);

        // Code calling every public member of the valid class compiles against the invalid one's placeholder.
        var (output, _) = GeneratorHarness.Run("using GenNets; " + invalid + " public partial class Net { }", calls);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, family + ":\n" + GeneratorHarness.Describe(errors) + "\n" + calls);
    }

    // The public members of the generated class 'Net', as signatures, and code that uses each of them.
    private static List<string> PublicMembers(string attributes, out string calls)
    {
        var (output, _) = GeneratorHarness.Run("using GenNets; " + attributes + " public partial class Net { }");
        var type = output.GetTypeByMetadataName("Net")!;
        var members = type.GetMembers().Where(m => m.DeclaredAccessibility == Accessibility.Public && !m.IsImplicitlyDeclared
            && m is not IMethodSymbol { MethodKind: MethodKind.PropertyGet or MethodKind.PropertySet }).ToList();
        var uses = new List<string>();
        foreach (var member in members)
            switch (member)
            {
                case IMethodSymbol { MethodKind: MethodKind.Constructor } c:
                    uses.Add($"_ = new Net({string.Join(", ", c.Parameters.Select(p => $"default({p.Type.ToDisplayString()})"))});");
                    break;
                case IMethodSymbol m:
                    uses.Add($"{(m.ReturnsVoid ? "" : "_ = ")}n.{m.Name}({string.Join(", ", m.Parameters.Select(p => $"default({p.Type.ToDisplayString()})"))});");
                    break;
                case IPropertySymbol p:
                    uses.Add($"_ = n.{p.Name};");
                    if (p.SetMethod is not null) uses.Add($"n.{p.Name} = default;");
                    break;
                case IFieldSymbol f:
                    uses.Add(f.IsStatic || f.IsConst ? $"_ = Net.{f.Name};" : $"_ = n.{f.Name};");
                    break;
            }
        Assert.True(uses.Count > 20, "only " + uses.Count + " public members");
        calls = "static class Use { static void All(Net n) { " + string.Join(" ", uses) + " } }";
        return members.Select(m => m.ToDisplayString()).OrderBy(s => s, System.StringComparer.Ordinal).ToList();
    }
}
