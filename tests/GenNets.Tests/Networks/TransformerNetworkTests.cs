using System;
using System.Linq;
using GenNets.Kernels;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Networks;

/// <summary>
/// A network that reads token ids (<see cref="TinyLanguageModel"/>: embeddings, sinusoidal positions, two causal pre-LN
/// encoder layers, a logit per vocabulary entry at every position) against the double reference and finite
/// differences; causality through the whole network; ids outside the vocabulary; the int overloads; the memory the
/// build-time constants announce.
/// </summary>
public class TransformerNetworkTests
{
    private const int Positions = 7, Vocabulary = 11;

    private static int[] Tokens(int batch, int seed)
    {
        var random = new SeededRandom((ulong)seed);
        return Enumerable.Range(0, batch * Positions).Select(_ => random.NextInt(Vocabulary)).ToArray();
    }

    // The next-token targets: each position's label is some id (the loss is the mean over every position).
    private static int[] Labels(int batch, int seed) => Tokens(batch, seed + 1000);

    private static double ReferenceLoss(INetwork net, double[] parameters, int[] tokens, int batch, int[] labels, double[]? gradient)
        => Reference.NetworkLoss(net.Layers, net.Loss, parameters, Array.ConvertAll(tokens, t => (double)t), batch, labels, default,
            gradient ?? Span<double>.Empty);

    [Fact]
    public void Shapes_AndNames_AreThoseOfPyTorch()
    {
        var net = new TinyLanguageModel(1);
        Assert.Equal(Positions, TinyLanguageModel.InputSize);
        Assert.Equal(Positions * Vocabulary, TinyLanguageModel.OutputSize);
        Assert.Equal(Vocabulary, net.Vocabulary());
        var names = net.ParameterTensors.Select(t => t.Name).ToList();
        Assert.Equal("wte.weight", names[0]);
        Assert.Contains("encoder.layers.0.norm1.weight", names);
        Assert.Contains("encoder.layers.0.self_attn.in_proj_weight", names);
        Assert.Contains("encoder.layers.0.self_attn.out_proj.weight", names);
        Assert.Contains("encoder.layers.1.linear1.weight", names);
        Assert.Contains("encoder.layers.1.linear2.bias", names);
        Assert.Contains("encoder.layers.1.norm2.bias", names);
        Assert.Equal([24, 8], net.ParameterTensors.Single(t => t.Name == "encoder.layers.0.self_attn.in_proj_weight").Shape);
        Assert.Equal([16, 8], net.ParameterTensors.Single(t => t.Name == "encoder.layers.0.linear1.weight").Shape);
        Assert.Equal([8, 16], net.ParameterTensors.Single(t => t.Name == "encoder.layers.1.linear2.weight").Shape); // back to the model's width
        Assert.Equal([24, 8], net.ParameterTensors.Single(t => t.Name == "encoder.layers.1.self_attn.in_proj_weight").Shape);
        Assert.DoesNotContain(names, n => n.Contains("downsample", StringComparison.Ordinal));
        // The embedding, 2 × (2 norms, attention, two feed-forward layers), the final norm and the head, as PyTorch counts them.
        int layer = 2 * 8 + (3 * 8 * 8 + 3 * 8 + 8 * 8 + 8) + 2 * 8 + (16 * 8 + 16) + (8 * 16 + 8);
        int pytorch = 11 * 8 + 2 * layer + 2 * 8 + (11 * 8 + 11);
        Assert.Equal(pytorch, net.Parameters.Length);
        Assert.Equal(LossKind.SoftmaxCrossEntropy, net.Loss);
    }

