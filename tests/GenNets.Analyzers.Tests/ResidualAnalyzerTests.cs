using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using GenNets.CodeFixes;
using GenNets.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace GenNets.Analyzers.Tests;

/// <summary>Residual networks: [Block] classes used by [Residual], GN0050–GN0055, GN0021 around strides, and their code fixes.</summary>
public class ResidualAnalyzerTests
{
    private const string ResNet = """
        using GenNets;
        namespace App;

        // ResNet's basic block: two 3×3 convolutions, the input added back.
        [Block]
        [Conv2D(4, 3, Padding = 1, Activation = Activation.ReLU, Name = "conv1")]
        [Conv2D(4, 3, Padding = 1, Name = "conv2")]
        public partial class BasicBlock { }

        // Stride 2 and more channels: the skip is a 1×1 convolution with stride 2.
        [Block]
        [Conv2D(6, 3, Stride = 2, Padding = 1, Activation = Activation.ReLU, Name = "conv1")]
        [Conv2D(6, 3, Padding = 1, Name = "conv2")]
        public partial class DownBlock { }

        // A block of blocks.
        [Block]
        [Residual(typeof(BasicBlock), Activation = Activation.ReLU)]
        [Conv2D(4, 3, Padding = 1, Activation = Activation.ReLU)]
        internal partial class NestedBlock { }

        // 6 → 3 on a vector: the skip is a dense layer.
        [Block]
        [Dense(3, Activation.Tanh, Name = "fc")]
        public partial class NarrowingBlock { }

        // Declared and never used: nothing to report either.
        [Block]
        [Dense(8)]
        public partial class UnusedBlock { }

        [Input(2, 8, 8)]
        [Conv2D(4, 3, Padding = 1, Activation = Activation.ReLU, Name = "conv1")]
        [Residual(typeof(BasicBlock), Activation = Activation.ReLU, Repeat = 2, Name = "layer1")]
        [Residual(typeof(BasicBlock), Activation = Activation.ReLU, Name = "layer1")]
        [Residual(typeof(NestedBlock), Name = "layer2")]
        [Residual(typeof(DownBlock), Activation = Activation.ReLU, Name = "layer3")]
        [GlobalAvgPool]
        [Residual(typeof(NarrowingBlock))]
        [Dense(2)]
        [Loss(LossKind.SoftmaxCrossEntropy)]
        public partial class ResNet { }

        public static class Use
        {
            public static int Size() => new ResNet(1).Parameters.Length + ResNet.OutputSize;
        }
        """;

    [Fact]
    public async Task ValidResidualNetwork_AndItsBlocks_HaveNoDiagnostics()
    {
        var diagnostics = await AnalyzerHarness.Diagnose(ResNet);
        Assert.True(diagnostics.All(d => d.Severity < DiagnosticSeverity.Warning), string.Join("\n", diagnostics));
    }

    [Fact]
    public void ValidResidualNetwork_NamesItsBlocksAsPyTorch()
    {
        string generated = Generated(ResNet);
        // Repeat = 2 gives layer1.0 and layer1.1; the next residual of the same name goes on at layer1.2.
        foreach (string name in new[] { "layer1.0.conv1.weight", "layer1.1.conv2.bias", "layer1.2.conv1.weight", "layer2.0.0.0.conv1.weight",
                     "layer3.0.conv2.weight", "layer3.0.downsample.0.weight", "6.0.fc.weight", "6.0.downsample.0.weight" })
            Assert.Contains("\"" + name + "\"", generated);
        Assert.DoesNotContain("\"layer1.3.", generated);
        Assert.DoesNotContain("\"layer1.0.downsample", generated); // an identity skip has no projection
    }

    [Fact]
    public async Task Block_WithoutInput_GetsNoGN0002_WhereAClassWithoutBlockDoes()
    {
        await AnalyzerHarness.Verify("""
            using GenNets;
            [Block] [Dense(8, Activation.ReLU)] [Dense(8)]
            public partial class Body { }
            """);
        await AnalyzerHarness.Verify("""
            using GenNets;
            [Dense(8, Activation.ReLU)] [Dense(8)]
            public partial class {|GN0002:Body|} { }
            """, "2 layer attribute(s) but no [Input]");
    }

