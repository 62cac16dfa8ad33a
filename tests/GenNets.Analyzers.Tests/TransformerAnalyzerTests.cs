using System.Threading.Tasks;
using Xunit;

namespace GenNets.Analyzers.Tests;

/// <summary>Transformers: token inputs, embeddings, positional encodings and attention, GN0058–GN0063 with their numbers and places.</summary>
public class TransformerAnalyzerTests
{
    [Fact]
    public Task ValidTransformers_HaveNoDiagnostics() => AnalyzerHarness.Verify("""
        using GenNets;
        namespace App;
        [TokenInput(32, 65)] [Embedding(64)] [PositionalEncoding(Learned = true, Length = 64)]
        [TransformerEncoder(2, 4, 256, Causal = true, Activation = Activation.GELUTanh)] [LayerNorm] [Dense(65)]
        public partial class CharModel { }
        [Input(32, 64)] [SelfAttention(4)] [GlobalAvgPool] [Dense(10)]
        public partial class Classifier { }
        """);

    [Fact]
    public Task GN0058_HeadsThatDoNotDivide_OnTheHeads() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(10, 64)] [SelfAttention({|GN0058:5|})] [Dense(2)]
        public partial class Net { }
        """, "splits 64 features over 5 heads, which leaves 4", "(such as 4)");

    [Fact]
    public Task GN0058_InAnEncoder_OnItsHeads() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(10, 12)] [TransformerEncoder(2, {|GN0058:5|}, 32)] [Dense(2)]
        public partial class Net { }
        """, "splits 12 features over 5 heads, which leaves 2", "(such as 4)");

    [Fact]
    public Task GN0005_EncoderFeedForwardOfZero_OnItsArgument() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(10, 12)] [TransformerEncoder(1, 2, {|GN0005:0|})] [Dense(2)]
        public partial class Net { }
        """, "0");

    [Fact]
    public Task GN0059_TokensIntoADenseLayer() => AnalyzerHarness.Verify("""
        using GenNets;
        [TokenInput(32, 65)] [{|GN0059:Dense(64)|}] [Dense(65)]
        public partial class Chars { }
        """, "reads token ids ([TokenInput(32, 65)]), but its first layer is layer 0 (Dense)");

    [Fact]
    public Task GN0060_AttentionOnAVector() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(10, 8)] [GlobalAvgPool] [{|GN0060:SelfAttention(2)|}] [Dense(2)]
        public partial class Net { }
        """, "gets [8] (1 axes)");

    [Fact]
    public Task GN0061_LearnedTableShorterThanTheInput() => AnalyzerHarness.Verify("""
        using GenNets;
        [TokenInput(32, 65)] [Embedding(16)] [PositionalEncoding(Learned = true, {|GN0061:Length = 20|})] [Dense(65)]
        public partial class Chars { }
        """, "a learned table of 20 positions, but its input has 32");

    [Fact]
    public Task GN0062_VocabularyOfOne() => AnalyzerHarness.Verify("""
        using GenNets;
        [TokenInput(8, {|GN0062:1|})] [Embedding(4)] [Dense(2)]
        public partial class Net { }
        """, "a vocabulary of 1");

    [Fact]
    public Task GN0063_EmbeddingOnFloats() => AnalyzerHarness.Verify("""
        using GenNets;
        [Input(8)] [{|GN0063:Embedding(4)|}] [Dense(2)]
        public partial class Net { }
        """, "Layer 0 (Embedding) gets [8], not token ids");
}
