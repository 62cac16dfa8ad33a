using System.Collections.Generic;

namespace GenNets.Generators.Tests;

/// <summary>Declarations as an editor sees them mid-typing: prefixes, deletions, garbage arguments, odd declarations.</summary>
internal static class RobustnessCorpus
{
    /// <summary>The sample's MLP, as a user writes it.</summary>
    public const string Mlp = """
        using GenNets;
        namespace Samples;

        [Input(784)]
        [Dense(256, Activation.ReLU)]
        [Dense(128, Activation.ReLU)]
        [Dropout(0.1f)]
        [Dense(10)]
        [Loss(LossKind.SoftmaxCrossEntropy)]
        public partial class FashionMlp { }
        """;

    /// <summary>Nesting, a sequence input, GELU, dropout, names and initialisers.</summary>
    public const string Mixed = """
        using GenNets;

        public static partial class Models
        {
            [Input(4, 6)]
            [Dense(8, Activation.GELU, Name = "proj")]
            [Dropout(0.25f)]
            [Dense(3, Activation.Softmax, Init = Initializer.GlorotNormal)]
            [Loss(LossKind.MeanSquaredError)]
            internal partial class PerPosition { }
        }
        """;

    /// <summary>Convolution and pooling: padding, "same" with a rectangular kernel, names, Flatten.</summary>
    public const string Cnn = """
        using GenNets;
        namespace Samples;

        [Input(1, 28, 28)]
        [Conv2D(8, 3, Padding = 1, Activation = Activation.ReLU)]
        [MaxPool2D(2)]
        [Conv2D(16, 3, 5, Padding = Conv2DAttribute.Same, Activation = Activation.GELU, Name = "conv2")]
        [AvgPool2D(2)]
        [Flatten]
        [Dense(10)]
        public partial class Cnn { }
        """;

    /// <summary>Recurrent layers: stacked, every state and the last, a name, per-step dense after a sequence.</summary>
    public const string Recurrent = """
        using GenNets;
        namespace Samples;

        [Input(12, 3)]
        [LSTM(8, ReturnSequences = true)]
        [Dropout(0.1f)]
        [GRU(6, ReturnSequences = true, Name = "gru")]
        [SimpleRNN(5)]
        [Dense(2)]
        [Loss(LossKind.MeanSquaredError)]
        public partial class Recurrent { }
        """;

