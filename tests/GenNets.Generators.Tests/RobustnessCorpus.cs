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

    /// <summary>Residual blocks: a network first (deletions fall on its [Residual]s), then its [Block] classes.</summary>
    public const string Residual = """
        using GenNets;
        namespace Samples;

        [Input(4, 8, 8)]
        [Residual(typeof(Basic), Activation = Activation.ReLU, Repeat = 2, Name = "layer1")]
        [Residual(typeof(Down), Name = "layer2")]
        [GlobalAvgPool]
        [Dense(3)]
        public partial class ResNet { }

        [Block]
        [Conv2D(4, 3, Padding = 1, Activation = Activation.ReLU, Name = "conv1")]
        [Conv2D(4, 3, Padding = 1, Name = "conv2")]
        public partial class Basic { }

        [Block]
        [Conv2D(8, 3, Stride = 2, Padding = 1)]
        [Residual(typeof(Basic))]
        public partial class Down { }
        """;

    /// <summary>Malformed and half-typed declarations, each with a label for the test's name; the analyzer tests compile this file too.</summary>
    public static IEnumerable<(string Label, string Source)> Sources()
    {
        int n = 0;
        foreach (string source in Unlabelled()) yield return ($"#{n++:000} " + Shorten(source), source);
    }

    private static string Shorten(string source)
    {
        string flat = string.Join(" ", source.Split(['\n', '\r', ' '], System.StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 90 ? flat : "…" + flat.Substring(flat.Length - 89);
    }

    private static IEnumerable<string> Unlabelled()
    {
        (string Name, string Text)[] bases = [("Mlp", Mlp), ("Mixed", Mixed), ("Cnn", Cnn), ("Recurrent", Recurrent), ("Residual", Residual)];
        foreach (var (_, text) in bases)
        {
            // Prefixes: the file as it is while being typed from the top; every 7th character up to the attributes, where
            // the declaration is only usings and a namespace, then every 3rd.
            int start = text.IndexOf('[');
            for (int cut = 0; cut < text.Length; cut += cut < start ? 7 : 3) yield return text.Substring(0, cut);
            // Every single-character deletion, for a stretch of the attribute list.
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
            yield return $"using GenNets; [Input(3)] [Residual({g})] [Dense(2)] public partial class G {{ }}";
            yield return $"using GenNets; [Block] [Dense(3)] partial class B {{ }} [Input(3)] [Residual(typeof(B), Activation = {g})] public partial class G {{ }}";
            yield return $"using GenNets; [Block] [Dense(3)] partial class B {{ }} [Input(3)] [Residual(typeof(B), Name = {g})] public partial class G {{ }}";
            yield return $"using GenNets; [Block] [Dense({g})] partial class B {{ }} [Input(3)] [Residual(typeof(B))] public partial class G {{ }}";
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

        // Residual blocks half-typed, missing, used wrongly or using themselves.
        yield return "using GenNets; [Input(3)] [Residual(typeof())] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(Missing))] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(G))] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Residual] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(B)] public partial class G { } [Block] [Dense(3)] partial class B { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(B), Repeat = -1)] public partial class G { } [Block] [Dense(3)] partial class B { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(B), Repeat = 0)] public partial class G { } [Block] [Dense(3)] partial class B { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(B))] public partial class G { } [Block] partial class B { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(B))] public partial class G { } [Block] [Residual(typeof(B))] partial class B { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(A))] public partial class G { } [Block] [Residual(typeof(B))] partial class A { } [Block] [Dense(3)] [Residual(typeof(A))] partial class B { }";
        yield return "using GenNets; [Block] [Input(3)] [Residual(typeof(G))] [Dense(2)] public partial class G { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(B<>))] public partial class G { } [Block] [Dense(3)] [Residual(typeof(B<T>))] partial class B<T> { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(O.B))] public partial class G { } class O { [Block] [Dense(3)] class B { } }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(B))] public partial class G { } [Block] [Input(3)] [Loss(LossKind.MeanSquaredError)] partial class B { }";
        yield return "using GenNets; [Input(3)] [Residual(typeof(B))] public partial class G { } [Block] [Flatten] partial class B { }";
        yield return "using GenNets; [Input(1, 4, 4)] [Residual(typeof(B))] [Flatten] public partial class G { } [Block] [Flatten] partial class B { }";
        yield return "using GenNets; [Input(1, 4, 4)] [Residual(typeof(B))] [Flatten] public partial class G { } [Block] [MaxPool2D(3)] partial class B { }";
        yield return "using GenNets; [Input(5, 2)] [Residual(typeof(B))] public partial class G { } [Block] [LSTM(3)] partial class B { }";
        yield return "using GenNets; [Input(5, 2)] [Residual(typeof(B))] public partial class G { } [Block] [LSTM(3, ReturnSequences = true)] partial class B { }";
        yield return "using GenNets; [Block] [Dense(3)] partial class B { } [Block] [Residual(typeof(B))] public partial class G { }";
    }

    /// <summary>A declaration GenNets must either build or answer with the given GN diagnostics (and no other error).</summary>
    public sealed record Declaration(string Label, string Source, params string[] ExpectedIds)
    {
        public override string ToString() => Label;
    }

    /// <summary>
    /// Declarations a review tried that once crashed the generator, put CS errors into the generated file or passed
    /// silently: odd declarations, names that need escaping, inheritance, members that collide, the loss of a recurrent
    /// output, padding. With no expected ID a declaration must compile cleanly together with code that uses it.
    /// </summary>
    public static IEnumerable<Declaration> Declarations()
    {
        const string U = "using GenNets; ";
        const string Net = "[Input(3)] [Dense(2)] ";
        yield return new("file-local class", U + Net + "file partial class N { }", "GN0012");
        yield return new("nested in a file-local class", U + "file partial class F { " + Net + "partial class N { } }", "GN0012");
        yield return new("verbatim namespace", U + "namespace @event.@fixed; " + Net + "public partial class N { } static class Use { static int M() => new N(1).Parameters.Length + N.InputSize; }");
        yield return new("verbatim namespace, block form", U + "namespace @namespace { namespace Inner { " + Net + "public partial class N { } } }");
        yield return new("verbatim class name", U + Net + "public partial class @class { } static class Use { static int M() => new @class(1).Parameters.Length; }");
        yield return new("contextual keyword as class name", U + Net + "public partial class @record { }");
        yield return new("verbatim enclosing type", U + "public partial class @static { " + Net + "public partial class @void { } }");
        yield return new("non-ASCII names", U + "namespace Réseaux; " + Net + "public partial class Modèle { }");
        yield return new("quote in a Dense name", U + """[Input(3)] [Dense(2, Name = "a\"b")] public partial class N { }""");
        yield return new("backslash in a Dense name", U + """[Input(3)] [Dense(2, Name = "a\\b")] public partial class N { }""");
        yield return new("line break and markup in a name", U + """[Input(3)] [Dense(2, Name = "x\n</summary> <y & z\r\u2028")] public partial class N { }""");
        yield return new("quote in a recurrent layer's name", U + """[Input(4, 2)] [GRU(3, Name = "g\"\\")] [Dense(2)] public partial class N { }""");
        yield return new("quote in a convolution's name", U + """[Input(1, 4, 4)] [Conv2D(2, 3, Name = "c\"")] [Flatten] [Dense(2)] public partial class N { }""");
        yield return new("record", U + Net + "public partial record R { }", "GN0012");
        yield return new("sealed record class", U + Net + "public sealed partial record class R { }", "GN0012");
        yield return new("record class nested in a record", U + "public partial record O { " + Net + "public partial class N { } }");
        yield return new("network derived from a network", U + Net + "public partial class A { } [Input(3)] [Dense(4)] public partial class B : A { } static class Use { static int M() => new B().Parameters.Length; }", "GN0018");
        yield return new("network derived from a plain class", U + "public class Base { public int Extra; } " + Net + "public partial class N : Base { }");
        yield return new("user Forward with the generated signature", U + Net + "public partial class N { public void Forward(System.ReadOnlySpan<float> x, System.Span<float> y) { } }", "GN0019");
        yield return new("user Forward overload", U + Net + "public partial class N { public void Forward(float[] x) { } }");
        yield return new("user Parameters field", U + Net + "public partial class N { public float[] Parameters = new float[1]; }", "GN0019");
        yield return new("user InputSize field", U + Net + "public partial class N { public int InputSize; }", "GN0019");
        yield return new("user private field with a generated name", U + Net + "public partial class N { private int _parameters; public int P => _parameters; }", "GN0019");
        yield return new("user constructor with the generated signature", U + Net + "public partial class N { public N(int seed) { } }", "GN0019");
        yield return new("user parameterless constructor", U + Net + "public partial class N { public N() : this(7) { } }");
        yield return new("user nested type with a generated name", U + Net + "public partial class N { public class Layers { } }", "GN0019");
        yield return new("base class member with a generated name", U + "public class Base { public int Threads; } " + Net + "public partial class N : Base { }", "GN0019");
        yield return new("collision on an invalid network", U + "[Input(3)] [Dense(0)] public partial class N { public void Initialize(int seed) { } }", "GN0005", "GN0019");
        yield return new("collision on a recurrent network", U + "[Input(4, 2)] [LSTM(3)] [Dense(2)] public partial class N { public int Steps; }", "GN0019");
        yield return new("nested in a generic class", U + "public partial class O<T> { " + Net + "public partial class N { } } static class Use { static int M() => new O<int>.N(1).Parameters.Length; }");
        yield return new("nested in a generic record with verbatim type parameters", U + "public partial record O<@class, U> where U : struct { " + Net + "public partial class N { } }");
        yield return new("nested in a generic struct", U + "public partial struct S<T> { [Input(4, 2)] [LSTM(3)] [Dense(2)] public partial class N { } }");
        yield return new("generic network class", U + Net + "public partial class G<T> { }", "GN0012");
        yield return new("LSTM(1) last with softmax cross-entropy", U + "[Input(5, 2)] [LSTM(1)] [Loss(LossKind.SoftmaxCrossEntropy)] public partial class N { }", "GN0007");
        yield return new("LSTM last after a ReLU Dense, with softmax cross-entropy", U + "[Input(5, 2)] [Dense(4, Activation.ReLU)] [LSTM(3)] [Loss(LossKind.SoftmaxCrossEntropy)] public partial class N { }", "GN0007");
        yield return new("GRU last with binary cross-entropy", U + "[Input(5, 2)] [GRU(2)] [Dropout(0.1f)] [Loss(LossKind.BinaryCrossEntropyWithLogits)] public partial class N { }", "GN0007");
        yield return new("LSTM last with mean squared error", U + "[Input(5, 2)] [LSTM(2)] [Loss(LossKind.MeanSquaredError)] public partial class N { }");
        yield return new("Dense after an LSTM, with softmax cross-entropy", U + "[Input(5, 2)] [LSTM(4)] [Dense(3)] [Loss(LossKind.SoftmaxCrossEntropy)] public partial class N { }");
        yield return new("padding -1 is Same", U + "[Input(1, 5, 5)] [Conv2D(2, 3, Padding = -1)] [Flatten] [Dense(2)] public partial class N { }");
        yield return new("padding -2", U + "[Input(1, 5, 5)] [Conv2D(2, 3, Padding = -2)] [Flatten] [Dense(2)] public partial class N { }", "GN0027");

        const string Basic = "[Block] [Conv2D(4, 3, Padding = 1, Activation = Activation.ReLU)] [Conv2D(4, 3, Padding = 1)] public partial class Basic { } ";
        yield return new("residual network", U + Basic
            + "[Block] [Conv2D(6, 3, Stride = 2, Padding = 1)] public partial class Down { } "
            + "[Input(4, 8, 8)] [Residual(typeof(Basic), Activation = Activation.ReLU, Repeat = 2, Name = \"layer1\")] [Residual(typeof(Down), Name = \"layer2\")] "
            + "[GlobalAvgPool] [Dense(2)] public partial class N { } static class Use { static int M() => new N(1).Parameters.Length + N.OutputSize; }");
        yield return new("residual network of dense blocks", U + "[Block] [Dense(6, Activation.ReLU)] [Dense(4)] public partial class D { } "
            + "[Block] [Residual(typeof(D))] [Dense(2)] internal partial class Outer { } [Input(5, 4)] [Residual(typeof(D))] [Residual(typeof(Outer))] [Dense(1)] public partial class N { }");
        yield return new("residual of a class not a block", U + "public class Plain { } [Input(3)] [Residual(typeof(Plain))] [Dense(2)] public partial class N { }", "GN0050");
        yield return new("block using itself", U + "[Block] [Dense(3)] [Residual(typeof(B))] public partial class B { } [Input(3)] [Residual(typeof(B))] [Dense(2)] public partial class N { }", "GN0051");
        yield return new("block declaring an input", U + "[Block] [Input(3)] [Dense(3)] public partial class B { } [Input(3)] [Residual(typeof(B))] [Dense(2)] public partial class N { }", "GN0052");
        yield return new("residual flattening an image", U + "[Block] [Flatten] public partial class B { } [Input(1, 4, 4)] [Residual(typeof(B))] [Dense(2)] public partial class N { }", "GN0053");
        yield return new("residual changing one side", U + "[Block] [Conv2D(2, 3, 1)] public partial class B { } [Input(1, 4, 4)] [Residual(typeof(B))] [Flatten] [Dense(2)] public partial class N { }", "GN0054");
        yield return new("residual of an empty block", U + "[Block] public partial class B { } [Input(3)] [Residual(typeof(B))] [Dense(2)] public partial class N { }", "GN0055");
    }
}