    [Fact]
    public void ReferenceGradient_MatchesFiniteDifferences()
    {
        var net = new TinyLanguageModel(3);
        const int batch = 2;
        int[] tokens = Tokens(batch, 5), labels = Labels(batch, 5);
        double[] parameters = Check.ToDouble(net.Parameters);
        var analytic = new double[parameters.Length];
        ReferenceLoss(net, parameters, tokens, batch, labels, analytic);
        int checkedEmbeddingRows = 0;
        for (int i = 0; i < parameters.Length; i += 3)
        {
            double keep = parameters[i], h = 1e-6;
            parameters[i] = keep + h;
            double plus = ReferenceLoss(net, parameters, tokens, batch, labels, null);
            parameters[i] = keep - h;
            double minus = ReferenceLoss(net, parameters, tokens, batch, labels, null);
            parameters[i] = keep;
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-7 + 1e-5 * Math.Abs(numeric), $"parameter {i}: finite difference {numeric:R}, backward {analytic[i]:R}");
            if (i < Vocabulary * 8 && analytic[i] != 0) checkedEmbeddingRows++;
        }
        Assert.True(checkedEmbeddingRows > 0); // the embedding's rows of the ids used do get gradients
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void GeneratedGradientsAndOutputs_MatchReference(int threads)
    {
        var net = new TinyLanguageModel(4) { Threads = threads };
        const int batch = 5;
        int[] tokens = Tokens(batch, 6), labels = Labels(batch, 6);
        float loss = net.ComputeGradients(tokens, labels, batch);
        var expected = new double[TinyLanguageModel.ParameterCount];
        double expectedLoss = ReferenceLoss(net, Check.ToDouble(net.Parameters), tokens, batch, labels, expected);
        Assert.Equal(expectedLoss, loss, 4);
        Check.Close(expected, net.Gradients, 1e-4, 1e-6, "gradients");

        var outputs = new float[batch * TinyLanguageModel.OutputSize];
        net.Forward(tokens, outputs, batch);
        double[] reference = Reference.NetworkOutputs(net.Layers, Check.ToDouble(net.Parameters), Array.ConvertAll(tokens, t => (double)t), batch);
        Check.Close(reference, outputs, 1e-4, 1e-5, "outputs");
        var one = new float[TinyLanguageModel.OutputSize];
        net.Forward(tokens.AsSpan(Positions, Positions), one);
        Check.Close(reference.AsSpan(TinyLanguageModel.OutputSize, TinyLanguageModel.OutputSize), one, 1e-4, 1e-5, "sample 1");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void DensePairsJoinedByStrips_GiveTheReferenceOutputs(int batch)
    {
        // Inference joins two dense layers over 12 or more positions by strips (Gemm.DenseForwardToStrips and
        // FromStrips); training does not. Both must give the double reference's outputs, one sample or a batch.
        INetwork[] nets = [new OddEncoder(seed: 8), new WideEncoder(seed: 9)];
        foreach (var net in nets)
        {
            var inputs = Check.Random(batch * net.InputSize, 10);
            var outputs = new float[batch * net.OutputSize];
            net.Forward(inputs, outputs, batch);
            double[] reference = Reference.NetworkOutputs(net.Layers, Check.ToDouble(net.Parameters), Check.ToDouble(inputs), batch);
            Check.Close(reference, outputs, 1e-4, 1e-5, $"{net.GetType().Name}, batch {batch}");
            var one = new float[net.OutputSize];
            net.Forward(inputs.AsSpan((batch - 1) * net.InputSize, net.InputSize), one);
            Check.Close(reference.AsSpan((batch - 1) * net.OutputSize, net.OutputSize), one, 1e-4, 1e-5, $"{net.GetType().Name}, last sample alone");
        }
    }

    [Fact]
    public void ChangingLaterTokens_LeavesEarlierOutputsUnchanged()
    {
        var net = new TinyLanguageModel(8);
        int[] tokens = Tokens(1, 9);
        var before = new float[TinyLanguageModel.OutputSize];
        net.Forward(tokens, before);
        for (int i = 0; i < Positions - 1; i++)
        {
            int[] changed = (int[])tokens.Clone();
            for (int t = i + 1; t < Positions; t++) changed[t] = (changed[t] + 1 + t) % Vocabulary;
            var after = new float[TinyLanguageModel.OutputSize];
            net.Forward(changed, after);
            // Positions up to i see the same prefix: the same bits. The next one sees a changed token of its own.
            Assert.Equal(before.AsSpan(0, (i + 1) * Vocabulary).ToArray(), after.AsSpan(0, (i + 1) * Vocabulary).ToArray());
            Assert.NotEqual(before.AsSpan((i + 1) * Vocabulary, Vocabulary).ToArray(), after.AsSpan((i + 1) * Vocabulary, Vocabulary).ToArray());
        }
    }

    [Fact]
    public void IdOutsideTheVocabulary_IsRefusedByName_AndChangesNothing()
    {
        var net = new TinyLanguageModel(10);
        int[] tokens = Tokens(3, 11);
        tokens[2 * Positions + 4] = Vocabulary + 3;
        float[] before = net.Parameters.ToArray();
        var error = Assert.Throws<ArgumentException>(() => net.TrainStep(tokens, Labels(3, 11), 3, new Adam(1e-3f)));
        Assert.Contains("14", error.Message);
        Assert.Contains("position 4", error.Message);
        Assert.Contains("sample 2", error.Message);
        Assert.Equal(before, net.Parameters.ToArray());
        Assert.Equal(0, net.TrainingSteps);
        // The float path checks too: a fraction is no id.
        float[] floats = Array.ConvertAll(Tokens(1, 12), t => (float)t);
        floats[3] = 2.5f;
        Assert.Throws<ArgumentException>(() => net.Forward(floats, new float[TinyLanguageModel.OutputSize]));
    }

    [Fact]
    public void FloatNetwork_RefusesTokenOverloads()
        => Assert.Throws<InvalidOperationException>(() => new AttentionClassifier(1).Forward(new int[48], new float[3]));

    [Fact]
    public void Training_LearnsToCopyTheCurrentToken()
    {
        // Each position's target is its own token: attention plus the skip path can learn it in a few hundred steps.
        var net = new TinyLanguageModel(13);
        var optimizer = new AdamW(3e-3f);
        const int batch = 16;
        float first = 0, last = 0;
        for (int step = 0; step < 300; step++)
        {
            int[] tokens = Tokens(batch, 100 + step);
            float loss = net.TrainStep(tokens, tokens, batch, optimizer);
            if (step == 0) first = loss;
            last = loss;
        }
        Assert.True(last < 0.1f * first, $"loss {first} → {last}");
    }

    [Fact]
    public void AttentionWeights_TakeTheMemoryTheConstantsSay()
    {
        var net = new TinyLanguageModel(14);
        const int batch = 32;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        net.Reserve(batch);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        // The training buffers, every attention layer's weights (heads × positions² per sample) among them, are what
        // TrainingBytesPerSample counts: allocated once, for the batch, with array headers and alignment besides.
        Assert.InRange(allocated, TinyLanguageModel.TrainingBytesPerSample * batch, TinyLanguageModel.TrainingBytesPerSample * batch + 64 * 1024);
        var weights = net.GetType().GetFields(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
            .Where(f => f.Name.StartsWith("_weights", StringComparison.Ordinal)).Select(f => ((float[])f.GetValue(net)!).Length).ToArray();
        Assert.Equal(2, weights.Length);
        Assert.All(weights, length => Assert.True(length >= batch * 2 * Positions * Positions));
    }
}