    /// <summary>Malformed and half-typed declarations; the analyzer tests compile this file too.</summary>
    public static IEnumerable<string> Sources()
    {
        string[] bases = [Mlp, Mixed, Cnn, Recurrent];
        foreach (string text in bases)
        {
            // Every prefix: the file as it is while being typed from the top.
            for (int cut = 0; cut < text.Length; cut += 3) yield return text.Substring(0, cut);
            // Every single-character deletion, for a stretch of the attribute list.
            int start = text.IndexOf('[');
            for (int i = start; i < System.Math.Min(text.Length, start + 120); i++) yield return text.Remove(i, 1);
        }

        string[] garbage = ["-1", "0", "\"x\"", "", "int.MaxValue", "1e40f", "null", "(Activation)99", "3.5", "new int[0]", "default", "Activation.", "x =>", "2147483647"];
        foreach (string g in garbage)
        {
            yield return $"using GenNets; [Input({g})] [Dense(4)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(3)] [Dense({g})] public partial class G {{ }}";
            yield return $"using GenNets; [Input(3)] [Dense(4, {g})] public partial class G {{ }}";
            yield return $"using GenNets; [Input(3)] [Dropout({g})] [Dense(4)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(3)] [Dense(4)] [Loss({g})] public partial class G {{ }}";
            yield return $"using GenNets; [Input(3)] [Dense(4, Init = {g})] public partial class G {{ }}";
            yield return $"using GenNets; [Input(3)] [Dense(4, Name = {g})] public partial class G {{ }}";
            yield return $"using GenNets; [Input(3, {g}, 2)] [Dense(4)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(1, 6, 6)] [Conv2D({g}, 3)] [Flatten] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(1, 6, 6)] [Conv2D(2, {g})] [Flatten] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(1, 6, 6)] [Conv2D(2, 3, {g})] [Flatten] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(1, 6, 6)] [Conv2D(2, 3, Stride = {g}, Padding = {g})] [Flatten] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(1, 6, 6)] [Conv2D(2, 3, Activation = {g})] [GlobalAvgPool] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(1, 6, 6)] [MaxPool2D({g})] [Flatten] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(5, 2)] [LSTM({g})] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(5, 2)] [GRU(3, ReturnSequences = {g})] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(5, 2)] [SimpleRNN(3, Name = {g})] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input({g}, 2)] [GRU(3)] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Input(1, 6, 6)] [AvgPool2D(2, Stride = {g})] [Flatten] [Dense(2)] public partial class G {{ }}";
        }
        yield return "using GenNets; [Input(2, 3)] [Conv2D(2, 3)] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(5, 2)] [LSTM(3)] public partial class G { }";
        yield return "using GenNets; [Input(5, 2)] [GRU(3, ReturnSequences = true)] public partial class G { }";
        yield return "using GenNets; [Input(5, 2)] [GRU(3)] [LSTM(3)] [Dense(1)] public partial class G { }";
        yield return "using GenNets; [Input(1, 5, 2)] [SimpleRNN(3)] [Flatten] [Dense(1)] public partial class G { }";
        yield return "using GenNets; [Input(5, 2)] [SimpleRNN(3, ReturnSequences = true)] [Flatten] [Dense(1)] public partial class G { }";
        yield return "using GenNets; [Input(5, 2)] [LSTM(3, ReturnSequences = true)] [Dense(4, Activation.Softmax)] public partial class G { }";
        yield return "using GenNets; [Input(1, 4, 4)] [Flatten] public partial class G { }";
        yield return "using GenNets; [Input(1, 4, 4)] [Flatten] [Flatten] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(1, 4, 4)] [GlobalAvgPool] public partial class G { }";
        yield return "using GenNets; [Input(1, 4, 4)] [Conv2D(2, 3, Activation = Activation.Softmax)] [Flatten] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(1, 4, 4)] [Conv2D(2, 3)] public partial class G { }";
        yield return "using GenNets; [Input(1, 4, 4)] [MaxPool2D(4)] [MaxPool2D(1)] [Flatten] public partial class G { }";

        yield return "using GenNets; [Input(3)] [Input(4)] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Dense(2)] [Input(4)] public partial class G { }";
        yield return "using GenNets; [Input(3)] public partial class G { }";
        yield return "using GenNets; [Input] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input()] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Dense(2)] public partial class G<T> { }";
        yield return "using GenNets; [Input(3)] [Dense(2)] public static partial class G { }";
        yield return "using GenNets; [Input(3)] [Dense(2)] public partial struct G { }";
        yield return "using GenNets; [Input(3)] [Dense(2)] public partial record G { }";
        yield return "using GenNets; public partial class O<T> { [Input(3)] [Dense(2)] public partial class G { } }";
        yield return "using GenNets; public class O { [Input(3)] [Dense(2)] public partial class G { } }";
        yield return "using GenNets; [Input(3)] public partial class G { } [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Dense(2)] public partial class G { } [Input(3)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Dense(2)] public partial class G { public int InputSize; }";
        yield return "using GenNets; [Input(3)] [Dense(2)] partial class G : G { }";
        yield return "using GenNets; [Input(3)] [Dense(2)] public partial class G { } public partial class G { }";
        yield return "using GenNets; [Input(100000, 100000)] [Dense(100000)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Dense(2, Activation.Softmax)] [Dense(2)] [Loss(LossKind.SoftmaxCrossEntropy)] [Loss(LossKind.MeanSquaredError)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Dense(1)] [Loss(LossKind.SoftmaxCrossEntropy)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Dense(2, Name = \"a\")] [Dense(2, Name = \"a\")] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Dense(2)] [Dropout(1f)] public partial class G { }";
        yield return "[GenNets.Input(3)] [GenNets.Dense(2)] partial class G { }";
        yield return "using GenNets; namespace A.B { [Input(3)] [Dense(2)] partial class G { } }";
        yield return "using GenNets; [Input(3)] [Dense(2)] public partial class G { } [Input(3)] [Dense(2)] public partial class H { }";
        yield return "using GenNets; [Input(3)][Dense(2)] public partial interface G { }";
        yield return "using GenNets; [Input(3)][Dense(2)] public partial class";
        yield return "using GenNets; [Input(3)][Dense(2)] public partial class G";
        yield return "[Input(3)] [Dense(2)] public partial class G { }"; // no using: unbound attributes
    }
}
