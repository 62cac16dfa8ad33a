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
/// The generated-code contract (GN0040) holds only if its number is raised whenever what generated code uses of the
/// runtime changes. Baselines/RuntimeContract.txt lists those members, with their signatures, under the number; a change
/// to the list with the number unchanged fails here.
/// </summary>
public class ContractTests
{
    // Networks that between them use every layer, activation, loss and size path of the emitter, and a placeholder.
    private static readonly string[] Networks =
    [
        SnapshotTests.Mlp,
        SnapshotTests.Mixed,
        SnapshotTests.Invalid,
        RobustnessCorpus.Cnn,
        RobustnessCorpus.Recurrent,
        """
        using GenNets;
        namespace More;
        [Input(3000)] [Dense(6, Activation.LeakyReLU, Init = Initializer.HeUniform)] [Dense(5, Activation.Sigmoid)] [Dense(4, Activation.Tanh)] [Dense(3)]
        [Loss(LossKind.BinaryCrossEntropyWithLogits)]
        public partial class Wide { }
        [Input(2, 9, 9)] [Conv2D(3, 3, Stride = 2, Activation = Activation.LeakyReLU)] [GlobalAvgPool] [Dense(2, Activation.Softmax)] [Loss(LossKind.MeanSquaredError)]
        public partial class Pooled { }
        [Input(7, 3)] [SimpleRNN(4, ReturnSequences = true)] [GRU(3, ReturnSequences = true)] [LSTM(2)] [Dense(2)] [Loss(LossKind.SoftmaxCrossEntropy)]
        public partial class Stacked { }
        [TokenInput(12, 9)] [Embedding(8)] [PositionalEncoding(Learned = true)] [TransformerEncoder(1, 2, 16, Causal = true, Activation = Activation.GELUTanh)] [LayerNorm] [Dense(9)]
        public partial class Language { }
        [Input(13, 8)] [PositionalEncoding] [TransformerEncoder(1, 2, 16)] [GlobalAvgPool] [Dense(3)]
        public partial class Encoder { }
        [Block] [Conv2D(4, 3, Padding = 1, Activation = Activation.ReLU)] [Conv2D(4, 3, Padding = 1)] [BatchNorm] public partial class Basic { }
        [Block] [Conv2D(6, 3, Stride = 2, Padding = 1)] public partial class Down { }
        [Input(2, 8, 8)] [Conv2D(4, 3, Padding = 1)] [BatchNorm] [Residual(typeof(Basic), Activation = Activation.ReLU)] [Residual(typeof(Down))] [GlobalAvgPool] [Dense(2)]
        public partial class Res { }
        """,
    ];