    [Fact]
    public Task GN0050_PlainClass_OnTheTypeofArgument() => AnalyzerHarness.Verify("""
        using GenNets;
        public class Basic { }
        [Input(8)] [Residual({|GN0050:typeof(Basic)|}, Repeat = 2)] [Dense(3)]
        public partial class Net { }
        """, "'Basic' is given to [Residual] or [Sequential] but is not marked [Block]");

    [Fact]
    public Task GN0050_ClassWithLayersButNoBlock_AlsoGetsGN0002() => AnalyzerHarness.Verify("""
        using GenNets;
        [Dense(8)]
        public partial class {|GN0002:Basic|} { }
        [Input(8)] [GenNets.Residual({|GN0050:block: typeof(Basic)|})] [Dense(3)]
        public partial class Net { }
        """, "'Basic' is given to [Residual]");

    [Fact]
    public Task GN0051_ItselfDirectly() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [Dense(8)] [Residual({|GN0051:typeof(Loop)|})]
        public partial class Loop { }
        """, "Block 'Loop' uses itself (Loop → Loop)");

    [Fact]
    public Task GN0051_ThroughAnother_InEachBlockAndWhereUsed() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [Dense(8)] [Residual({|GN0051:typeof(B)|})]
        public partial class A { }
        [Block] [Residual({|GN0051:typeof(A)|})]
        public partial class B { }
        [Input(8)] [Residual({|GN0051:typeof(A)|})] [Dense(3)]
        public partial class Net { }
        """, "Block 'A' uses itself (A → B → A)", "Block 'B' uses itself (B → A → B)");

    [Fact]
    public Task GN0052_Input_OnTheAttribute_AndWhereUsed() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [{|GN0052:Input(8)|}] [Dense(8)]
        public partial class Basic { }
        [Input(8)] [Residual({|GN0052:typeof(Basic)|})] [Dense(3)]
        public partial class Net { }
        """, "Block 'Basic' declares [Input]; a block takes its input shape from where it is used");

    [Fact]
    public Task GN0052_Loss_InAnUnusedBlock() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block, Dense(8), {|GN0052:Loss(LossKind.MeanSquaredError)|}]
        public partial class Basic { }
        """, "Block 'Basic' declares [Loss]");

    [Fact]
    public Task GN0052_InANestedBlock_AtEachUse() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [{|GN0052:Input(3)|}] [Dense(8)]
        public partial class Inner { }
        [Block] [Residual({|GN0052:typeof(Inner)|})]
        public partial class Outer { }
        [Input(8)] [Residual({|GN0052:typeof(Outer)|})] [Dense(3)]
        public partial class Net { }
        """, "Block 'Inner' declares [Input]");

    [Fact]
    public Task GN0053_FlattenInABlockOnAnImage() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [Conv2D(4, 3, Padding = 1)] [Flatten]
        public partial class Flattening { }
        [Input(4, 8, 8)] [Residual({|GN0053:typeof(Flattening)|}, Activation = Activation.ReLU)] [Dense(3)]
        public partial class Net { }
        """, "In the residual block 'Flattening' (layer 2), the block turns its input [4, 8, 8] (3 axes) into [256] (1 axes)");

    [Fact]
    public Task GN0053_LastStateOfASequence() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [LSTM(4)]
        public partial class Reader { }
        [Input(10, 4)] [Dense(4)] [Residual({|GN0053:typeof(Reader)|})] [Dense(3)]
        public partial class Net { }
        """, "In the residual block 'Reader' (layer 2), the block turns its input [10, 4] (2 axes) into [4] (1 axes)");

    [Fact]
    public Task GN0054_SidesNoStrideGives() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [Conv2D(4, 3, 1)]
        public partial class Squeeze { }
        [Input(4, 8, 8)] [Residual({|GN0054:typeof(Squeeze)|})] [Flatten] [Dense(3)]
        public partial class Net { }
        """, "In the residual block 'Squeeze' (layer 1), the block turns its input [4, 8, 8] into [4, 6, 8], and a 1×1 convolution with one stride on both sides cannot");

    [Fact]
    public async Task Sequence_ThroughARecurrentBlock_KeepsItsLength_AndNeedsNoProjectionOfTheTimeAxis()
    {
        // No layer changes a sequence's length without changing its rank, so only the features can differ: a dense projection.
        await AnalyzerHarness.Verify("""
            using GenNets;
            [Block] [GRU(6, ReturnSequences = true)]
            public partial class Recurrent { }
            [Input(10, 4)] [Residual(typeof(Recurrent), Repeat = 2)] [Dense(3)]
            public partial class Net { }
            """);
        Assert.Contains("\"0.0.downsample.0.weight\"", Generated("""
            using GenNets;
            [Block] [GRU(6, ReturnSequences = true)]
            public partial class Recurrent { }
            [Input(10, 4)] [Residual(typeof(Recurrent), Repeat = 2)] [Dense(3)]
            public partial class Net { }
            """));
    }

    [Fact]
    public Task GN0055_EmptyBlock() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block]
        public partial class Nothing { }
        [Input(8)] [Residual({|GN0055:typeof(Nothing)|}, Name = "x")] [Dense(3)]
        public partial class Net { }
        """, "Block 'Nothing' has no layer attributes");

    [Fact]
    public Task GN0015_ResidualNumbering_GoesOnAcrossResidualsOfTheSameName() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [Dense(8, Name = "fc1")]
        public partial class Basic { }
        [Input(8)]
        [Residual(typeof(Basic), Repeat = 2, Name = "layer1")]
        [Residual(typeof(Basic), Name = "layer1")]
        [Dense(8, {|GN0015:Name = "layer1.2.fc1"|})]
        public partial class Net { }
        """, "Layer 6 names its tensors 'layer1.2.fc1', which layer 4 already uses");

    [Fact]
    public async Task GN0021_ResNetStrideTwoWithPaddingOne_LosesOnlyPadding()
    {
        await AnalyzerHarness.Verify("""
            using GenNets;
            [Input(1, 8, 8)] [Conv2D(4, 3, Stride = 2, Padding = 1)] [Flatten] [Dense(2)]
            public partial class Stem { }
            """);
        // In a block too, and the skip's 1×1 stride-2 projection, which never reads the last row and column, is not reported.
        await AnalyzerHarness.Verify("""
            using GenNets;
            [Block] [Conv2D(6, 3, Stride = 2, Padding = 1, Activation = Activation.ReLU)] [Conv2D(6, 3, Padding = 1)]
            public partial class Down { }
            [Input(4, 8, 8)] [Residual(typeof(Down))] [GlobalAvgPool] [Dense(2)]
            public partial class Net { }
            """);
    }

    [Fact]
    public async Task GN0021_InputRowsLost_IsStillReported()
    {
        await AnalyzerHarness.Verify("""
            using GenNets;
            [Input(1, 9, 8)] [Conv2D(4, 2, {|GN0021:Stride = 2|})] [Flatten] [Dense(2)]
            public partial class Lossy { }
            """, "stride 2 over the padded height 9 with kernel 2 leaves the last 1 row(s) of the input unused");
        // Kernel 3, stride 2 over the 11 padded rows of 9 leaves none; then kernel 2, stride 2 over the 7 padded rows of 5 leaves
        // one: the bottom padding row, so nothing is lost.
        await AnalyzerHarness.Verify("""
            using GenNets;
            [Input(1, 9, 9)] [Conv2D(4, 3, Stride = 2, Padding = 1)] [Conv2D(4, 2, Stride = 2, Padding = 1)] [Flatten] [Dense(2)]
            public partial class PaddingOnly { }
            """);
    }

    [Fact]
    public async Task GN0021_InABlock_TheBlocksLossIsReported_TheProjectionsIsNot()
    {
        // 9 × 9 with kernel 4 and stride 2 reads rows 0–7 (3 windows): row 8 is lost. The skip is a 1×1 convolution with
        // stride 3 (rows 0, 3, 6), which skips rows by design.
        var diagnostics = await AnalyzerHarness.Diagnose("""
            using GenNets;
            [Block] [Conv2D(4, 4, Stride = 2)]
            public partial class Down { }
            [Input(2, 9, 9)] [Residual(typeof(Down))] [Flatten] [Dense(2)]
            public partial class Net { }
            """);
        var warnings = diagnostics.Where(d => d.Id == "GN0021").Select(d => d.GetMessage()).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, m => Assert.Contains("stride 2 over the padded", m));
        Assert.Contains(warnings, m => m.Contains("leaves the last 1 row(s) of the input unused"));
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }

    // ---- Code fixes ----

    [Fact]
    public async Task GN0050_CodeFix_AddsBlockAboveTheLayers()
    {
        string fixedSource = await AnalyzerHarness.ApplyFix("""
            using GenNets;

            /// <summary>The body.</summary>
            [Dense(8, Activation.ReLU)]
            [Dense(8)]
            public partial class Basic { }

            [Input(8)]
            [Residual(typeof(Basic))]
            [Dense(3)]
            public partial class Net { }
            """, "GN0050", new MarkBlockCodeFixer());
        Assert.Contains("/// <summary>The body.</summary>\n[Block]\n[Dense(8, Activation.ReLU)]\n[Dense(8)]\npublic partial class Basic { }", fixedSource.Replace("\r\n", "\n"));
        await AnalyzerHarness.Verify(fixedSource);
    }

    [Fact]
    public async Task GN0050_CodeFix_OnAClassWithoutAttributes_KeepsItsIndentation()
    {
        string fixedSource = await AnalyzerHarness.ApplyFix("""
            using GenNets;
            namespace App
            {
                public sealed partial class Empty { }

                [Input(8)] [Residual(typeof(Empty))] [Dense(3)]
                public partial class Net { }
            }
            """, "GN0050", new MarkBlockCodeFixer());
        Assert.Contains("{\n    [Block]\n    public sealed partial class Empty { }", fixedSource.Replace("\r\n", "\n"));
        // Now a block, with no layers yet: GN0055 says to add them.
        var ids = (await AnalyzerHarness.Diagnose(fixedSource)).Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.Id);
        Assert.Equal(new[] { "GN0055" }, ids);
    }

    [Fact]
    public async Task GN0050_CodeFix_SpellsBlockAsTheOtherAttributes()
    {
        string fixedSource = await AnalyzerHarness.ApplyFix(
            "[GenNets.Dense(8)] partial class Basic { }\n[GenNets.Input(8)] [GenNets.Residual(typeof(Basic))] [GenNets.Dense(3)] partial class Net { }\n",
            "GN0050", new MarkBlockCodeFixer());
        Assert.StartsWith("[GenNets.Block]\n[GenNets.Dense(8)] partial class Basic { }", fixedSource.Replace("\r\n", "\n"));
        await AnalyzerHarness.Verify(fixedSource);

        // A class alone in a file without usings: qualified, at the very start of the file.
        var (_, documents) = await FixInSolution(["[GenNets.Input(8)] [GenNets.Residual(typeof(Basic))] [GenNets.Dense(3)] partial class Net { }", "partial class Basic { }"],
            "GN0050", new MarkBlockCodeFixer());
        Assert.Equal("[GenNets.Block]\npartial class Basic { }", (await documents[1].GetTextAsync()).ToString().Replace("\r\n", "\n"));

        // The class's own attributes come first: they are what the reader sees next to [Block].
        fixedSource = await AnalyzerHarness.ApplyFix(
            "using GenNets;\n[GenNets.Dense(8)] public partial class Basic { }\n[Input(8)] [Residual(typeof(Basic))] [Dense(3)] public partial class Net { }\n",
            "GN0050", new MarkBlockCodeFixer());
        Assert.Contains("\n[GenNets.Block]\n[GenNets.Dense(8)] public partial class Basic", fixedSource.Replace("\r\n", "\n"));

        // As the [Residual] through an alias; on a line of its own, as the IDE formats a class's attributes.
        fixedSource = await AnalyzerHarness.ApplyFix(
            "using G = GenNets; partial class Plain { } [G::Input(8), G::Residual(typeof(Plain)), G::Dense(3)] partial class Net { }", "GN0050", new MarkBlockCodeFixer());
        Assert.Equal("using G = GenNets;\n[G::Block]\npartial class Plain { } [G::Input(8), G::Residual(typeof(Plain)), G::Dense(3)] partial class Net { }",
            fixedSource.Replace("\r\n", "\n"));
        Assert.Equal(new[] { "GN0055" }, (await AnalyzerHarness.Diagnose(fixedSource)).Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.Id));
    }

    [Fact]
    public async Task GN0050_CodeFix_InAnotherDocument_QualifiesBlockWhereGenNetsIsNotImported()
    {
        var (solution, documents) = await FixInSolution(
            [
                "using GenNets;\nnamespace App;\n[Input(8)] [Residual(typeof(Basic))] [Dense(3)]\npublic partial class Net { }\n",
                "namespace App\n{\n    /// <summary>Declared apart, without using GenNets.</summary>\n    public partial class Basic { }\n}\n",
            ],
            "GN0050", new MarkBlockCodeFixer());
        string network = (await documents[0].GetTextAsync()).ToString(), block = (await documents[1].GetTextAsync()).ToString();
        Assert.DoesNotContain("Block", network);
        Assert.Equal("namespace App\n{\n    /// <summary>Declared apart, without using GenNets.</summary>\n    [GenNets.Block]\n    public partial class Basic { }\n}\n", block.Replace("\r\n", "\n"));
        var ids = (await DiagnoseSolution(solution)).Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.Id).ToList();
        Assert.Equal(new[] { "GN0055" }, ids); // compiles; the block has no layers yet
    }

    [Fact]
    public async Task GN0050_CodeFix_OnAPartialClass_GoesOnThePartHoldingTheLayers()
    {
        string fixedSource = await AnalyzerHarness.ApplyFix("""
            using GenNets;
            public partial class Basic { public int Extra; }
            [Dense(8)]
            public partial class Basic { }
            [Input(8)] [Residual(typeof(Basic))] [Dense(3)]
            public partial class Net { }
            """, "GN0050", new MarkBlockCodeFixer());
        Assert.Contains("public partial class Basic { public int Extra; }\n[Block]\n[Dense(8)]", fixedSource.Replace("\r\n", "\n"));
        await AnalyzerHarness.Verify(fixedSource); // no GN0008: [Block] and the layers are on one part
    }

    [Theory]
    [InlineData("[Input(8)] [Dense(8)] public partial class Other { }", "Other")] // a network: [Block] would be GN0052
    [InlineData("", "int")] // not a class of this solution
    [InlineData("public struct Other { }", "Other")]
    public async Task GN0050_CodeFix_IsNotOfferedForNetworksStructsOrMetadata(string declaration, string type)
    {
        string source = $"using GenNets;\n{declaration}\n[Input(8)] [Residual(typeof({type}))] [Dense(3)] public partial class Net {{ }}\n";
        Assert.Single(await AnalyzerHarness.Diagnose(source), d => d.Id == "GN0050");
        var offered = await Offered(source, "GN0050", new MarkBlockCodeFixer());
        Assert.NotEmpty(offered);
        Assert.All(offered, o => Assert.Equal(0, o.Actions));
    }

    [Fact]
    public async Task GN0052_CodeFix_RemovesInput_KeepingTheDocComment()
    {
        string fixedSource = await AnalyzerHarness.ApplyFix("""
            using GenNets;
            namespace App
            {
                /// <summary>The body.</summary>
                [Input(8)]
                [Block]
                [Dense(8)]
                public partial class Basic { }
            }
            """, "GN0052", new RemoveBlockInputCodeFixer());
        Assert.Contains("{\n    /// <summary>The body.</summary>\n    [Block]\n    [Dense(8)]\n    public partial class Basic { }\n}", fixedSource.Replace("\r\n", "\n"));
        await AnalyzerHarness.Verify(fixedSource);
    }

    [Theory]
    [InlineData("[Block] [Loss(LossKind.MeanSquaredError)]\npublic partial class B { }", "[Block]\npublic partial class B { }")]
    [InlineData("[Block]\n[Loss(LossKind.MeanSquaredError)]\n[Dense(8)] public partial class B { }", "[Block]\n[Dense(8)] public partial class B { }")]
    [InlineData("[Block] [Input(8)] [Dense(8)] public partial class B { }", "[Block] [Dense(8)] public partial class B { }")]
    [InlineData("[Block, Input(8), Dense(8)] public partial class B { }", "[Block, Dense(8)] public partial class B { }")]
    [InlineData("[Block, Dense(8), GenNets.Input(8)] public partial class B { }", "[Block, Dense(8)] public partial class B { }")]
    [InlineData("[Input(8)] [Block, Dense(8)] public partial class B { }", "[Block, Dense(8)] public partial class B { }")]
    public async Task GN0052_CodeFix_RemovesTheAttribute_AsWrittenInItsList(string block, string expected)
    {
        string fixedSource = await AnalyzerHarness.ApplyFix("using GenNets;\n" + block + "\n", "GN0052", new RemoveBlockInputCodeFixer());
        Assert.Equal("using GenNets;\n" + expected + "\n", fixedSource.Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task GN0052_CodeFix_OnlyOnTheAttribute_NotWhereTheBlockIsUsed_AndThenAllIsClean()
    {
        const string Source = """
            using GenNets;
            [Block]
            [Input(8)]
            [Dense(8)]
            public partial class Basic { }
            [Input(8)] [Residual(typeof(Basic))] [Dense(3)]
            public partial class Net { }
            """;
        var diagnostics = (await AnalyzerHarness.Diagnose(Source)).Where(d => d.Id == "GN0052").ToList();
        Assert.Equal(2, diagnostics.Count);
        var onAttribute = Assert.Single(diagnostics, d => Source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length) == "Input(8)"
            && d.Location.SourceSpan.Start < Source.IndexOf("class Net", StringComparison.Ordinal));
        var offered = await Offered(Source, "GN0052", new RemoveBlockInputCodeFixer());
        var fixable = Assert.Single(offered, o => o.Actions > 0);
        Assert.Equal(onAttribute.Location.SourceSpan, fixable.Span);
        Assert.Equal(1, fixable.Actions);

        // Both diagnostics at once (ApplyFix takes the first reported, in no set order): one fix between them.
        string fixedSource = await FixAll(Source, "GN0052", 2, new RemoveBlockInputCodeFixer());
        Assert.Contains("[Block]\n[Dense(8)]\npublic partial class Basic", fixedSource.Replace("\r\n", "\n"));
        await AnalyzerHarness.Verify(fixedSource);
    }

    [Fact]
    public async Task FixAll_MarksAClassUsedThreeTimesOnce_AndRemovesBothInputAndLoss()
    {
        string marked = await FixAll("""
            using GenNets;
            [Dense(8)]
            public partial class B { }
            [Input(8)] [Residual(typeof(B))] [Residual(typeof(B))] [Dense(3)] public partial class N { }
            [Input(8)] [Residual(typeof(B))] [Dense(3)] public partial class M { }
            """, "GN0050", 3, new MarkBlockCodeFixer());
        Assert.Contains("using GenNets;\n[Block]\n[Dense(8)]\npublic partial class B { }\n[Input(8)]", marked.Replace("\r\n", "\n"));
        await AnalyzerHarness.Verify(marked);

        string removed = await FixAll("""
            using GenNets;
            [Block]
            [Input(8)]
            [Loss(LossKind.MeanSquaredError)]
            [Dense(8)]
            public partial class B { }
            [Input(8)] [Residual(typeof(B))] [Dense(3)] public partial class N { }
            """, "GN0052", 4, new RemoveBlockInputCodeFixer());
        Assert.Contains("using GenNets;\n[Block]\n[Dense(8)]\npublic partial class B { }\n[Input(8)]", removed.Replace("\r\n", "\n"));
        await AnalyzerHarness.Verify(removed);
    }

    // ---- Half-typed residual code ----

    [Theory]
    [InlineData("[Input(8)] [Residual(typeof())] [Dense(3)] public partial class N { }")]
    [InlineData("[Input(8)] [Residual(typeof(Missing))] [Dense(3)] public partial class N { }")]
    [InlineData("[Input(8)] [Residual(typeof(N))] [Dense(3)] public partial class N { }")]
    [InlineData("[Input(8)] [Residual()] [Dense(3)] public partial class N { }")]
    [InlineData("[Input(8)] [Residual] [Dense(3)] public partial class N { }")]
    [InlineData("[Input(8)] [Residual(typeof(B), Repeat = )] [Dense(3)] public partial class N { } [Block] [Dense(8)] partial class B { }")]
    [InlineData("[Input(8)] [Residual(typeof(B), Activation = (Activation)99)] [Dense(3)] public partial class N { } [Block] [Dense(8)] partial class B { }")]
    [InlineData("[Block] [Dense(8)] [Residual(typeof(B))] partial class B { } [Input(8)] [Residual(typeof(B))] [Dense(3)] public partial class N { }")]
    [InlineData("[Block] [Input(8)] [Residual(typeof(N))] [Dense(3)] public partial class N { }")]
    [InlineData("[Block] [Residual(typeof(B<>))] partial class B<T> { } [Input(8)] [Residual(typeof(B<int>))] [Dense(3)] public partial class N { }")]
    [InlineData("[Block] [Dense(8)] partial class B { } [Input(8)] [Residual(typeof(B), Repeat = -1)] [Dense(3)] public partial class N { }")]
    [InlineData("[Block] [Dense(0)] [Conv2D(0, 0)] [LSTM(-1)] partial class B { } [Input(8)] [Residual(typeof(B))] [Dense(3)] public partial class N { }")]
    public async Task HalfTypedResidual_GetsDiagnostics_NeverAnException(string declaration)
    {
        string source = "using GenNets;\n" + declaration + "\n";
        await AnalyzerHarness.AnalyzeOnly(source); // fails on any analyzer exception
        var diagnostics = await AnalyzerHarness.Diagnose(source); // fails on AD0001
        // Something tells the user what is wrong: the compiler or GenNets, never silence.
        Assert.Contains(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var compilation = AnalyzerHarness.Compile(source);
        CSharpGeneratorDriver.Create(new NetworkGenerator().AsSourceGenerator()).RunGenerators(compilation).GetRunResult().Results.ToList()
            .ForEach(r => Assert.True(r.Exception is null, r.Exception?.ToString()));
    }

    // ---- Helpers: a fix across documents, the fixes offered per diagnostic, the generated source ----

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        AnalyzerHarness.Compile("").References.ToImmutableArray());

    private static string Generated(string source)
    {
        var result = CSharpGeneratorDriver.Create(new NetworkGenerator().AsSourceGenerator()).RunGenerators(AnalyzerHarness.Compile(source)).GetRunResult();
        return string.Join("\n", result.GeneratedTrees.Select(t => t.ToString()));
    }

    private static (AdhocWorkspace Workspace, Project Project) Workspace(IReadOnlyList<string> sources)
    {
        var workspace = new AdhocWorkspace();
        var project = workspace.AddProject("Test", LanguageNames.CSharp)
            .WithMetadataReferences(References.Value)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable))
            .WithParseOptions(new CSharpParseOptions(LanguageVersion.Latest));
        for (int i = 0; i < sources.Count; i++) project = project.AddDocument($"File{i}.cs", sources[i]).Project;
        return (workspace, project);
    }

    private static async Task<ImmutableArray<Diagnostic>> AnalyzerDiagnostics(Project project)
        => await (await project.GetCompilationAsync())!.WithAnalyzers([new NetworkAnalyzer()]).GetAnalyzerDiagnosticsAsync();

    /// <summary>For each diagnostic <paramref name="id"/> of the source, its span and the number of fixes <paramref name="fixer"/> offers for it.</summary>
    private static async Task<List<(Microsoft.CodeAnalysis.Text.TextSpan Span, int Actions)>> Offered(string source, string id, CodeFixProvider fixer)
    {
        var (workspace, project) = Workspace([source]);
        using var _ = workspace;
        var document = project.Documents.Single();
        var offered = new List<(Microsoft.CodeAnalysis.Text.TextSpan, int)>();
        foreach (var diagnostic in (await AnalyzerDiagnostics(project)).Where(d => d.Id == id))
        {
            int actions = 0;
            await fixer.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (_, _) => actions++, CancellationToken.None));
            offered.Add((diagnostic.Location.SourceSpan, actions));
        }
        return offered;
    }

    /// <summary>Applies the single fix offered for the first diagnostic <paramref name="id"/>; returns the solution and its documents, in order.</summary>
    private static async Task<(Solution Solution, List<Document> Documents)> FixInSolution(IReadOnlyList<string> sources, string id, CodeFixProvider fixer)
    {
        var (workspace, project) = Workspace(sources);
        using var _ = workspace;
        var diagnostic = (await AnalyzerDiagnostics(project)).First(d => d.Id == id);
        var document = project.GetDocument(diagnostic.Location.SourceTree)!;
        var actions = new List<CodeAction>();
        await fixer.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        var operations = await Assert.Single(actions).GetOperationsAsync(CancellationToken.None);
        var solution = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
        var changed = solution.GetProject(project.Id)!;
        return (solution, project.Documents.Select(d => changed.GetDocument(d.Id)!).ToList());
    }

    private sealed class Diagnostics(ImmutableArray<Diagnostic> all) : FixAllContext.DiagnosticProvider
    {
        public override Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken) => Task.FromResult<IEnumerable<Diagnostic>>(all);
        public override Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken) => Task.FromResult<IEnumerable<Diagnostic>>(all);
        public override Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) => Task.FromResult(Enumerable.Empty<Diagnostic>());
    }

    /// <summary>Fix all in document for the <paramref name="count"/> diagnostics <paramref name="id"/> of a one-file project; returns the new source.</summary>
    private static async Task<string> FixAll(string source, string id, int count, CodeFixProvider fixer)
    {
        var (workspace, project) = Workspace([source]);
        using var _ = workspace;
        var document = project.Documents.Single();
        var diagnostics = (await AnalyzerDiagnostics(project)).Where(d => d.Id == id).ToImmutableArray();
        Assert.Equal(count, diagnostics.Length);
        var context = new FixAllContext(document, fixer, FixAllScope.Document, id, [id], new Diagnostics(diagnostics), CancellationToken.None);
        var action = await fixer.GetFixAllProvider()!.GetFixAsync(context);
        var operations = await action!.GetOperationsAsync(CancellationToken.None);
        var changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
        return (await changed.GetDocument(document.Id)!.GetTextAsync()).ToString();
    }

    /// <summary>Generator, then analyzer, over the one project of <paramref name="solution"/>; fails on an analyzer exception.</summary>
    private static async Task<ImmutableArray<Diagnostic>> DiagnoseSolution(Solution solution)
    {
        var compilation = (await solution.Projects.Single().GetCompilationAsync())!;
        CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], parseOptions: new CSharpParseOptions(LanguageVersion.Latest))
            .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
        var all = await generated.WithAnalyzers([new NetworkAnalyzer()]).GetAllDiagnosticsAsync();
        Assert.DoesNotContain(all, d => d.Id == "AD0001");
        return all;
    }

    [Fact]
    public Task GN0050_Null_IsNotABlock() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(8)] [Residual({|GN0050:null!|})] [Dense(3)]
        public partial class N { }
        """, "'null'");

    [Fact]
    public async Task ABlock_IsNotHeldToANetworksDeclaration()
    {
        // Not partial, generic, nested in a class that is not partial, with members a network would generate: nothing is
        // generated for a block, so none of that matters.
        var diagnostics = await AnalyzerHarness.Diagnose("""
            using GenNets;
            public class Outer
            {
                [Block] [Dense(8, Activation.ReLU)] public class Inner<T> { public int InputSize => 0; public void Forward() { } }
            }
            [Block] [Dense(8)] public class Plain { }
            [Input(8)] [Residual(typeof(Outer.Inner<int>))] [Residual(typeof(Plain))] [Dense(3)]
            public partial class N { }
            """);
        Assert.Empty(diagnostics.Where(d => d.Id.StartsWith("GN", StringComparison.Ordinal)));
    }

    [Fact]
    public Task GN0057_ARepeatNoNetworkNeeds() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [Dense(8)] public class B { }
        [Input(8)] [Residual(typeof(B), {|GN0057:Repeat = 3000000|})] [Dense(3)]
        public partial class N { }
        """, "'N'", "9,000,000", "10,000");

    [Fact]
    public Task ABlocksLayerError_IsShownOnTheBlocksArgument_NotOnAResidualArgumentOfTheSameName() => AnalyzerHarness.Verify("""
        using GenNets;
        [Block] [Conv2D(4, 3, Padding = 1, {|GN0014:Activation = (Activation)42|})] public class B { }
        [Input(2, 8, 8)] [Residual({|GN0014:typeof(B)|}, Activation = Activation.ReLU)] [GlobalAvgPool] [Dense(3)]
        public partial class N { }
        """, "42");

    [Fact]
    public async Task StrideTwo_OnOddSides_IsProjectedWithStrideTwo()
    {
        var diagnostics = await AnalyzerHarness.Diagnose("""
            using GenNets;
            [Block] [Conv2D(4, 3, Stride = 2, Padding = 1)] public class D { }
            [Input(2, 7, 7)] [Residual(typeof(D))] [Residual(typeof(D))] [GlobalAvgPool] [Dense(3)]
            public partial class N { }
            """);
        Assert.Empty(diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }
}
