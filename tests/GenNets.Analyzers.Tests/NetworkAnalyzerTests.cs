using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using GenNets.CodeFixes;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GenNets.Analyzers.Tests;

public class NetworkAnalyzerTests
{
    [Fact]
    public async Task ValidNetworks_HaveNoDiagnostics()
    {
        var diagnostics = await AnalyzerHarness.Diagnose("""
            using GenNets;
            namespace App;
            [Input(784)]
            [Dense(256, Activation.ReLU)]
            [Dense(128, Activation.ReLU)]
            [Dropout(0.1f)]
            [Dense(10)]
            [Loss(LossKind.SoftmaxCrossEntropy)]
            public partial class Mlp { }

            [Input(8, 3)]
            [Dense(4, Activation.GELU, Name = "proj", Init = Initializer.HeNormal)]
            [Dense(1)]
            [Loss(LossKind.BinaryCrossEntropyWithLogits)]
            internal sealed partial class PerPosition { }

            [Input(2)] [Dense(3, Activation.Softmax)] [Loss(LossKind.MeanSquaredError)]
            public partial class SoftOut { }

            public class Unrelated { [System.Obsolete] public void M() { } }
            """);
        Assert.True(diagnostics.All(d => d.Severity < Microsoft.CodeAnalysis.DiagnosticSeverity.Warning), string.Join("\n", diagnostics));
    }