    private static readonly SymbolDisplayFormat Signature = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters | SymbolDisplayGenericsOptions.IncludeTypeConstraints | SymbolDisplayGenericsOptions.IncludeVariance,
        memberOptions: SymbolDisplayMemberOptions.IncludeType | SymbolDisplayMemberOptions.IncludeParameters | SymbolDisplayMemberOptions.IncludeContainingType
            | SymbolDisplayMemberOptions.IncludeModifiers | SymbolDisplayMemberOptions.IncludeRef | SymbolDisplayMemberOptions.IncludeConstantValue,
        parameterOptions: SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeName | SymbolDisplayParameterOptions.IncludeParamsRefOut
            | SymbolDisplayParameterOptions.IncludeDefaultValue | SymbolDisplayParameterOptions.IncludeExtensionThis,
        propertyStyle: SymbolDisplayPropertyStyle.ShowReadWriteDescriptor,
        kindOptions: SymbolDisplayKindOptions.IncludeTypeKeyword | SymbolDisplayKindOptions.IncludeMemberKeyword,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Every runtime symbol the generated code of <see cref="Networks"/> names, and every member of the runtime interfaces it implements.</summary>
    private static SortedSet<string> UsedRuntimeMembers()
    {
        var (output, result) = GeneratorHarness.Run(Networks);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, GeneratorHarness.Describe(errors));
        Assert.Equal(11, result.GeneratedTrees.Length);
        // Only SnapshotTests.Invalid may be a placeholder: a network that came out invalid would list none of its members.
        Assert.Single(result.GeneratedTrees, t => t.ToString().Contains("The declaration of this network has errors", StringComparison.Ordinal));
        var used = new SortedSet<string>(StringComparer.Ordinal);
        void Add(ISymbol? symbol)
        {
            if (symbol is IMethodSymbol { ReducedFrom: { } extension }) symbol = extension;
            symbol = symbol?.OriginalDefinition;
            // A parameter is part of its method's signature; an accessor, of its property's.
            if (symbol?.ContainingAssembly?.Name != "GenNets" || symbol is INamespaceSymbol or IParameterSymbol
                || symbol is IMethodSymbol { MethodKind: MethodKind.PropertyGet or MethodKind.PropertySet }) return;
            used.Add(symbol.ToDisplayString(Signature));
            if (symbol is INamedTypeSymbol { TypeKind: TypeKind.Interface } contract)
                foreach (var member in contract.AllInterfaces.Add(contract).SelectMany(i => i.GetMembers()))
                    if (member is not IMethodSymbol { MethodKind: MethodKind.PropertyGet or MethodKind.PropertySet }) used.Add(member.ToDisplayString(Signature));
        }
        foreach (var tree in result.GeneratedTrees)
        {
            var model = output.GetSemanticModel(output.SyntaxTrees.Single(t => t.FilePath == tree.FilePath));
            foreach (var node in model.SyntaxTree.GetRoot().DescendantNodes())
            {
                Add(model.GetSymbolInfo(node).Symbol);
                if (model.GetDeclaredSymbol(node) is INamedTypeSymbol declared)
                    foreach (var implemented in declared.AllInterfaces) Add(implemented);
            }
        }
        return used;
    }

    [Fact]
    public void RuntimeMembersThatGeneratedCodeUses_ChangeOnlyWithTheContractNumber()
    {
        Assert.Equal(GenNets.GeneratedCodeContract.Version, RuntimeContract.Expected);
        var used = UsedRuntimeMembers();
        Assert.Contains(used, m => m.Contains("GenNets.Kernels.", StringComparison.Ordinal));
        string file = Path.Combine(GeneratorHarness.RepositoryRoot(), "tests", "GenNets.Generators.Tests", "Baselines", "RuntimeContract.txt");
        var lines = File.Exists(file) ? File.ReadAllLines(file) : [];
        int? recorded = lines.Where(l => l.StartsWith("contract ", StringComparison.Ordinal)).Select(l => (int?)int.Parse(l.Substring(9), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        var listed = new SortedSet<string>(lines.Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith("contract ", StringComparison.Ordinal)), StringComparer.Ordinal);
        var added = used.Except(listed).ToList();
        var removed = listed.Except(used).ToList();
        bool changed = added.Count > 0 || removed.Count > 0;
        string difference = string.Join("\n", added.Select(a => "+ " + a).Concat(removed.Select(r => "- " + r)));

        if (Environment.GetEnvironmentVariable("GENNETS_UPDATE_BASELINES") == "1" && (changed || recorded != RuntimeContract.Expected))
        {
            Assert.True(!changed || recorded != RuntimeContract.Expected,
                $"What generated code uses of the runtime changed, but the contract is still {recorded}: raise GenNets.GeneratedCodeContract.Version and RuntimeContract.Expected first.\n{difference}");
            File.WriteAllLines(file, new[]
            {
                "# The runtime members that GenNets-generated code uses, with their signatures (see docs/diagnostics.md, GN0040).",
                "# Written by ContractTests: a change to this list needs a new contract number in GenNets.GeneratedCodeContract.Version",
                "# and in the generator's RuntimeContract.Expected; then run the tests with GENNETS_UPDATE_BASELINES=1.",
                $"contract {RuntimeContract.Expected}",
            }.Concat(used));
            return;
        }
        Assert.True(File.Exists(file), $"No baseline {file}: run with GENNETS_UPDATE_BASELINES=1 to create it.");
        Assert.True(!changed, recorded == RuntimeContract.Expected
            ? $"What generated code uses of the runtime changed, but the contract is still {recorded}: a generator and a runtime of different releases would pass the check and not fit. Raise GenNets.GeneratedCodeContract.Version and RuntimeContract.Expected, then accept the list with GENNETS_UPDATE_BASELINES=1.\n{difference}"
            : $"The contract is now {RuntimeContract.Expected}: accept the new list with GENNETS_UPDATE_BASELINES=1.\n{difference}");
        Assert.True(recorded == RuntimeContract.Expected, $"Baselines/RuntimeContract.txt is for contract {recorded}, the generator for {RuntimeContract.Expected}: accept the list with GENNETS_UPDATE_BASELINES=1.");
    }
}