    [Fact]
    public Task GN0001_NotPartial() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(2)]
        public class {|GN0001:Plain|} { }
        """, "'Plain'");

    [Fact]
    public async Task GN0001_CodeFix_AddsPartial()
    {
        string fixedSource = await AnalyzerHarness.ApplyFix("""
            using GenNets;
            [Input(3)]
            [Dense(2)]
            public sealed class Plain { }
            """, "GN0001", new MakePartialCodeFixer());
        Assert.Contains("public sealed partial class Plain { }", fixedSource);
        await AnalyzerHarness.Verify(fixedSource);
    }

    [Fact]
    public async Task GN0001_CodeFix_WorksWithoutModifiers()
    {
        string fixedSource = await AnalyzerHarness.ApplyFix("using GenNets;\n[Input(3)] [Dense(2)]\nclass Plain { }\n", "GN0001", new MakePartialCodeFixer());
        Assert.Contains("\npartial class Plain { }", fixedSource);
    }

    [Fact]
    public Task GN0002_MissingInput() => AnalyzerHarness.Verify("""
        using GenNets;
        [Dense(4)] [Dense(2)]
        public partial class {|GN0002:NoInput|} { }
        """, "2 layer attribute(s)");

    [Fact]
    public Task GN0003_RepeatedInput() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [{|GN0003:Input(4)|}] [Dense(2)]
        public partial class Twice { }
        """, "2 times");

    [Fact]
    public Task GN0004_InputNotFirst() => AnalyzerHarness.Verify("""
        using GenNets;
        [Dense(5)] [{|GN0004:Input(3)|}] [Dense(2)]
        public partial class Late { }
        """, "1 layer attribute(s) precede");

    [Fact]
    public Task GN0005_NonPositiveUnits_OnTheArgument() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense({|GN0005:0|}, Activation.ReLU)] [Dense(2)]
        public partial class Zero { }
        """, "The units of layer 0 (Dense) must be positive, but is 0");

    [Fact]
    public Task GN0005_NonPositiveInputDimension_OnTheArgument() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(4, {|GN0005:-2|})] [Dense(2)]
        public partial class Negative { }
        """, "Input dimension 1 must be positive, but is -2");

    [Fact]
    public Task GN0006_SoftmaxNotLast() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(4, {|GN0006:Activation.Softmax|})] [Dropout(0.1f)] [Dense(2)]
        public partial class EarlySoftmax { }
        """, "layer 0 (Dense 4) is followed by 2 more layer(s)");

    [Fact]
    public Task GN0007_CrossEntropyOnOneUnit() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(1)] [Loss({|GN0007:LossKind.SoftmaxCrossEntropy|})]
        public partial class OneUnit { }
        """, "the network has 1");

    [Fact]
    public Task GN0007_BinaryCrossEntropyAfterSoftmax() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(4, Activation.Softmax)] [Loss({|GN0007:LossKind.BinaryCrossEntropyWithLogits|})]
        public partial class SoftmaxThenBce { }
        """, "applies Softmax");

    [Fact]
    public Task GN0007_CrossEntropyAfterSoftmax_IsDoubleSoftmax() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(4, Activation.Softmax)] [Loss({|GN0007:LossKind.SoftmaxCrossEntropy|})]
        public partial class DoubleSoftmax { }
        """, "already has Softmax");

    [Fact]
    public Task GN0007_RecurrentLastLayer_NamesItsUnits() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(5, 2)] [Dense(4, Activation.ReLU)] [LSTM(1)] [Loss({|GN0007:LossKind.SoftmaxCrossEntropy|})]
        public partial class Tiny { }
        """, "the last layer, layer 1 (LSTM), has 1 unit(s)");

    [Fact]
    public Task GN0007_RecurrentLastLayer_IsNotLogits_AndTheEarlierDenseIsNotBlamed() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(5, 2)] [Dense(4, Activation.ReLU)] [GRU(3)] [Loss({|GN0007:LossKind.BinaryCrossEntropyWithLogits|})]
        public partial class Bounded { }
        """, "layer 1 (GRU), outputs hidden states squashed into (-1, 1) by tanh; add a [Dense] layer after it");

    [Fact]
    public Task GN0018_DerivedNetwork_OnTheDerivedClass() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(2)] public partial class Small { }
        [Input(3)] [Dense(4)] public partial class {|GN0018:Large|} : Small { }
        """, "Network class 'Large' derives from the network 'Small'");

    [Fact]
    public Task GN0019_UserMember_OnTheMember() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(2)]
        public partial class Net
        {
            public float[] {|GN0019:Parameters|} = new float[3];
            public void {|GN0019:Forward|}(System.ReadOnlySpan<float> a, System.Span<float> b) { }
            public void Forward(float[] overload) { }
        }
        """, "GenNets generates 'Parameters' for network 'Net'", "Forward(ReadOnlySpan<float>, Span<float>)");

    [Fact]
    public Task GN0019_BaseClassMember_OnTheBaseMember() => AnalyzerHarness.Verify("""
        using GenNets;
        public class Base { public int {|GN0019:Threads|}; }
        [Input(3)] [Dense(2)]
        public partial class Net : Base { }
        """, "its base class 'Base' already declares 'Base.Threads'");

    [Fact]
    public Task GN0027_MinusTwo_SaysMinusOneIsSame() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(1, 8, 8)] [Conv2D(4, 3, {|GN0027:Padding = -2|})] [Flatten] [Dense(2)]
        public partial class Negative { }
        """, "but is -2; -1 is Same, and no other negative value is allowed");

    [Fact]
    public Task GN0012_Record_SaysRecordsAreNotSupported() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(2)]
        public partial record {|GN0012:Net|} { }
        """, "a network must be a class, not a record");

    [Fact]
    public Task GN0012_FileLocal_SaysWhy() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(2)]
        file partial class {|GN0012:Net|} { }
        """, "every part of a file-local class to be in the same file");

    [Fact]
    public Task GN0008_SplitAcrossPartials() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(4)]
        public partial class Split { }
        [{|GN0008:Dense(2)|}]
        public partial class Split { }
        """, "'Split'");

    [Theory]
    [InlineData("1f", "1")]
    [InlineData("-0.5f", "-0.5")]
    [InlineData("1.5f", "1.5")]
    public Task GN0009_DropoutOutOfRange(string value, string shown) => AnalyzerHarness.Verify($$"""
        using GenNets;
        [Input(3)] [Dense(4)] [Dropout({|GN0009:{{value}}|})] [Dense(2)]
        public partial class BadDropout { }
        """, "but is " + shown);

    [Fact]
    public async Task GN0010_TooLarge_IsAWarning()
    {
        var diagnostics = await AnalyzerHarness.Diagnose("""
            using GenNets;
            [Input(10000)] [Dense(8000)]
            public partial class Huge { }
            """);
        var d = Assert.Single(diagnostics, d => d.Id == "GN0010");
        Assert.Equal(Microsoft.CodeAnalysis.DiagnosticSeverity.Warning, d.Severity);
        Assert.Contains("80,008,000 parameters", d.GetMessage());
    }

    [Fact]
    public Task GN0011_RepeatedLoss() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(2)] [Loss(LossKind.MeanSquaredError)] [{|GN0011:Loss(LossKind.MeanSquaredError)|}]
        public partial class TwoLosses { }
        """, "2 times");

    [Fact]
    public Task GN0012_GenericClass() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(2)]
        public partial class {|GN0012:Generic|}<T> { }
        """, "cannot be generic");

    [Fact]
    public Task GN0012_NestedInNonPartial() => AnalyzerHarness.Verify("""
        using GenNets;
        public class Outer
        {
            [Input(3)] [Dense(2)]
            public partial class {|GN0012:Inner|} { }
        }
        """, "'Outer', which is not partial");

    [Fact]
    public Task GN0013_NoLayers() => AnalyzerHarness.Verify("""
        using GenNets;
        [{|GN0013:Input(3)|}]
        public partial class Empty { }
        """, "'Empty'");

    [Fact]
    public Task GN0014_InvalidActivation() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(2, {|GN0014:(Activation)42|})]
        public partial class Bad { }
        """, "42 is not a valid Activation");

    [Fact]
    public Task GN0015_DuplicateTensorName() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3)] [Dense(4, Name = "fc")] [Dense(2, {|GN0015:Name = "fc"|})]
        public partial class Twins { }
        """, "Layer 1 names its tensors 'fc', which layer 0 already uses");

    [Fact]
    public Task GN0016_SizeOverflow() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(100000)] [Dense(100000)]
        public partial class {|GN0016:Enormous|} { }
        """, "10,000,100,000");

    [Fact]
    public async Task ValidConvolutionalNetworks_HaveNoDiagnostics()
    {
        var diagnostics = await AnalyzerHarness.Diagnose("""
            using GenNets;
            namespace App;
            [Input(1, 28, 28)]
            [Conv2D(8, kernel: 3, Padding = 1, Activation = Activation.ReLU)]
            [MaxPool2D(2)]
            [Conv2D(16, 3, 5, Padding = Conv2DAttribute.Same, Activation = Activation.ReLU, Name = "conv2")]
            [AvgPool2D(2)]
            [Flatten]
            [Dense(10)]
            public partial class Cnn { }

            [Input(3, 9, 9)]
            [Conv2D(4, 3, Stride = 2)]
            [GlobalAvgPool]
            [Dense(2)]
            public partial class Strided { }
            """);
        Assert.True(diagnostics.All(d => d.Severity < Microsoft.CodeAnalysis.DiagnosticSeverity.Warning), string.Join("\n", diagnostics));
    }

    [Fact]
    public Task GN0020_KernelLargerThanPaddedInput() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(2, 3, 8)] [Conv2D(4, {|GN0020:5|}, 3, Padding = 0)] [Flatten] [Dense(2)]
        public partial class BigKernel { }
        """, "Layer 0 (Conv2D): the kernel's height 5 is larger than the input's height 3 with padding (3)");

    [Fact]
    public Task GN0020_RectangularKernel_OnTheWidthArgument() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(1, 8, 4)] [Conv2D(4, 3, {|GN0020:7|}, Padding = 1)] [Flatten] [Dense(2)]
        public partial class WideKernel { }
        """, "the kernel's width 7 is larger than the input's width 4 with padding (6)");

    [Fact]
    public async Task GN0021_StrideLeavesColumnsUnused_IsAWarningOnTheStride()
    {
        await AnalyzerHarness.Verify("""
            using GenNets;
            [Input(1, 8, 9)] [Conv2D(4, 3, {|GN0021:Stride = 2|}, Padding = 0)] [Flatten] [Dense(2)]
            public partial class Uneven { }
            """, "stride 2 over the padded height 8 with kernel 3 leaves the last 1 row(s) of the input unused");
        var d = Assert.Single(await AnalyzerHarness.Diagnose("using GenNets;\n[Input(1, 8, 9)] [Conv2D(4, 3, Stride = 2)] [Flatten] [Dense(2)]\npublic partial class U { }"), d => d.Id == "GN0021");
        Assert.Equal(Microsoft.CodeAnalysis.DiagnosticSeverity.Warning, d.Severity);
    }

    [Fact]
    public Task GN0022_PoolingDoesNotDivide() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(3, 7, 6)] [MaxPool2D({|GN0022:2|})] [Flatten] [Dense(2)]
        public partial class Odd { }
        """, "Layer 0 (MaxPool2D): windows of 2 with stride 2 do not tile the 7×6 input; the last 1 row(s) and 0 column(s) are dropped");

    [Fact]
    public Task GN0023_DenseOnAnImage() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(1, 28, 28)] [Conv2D(8, 3)] [{|GN0023:Dense(10)|}]
        public partial class NoFlatten { }
        """, "Layer 1 (Dense) gets the (channels, height, width) tensor [8, 26, 26]; add [Flatten] before it to read it as a vector of 5408");

    [Fact]
    public async Task GN0023_CodeFix_InsertsFlatten()
    {
        string fixedSource = await AnalyzerHarness.ApplyFix("""
            using GenNets;
            [Input(1, 6, 6)]
            [Conv2D(2, 3)]
            [Dense(10)]
            public partial class NoFlatten { }
            """, "GN0023", new InsertFlattenCodeFixer());
        Assert.Contains("[Conv2D(2, 3)]\n[Flatten]\n[Dense(10)]", fixedSource.Replace("\r\n", "\n"));
        await AnalyzerHarness.Verify(fixedSource);
    }

    [Fact]
    public async Task GN0023_CodeFix_InsertsFlatten_InASharedList()
    {
        string fixedSource = await AnalyzerHarness.ApplyFix("using GenNets;\n[Input(1, 6, 6), Conv2D(2, 3), GenNets.Dense(10)]\npublic partial class Packed { }\n", "GN0023", new InsertFlattenCodeFixer());
        Assert.Contains("Conv2D(2, 3), GenNets.Flatten, GenNets.Dense(10)]", fixedSource);
        await AnalyzerHarness.Verify(fixedSource);
    }

    [Fact]
    public Task GN0024_ConvolutionOnAVector() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(784)] [{|GN0024:Conv2D(8, 3)|}] [Dense(10)]
        public partial class Flat { }
        """, "Layer 0 (Conv2D) needs a (channels, height, width) input, but gets [784] (1 axes)");

    [Fact]
    public Task GN0025_PoolingShrinksToZero() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(4, 2, 2)] [MaxPool2D(2)] [AvgPool2D({|GN0025:2|})] [Flatten] [Dense(2)]
        public partial class TooMuchPooling { }
        """, "Layer 1 (AvgPool2D): a window of 2 does not fit the 1×1 input");

    [Fact]
    public Task GN0026_SameWithStride() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(1, 8, 8)] [Conv2D(4, 3, Stride = 2, {|GN0026:Padding = Conv2DAttribute.Same|})] [Flatten] [Dense(2)]
        public partial class SameStrided { }
        """, "the stride is 2");

    [Fact]
    public Task GN0027_NegativePadding() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(1, 8, 8)] [Conv2D(4, 3, {|GN0027:Padding = -3|})] [Flatten] [Dense(2)]
        public partial class Negative { }
        """, "but is -3");

    [Fact]
    public Task GN0005_ZeroFiltersAndStride_OnTheArguments() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(1, 8, 8)] [Conv2D({|GN0005:0|}, 3, {|GN0005:Stride = 0|})] [Flatten] [Dense(2)]
        public partial class Zeros { }
        """, "The filters of layer 0 (Conv2D) must be positive, but is 0", "The stride of layer 0 (Conv2D) must be positive, but is 0");

    public static IEnumerable<object[]> Malformed() => Generators.Tests.RobustnessCorpus.Sources().Select(s => new object[] { s.Label, s.Source });

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Analyzer_NeverThrows_OnMalformedInput(string label, string source)
    {
        Assert.NotNull(label);
        await AnalyzerHarness.AnalyzeOnly(source); // fails on any exception the analyzer throws
    }

    public static IEnumerable<object[]> Declarations()
        => Generators.Tests.RobustnessCorpus.Declarations().Select(d => new object[] { d.Label, d.Source, string.Join(",", d.ExpectedIds) });

    [Theory]
    [MemberData(nameof(Declarations))]
    public async Task Declaration_GetsExactlyItsGnDiagnostics_AndNoOtherError(string label, string source, string expectedIds)
    {
        var diagnostics = await AnalyzerHarness.Diagnose(source);
        string all = label + ":\n" + string.Join("\n", diagnostics);
        var gn = diagnostics.Where(d => d.Id.StartsWith("GN", StringComparison.Ordinal) && d.Severity >= DiagnosticSeverity.Warning)
            .Select(d => d.Id).Distinct().OrderBy(id => id, StringComparer.Ordinal);
        Assert.True(string.Join(",", gn) == expectedIds, all);
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("GN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecurrentNetworks_HaveNoDiagnostics()
    {
        var diagnostics = await AnalyzerHarness.Diagnose("""
            using GenNets;
            [Input(50, 2)] [LSTM(64)] [Dense(1)] [Loss(LossKind.MeanSquaredError)]
            public partial class Adding { }

            [Input(30, 8)] [GRU(16, ReturnSequences = true, Name = "gru")] [Dropout(0.1f)] [SimpleRNN(8)] [Dense(3)]
            public partial class Stacked { }

            [Input(100, 4)] [SimpleRNN(8, ReturnSequences = true)] [Dense(5)]
            public partial class Tagger { }
            """);
        Assert.True(diagnostics.All(d => d.Severity < Microsoft.CodeAnalysis.DiagnosticSeverity.Warning), string.Join("\n", diagnostics));
    }

    [Fact]
    public Task GN0024_RecurrentOnAVector() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(784)] [{|GN0024:LSTM(8)|}] [Dense(10)]
        public partial class Flat { }
        """, "Layer 0 (LSTM) needs a (time, features) input, but gets [784] (1 axes)");

    [Fact]
    public Task GN0024_StackingOnTheLastState_SaysToReturnSequences() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(20, 3)] [GRU(8)] [{|GN0024:SimpleRNN(4)|}] [Dense(1)]
        public partial class Stacked { }
        """, "Layer 1 (SimpleRNN) needs a (time, features) input, but gets [8] (1 axes)", "layer 0 (GRU) returns only its last state: set ReturnSequences = true on it");

    [Fact]
    public Task GN0024_RecurrentOnAnImage() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(1, 28, 28)] [{|GN0024:GRU(8)|}] [Dense(10)]
        public partial class Image { }
        """, "Layer 0 (GRU) needs a (time, features) input, but gets [1, 28, 28] (3 axes)");

    [Fact]
    public Task GN0005_ZeroRecurrentUnits_OnTheArgument() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(10, 2)] [LSTM({|GN0005:0|})] [Dense(1)]
        public partial class NoUnits { }
        """, "The units of layer 0 (LSTM) must be positive, but is 0");

    [Fact]
    public Task GN0015_RecurrentNamesClash() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(10, 2)] [LSTM(4, ReturnSequences = true, Name = "rnn")] [GRU(4, {|GN0015:Name = "rnn"|})] [Dense(1)]
        public partial class Clash { }
        """, "'rnn'");

    [Fact]
    public Task GN0030_SimpleRnnOverALongSequence() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(200, 2)] [{|GN0030:SimpleRNN(32)|}] [Dense(1)]
        public partial class Long { }
        """, "Layer 0 (SimpleRNN) runs over 200 steps", "consider LSTM or GRU");

    [Fact]
    public Task GN0017_NonFiniteForgetBias() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(10, 2)] [LSTM(8, {|GN0017:ForgetBias = float.NaN|})] [Dense(1)]
        public partial class NoBias { }
        """, "The forget bias of layer 0 (LSTM) must be a finite number, but is NaN");

    [Fact]
    public Task GN0031_EveryStateToAPerStepOutput() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(50, 2)] [LSTM(64, {|GN0031:ReturnSequences = true|})] [Dense(1)]
        public partial class PerStep { }
        """, "Layer 0 (LSTM) returns its state at each of the 50 steps, and the network predicts at every step: its output is (50, 1) per sample",
        "set ReturnSequences = false");

    [Fact]
    public Task GN0031_EveryStateFlattened() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(20, 3)] [GRU(8, ReturnSequences = true)] [SimpleRNN(4, {|GN0031:ReturnSequences = true|})] [Dropout(0.1f)] [Flatten] [Dense(2)]
        public partial class Joined { }
        """, "Layer 1 (SimpleRNN) returns its state at each of the 20 steps, and layer 3 (Flatten) joins all of them into one vector of 80");
}

/// <summary>A user sets a GN diagnostic's severity in .editorconfig or a global analyzer config, as for the compiler's own.</summary>
public class SeverityConfigTests
{
    private const string Huge = """
        using GenNets;
        [Input(10000)] [Dense(8000)]
        public partial class Huge { }
        """;

    [Theory]
    [InlineData(null, DiagnosticSeverity.Warning)]
    [InlineData("none", null)]
    [InlineData("silent", DiagnosticSeverity.Hidden)]
    [InlineData("suggestion", DiagnosticSeverity.Info)]
    [InlineData("error", DiagnosticSeverity.Error)]
    public async Task WarningGN0010_TakesTheSeverityOfTheEditorConfig(string? setting, DiagnosticSeverity? expected)
    {
        string? config = setting is null ? null : $"root = true\n\n[*.cs]\ndotnet_diagnostic.GN0010.severity = {setting}\n";
        var reported = (await AnalyzerHarness.Diagnose(Huge, config)).Where(d => d.Id == "GN0010").ToList();
        if (expected is null) Assert.Empty(reported);
        else Assert.Equal(expected, Assert.Single(reported).Severity);
    }

    [Fact]
    public async Task EditorConfigSection_AppliesOnlyToTheFilesItMatches()
    {
        var reported = await AnalyzerHarness.Diagnose(Huge, "root = true\n\n[Other*.cs]\ndotnet_diagnostic.GN0010.severity = none\n");
        Assert.Equal(DiagnosticSeverity.Warning, Assert.Single(reported, d => d.Id == "GN0010").Severity);
    }

    [Theory]
    [InlineData("none", null)]
    [InlineData("error", DiagnosticSeverity.Error)]
    public async Task WarningGN0010_TakesTheSeverityOfAGlobalConfig(string setting, DiagnosticSeverity? expected)
    {
        var reported = (await AnalyzerHarness.Diagnose(Huge, $"is_global = true\ndotnet_diagnostic.GN0010.severity = {setting}\n")).Where(d => d.Id == "GN0010").ToList();
        if (expected is null) Assert.Empty(reported);
        else Assert.Equal(expected, Assert.Single(reported).Severity);
    }

    [Fact]
    public async Task ErrorGN0005_CanBeLoweredToAWarning_AndCodeUsingThePlaceholderCompiles()
    {
        var diagnostics = await AnalyzerHarness.Diagnose("""
            using GenNets;
            [Input(3)] [Dense(0)]
            public partial class Empty { public static int Size => InputSize; }
            """, "root = true\n\n[*.cs]\ndotnet_diagnostic.GN0005.severity = warning\n");
        Assert.Equal(DiagnosticSeverity.Warning, Assert.Single(diagnostics, d => d.Id == "GN0005").Severity);
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }
}

/// <summary>Every diagnostic's help link leads to its own section of docs/diagnostics.md.</summary>
public class HelpLinkTests
{
    private const string Docs = "https://github.com/gennets/gennets/blob/main/docs/diagnostics.md#";

    [Fact]
    public void EveryDescriptor_LinksToItsHeadingInDocsDiagnostics()
    {
        string root = AppContext.BaseDirectory;
        while (!System.IO.File.Exists(System.IO.Path.Combine(root, "GenNets.sln"))) root = System.IO.Path.GetDirectoryName(root.TrimEnd(System.IO.Path.DirectorySeparatorChar))!;
        // GitHub's anchor of a heading: lower case, punctuation dropped, spaces as '-'.
        var anchors = System.IO.File.ReadAllLines(System.IO.Path.Combine(root, "docs", "diagnostics.md"))
            .Where(l => l.StartsWith("#", StringComparison.Ordinal))
            .Select(l => new string(l.TrimStart('#').Trim().ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray()).Replace(' ', '-'))
            .ToHashSet();
        var descriptors = new NetworkAnalyzer().SupportedDiagnostics;
        Assert.True(descriptors.Length >= 29);
        foreach (var d in descriptors)
        {
            Assert.StartsWith(Docs, d.HelpLinkUri);
            string anchor = d.HelpLinkUri.Substring(Docs.Length);
            Assert.Equal(d.Id.ToLowerInvariant(), anchor);
            Assert.Contains(anchor, anchors);
        }
    }
}
