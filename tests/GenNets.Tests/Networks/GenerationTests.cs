using System;
using System.Collections.Generic;
using System.Linq;
using GenNets.Generation;
using GenNets.Kernels;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Networks;

// A token network whose attention reads both ways: generation must refuse it.
[TokenInput(6, 9)]
[Embedding(4)]
[SelfAttention(2, Name = "bidirectional")]
[Dense(9)]
public partial class BidirectionalTokenModel { }

// A token network that pools over its positions: not per position.
[TokenInput(6, 9)]
[Embedding(4)]
[GlobalAvgPool]
[Dense(9)]
public partial class PooledTokenModel { }

// A causal token network whose output is not a logit per vocabulary entry.
[TokenInput(6, 9)]
[Embedding(4)]
[SelfAttention(2, Causal = true)]
[Dense(3)]
public partial class NarrowTokenModel { }

/// <summary>
/// <see cref="TokenGenerator"/> on <see cref="TinyLanguageModel"/>: the cached path against the batched forward pass (logits,
/// and the same tokens greedily and sampled, far past the context window); a replica of the documented window rule and
/// sampling built on <see cref="INetwork.Forward(ReadOnlySpan{float}, Span{float})"/>; a trained model generating its
/// pattern; the sampling distribution; the refusals.
/// </summary>
public class GenerationTests
{
    private const int Positions = 7, Vocabulary = 11;

    // Trained once: 'next token = current + 1 mod 11', every start in every batch.
    private static readonly Lazy<TinyLanguageModel> s_trained = new(() =>
    {
        var net = new TinyLanguageModel(21);
        var optimizer = new AdamW(1e-2f);
        int[] tokens = new int[Vocabulary * Positions], labels = new int[Vocabulary * Positions];
        for (int s = 0; s < Vocabulary; s++)
            for (int t = 0; t < Positions; t++)
            {
                tokens[s * Positions + t] = (s + t) % Vocabulary;
                labels[s * Positions + t] = (s + t + 1) % Vocabulary;
            }
        for (int step = 0; step < 300; step++) net.TrainStep(tokens, labels, Vocabulary, optimizer);
        return net;
    });

    private static int[] Generate(INetwork net, bool cache, int[] prompt, int count, SamplingOptions options)
    {
        var generated = new int[count];
        new TokenGenerator(net, cache).Generate(prompt, generated, options);
        return generated;
    }

    // The window rule of TokenGenerator's documentation, written out: the window's tokens before each new token.
    private static List<int[]> Windows(int[] prompt, int[] generated)
    {
        var windows = new List<int[]>();
        var window = new List<int>();
        void Append(int id)
        {
            if (window.Count == Positions) window.RemoveRange(0, Positions - Math.Max(1, Positions / 2) + 1);
            window.Add(id);
        }
        foreach (int id in prompt) Append(id);
        foreach (int id in generated)
        {
            windows.Add(window.ToArray());
            Append(id);
        }
        return windows;
    }

    // The logits at a window's last position from the batched forward pass (positions after its end hold id 0).
    private static float[] LastLogits(INetwork net, int[] window)
    {
        var tokens = new int[Positions];
        window.CopyTo(tokens, 0);
        var output = new float[Positions * Vocabulary];
        net.Forward(tokens, output);
        return output.AsSpan((window.Length - 1) * Vocabulary, Vocabulary).ToArray();
    }

    private static int ArgMax(float[] logits)
    {
        int best = 0;
        for (int j = 1; j < logits.Length; j++)
            if (logits[j] > logits[best]) best = j;
        return best;
    }

    [Fact]
    public void TrainedModel_GeneratesThePattern_Greedily_FarPastTheWindow()
    {
        var net = s_trained.Value;
        foreach (int[] prompt in new[] { new[] { 3 }, new[] { 9, 10 }, new[] { 4, 5, 6, 7, 8, 9, 10, 0, 1, 2 } })
        {
            int[] expected = Enumerable.Range(1, 30).Select(i => (prompt[^1] + i) % Vocabulary).ToArray();
            Assert.Equal(expected, Generate(net, true, prompt, 30, SamplingOptions.Greedy));
            Assert.Equal(expected, Generate(net, false, prompt, 30, SamplingOptions.Greedy));
        }
    }

    [Theory]
    [InlineData(1f, 0, 1UL)]
    [InlineData(1f, 3, 2UL)]
    [InlineData(0.7f, 5, 3UL)]
    [InlineData(2.5f, 0, 4UL)]
    [InlineData(1.5f, 2, 5UL)]
    public void CachedAndUncached_SampleTheSameTokens(float temperature, int topK, ulong seed)
    {
        var options = new SamplingOptions(temperature, topK, seed);
        foreach (INetwork net in new INetwork[] { s_trained.Value, new TinyLanguageModel(30 + (int)seed) })
        {
            int[] prompt = [2, 7, 1];
            int[] cached = Generate(net, true, prompt, 30, options);
            Assert.Equal(cached, Generate(net, false, prompt, 30, options));
            Assert.Equal(cached, net.Generate(prompt, 30, options));
        }
    }

    [Fact]
    public void Greedy_FollowsTheDocumentedWindow_OnTheBatchedForward()
    {
        // An untrained network, whose next token depends on the whole window: each token is the argmax of the batched
        // forward pass over the window the rule gives, through several slides, from a short prompt and from one longer
        // than the context.
        var net = new TinyLanguageModel(40);
        foreach (int[] prompt in new[] { new[] { 5, 1 }, new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 } })
        {
            int[] cached = Generate(net, true, prompt, 30, SamplingOptions.Greedy);
            Assert.Equal(cached, Generate(net, false, prompt, 30, SamplingOptions.Greedy));
            var windows = Windows(prompt, cached);
            Assert.Contains(windows, w => w.Length == Positions); // the window fills …
            Assert.Contains(windows, w => w.Length == Positions / 2 && windows.IndexOf(w) > 0); // … and slides
            for (int i = 0; i < cached.Length; i++)
                Assert.Equal(ArgMax(LastLogits(net, windows[i])), cached[i]);
        }
    }

    [Fact]
    public void CachedLogits_EqualTheBatchedForward_AtEveryPosition()
    {
        foreach (INetwork net in new INetwork[] { s_trained.Value, new TinyLanguageModel(50) })
        {
            int[] tokens = [4, 0, 10, 4, 7, 3, 9];
            var batched = new float[Positions * Vocabulary];
            net.Forward(tokens, batched);
            double[] reference = Reference.NetworkOutputs(net.Layers, Check.ToDouble(net.Parameters), Array.ConvertAll(tokens, t => (double)t), 1);
            var cached = new float[Positions * Vocabulary];
            new TokenGenerator(net).Logits(tokens, cached);
            Check.Close(Check.ToDouble(batched), cached, 1e-5, 1e-6, "cached logits");
            Check.Close(reference, cached, 1e-4, 1e-5, "cached logits against the reference");

            // A shorter prompt: the first rows, whatever comes after.
            var prefix = new float[3 * Vocabulary];
            new TokenGenerator(net).Logits(tokens.AsSpan(0, 3), prefix);
            Check.Close(Check.ToDouble(batched.AsSpan(0, 3 * Vocabulary)), prefix, 1e-5, 1e-6, "prefix logits");
            var uncached = new float[Positions * Vocabulary];
            new TokenGenerator(net, useCache: false).Logits(tokens, uncached);
            Assert.Equal(batched, uncached);
        }
    }

    [Fact]
    public void TemperatureZero_IsTheArgMax_WhateverTopKAndSeed()
    {
        var net = new TinyLanguageModel(60);
        int[] prompt = [3, 8];
        int[] greedy = Generate(net, true, prompt, 12, SamplingOptions.Greedy);
        Assert.Equal(greedy, Generate(net, true, prompt, 12, new SamplingOptions(0f, 3, 99)));
        Assert.Equal(greedy, Generate(net, false, prompt, 12, new SamplingOptions(0f, 1, 7)));
        var windows = Windows(prompt, greedy);
        for (int i = 0; i < greedy.Length; i++) Assert.Equal(ArgMax(LastLogits(net, windows[i])), greedy[i]);
        // Top-1 keeps only the argmax: sampling then is greedy too.
        Assert.Equal(greedy, Generate(net, true, prompt, 12, new SamplingOptions(1f, 1, 5)));
    }

    [Fact]
    public void TopK_DrawsOnlyAmongTheKLargest()
    {
        var net = new TinyLanguageModel(70);
        int[] prompt = [6];
        for (ulong seed = 0; seed < 10; seed++)
        {
            int[] tokens = Generate(net, true, prompt, 20, new SamplingOptions(3f, 2, seed));
            var windows = Windows(prompt, tokens);
            for (int i = 0; i < tokens.Length; i++)
            {
                float[] logits = LastLogits(net, windows[i]);
                int rank = logits.Count(v => v > logits[tokens[i]]);
                Assert.True(rank < 2, $"seed {seed}, token {i}: id {tokens[i]} has {rank} larger logits");
            }
        }
    }

    [Fact]
    public void SampledFrequencies_FollowTheSoftmaxOfTheTopK_AtTheTemperature()
    {
        var net = new TinyLanguageModel(80);
        int[] prompt = [1, 4, 9];
        const float temperature = 0.6f;
        const int topK = 4, draws = 4000;
        float[] logits = LastLogits(net, prompt);
        int[] kept = Enumerable.Range(0, Vocabulary).OrderByDescending(j => logits[j]).ThenBy(j => j).Take(topK).ToArray();
        double top = logits[kept[0]];
        double[] weights = kept.Select(j => Math.Exp((logits[j] - top) / temperature)).ToArray();
        double sum = weights.Sum();
        var counts = new int[Vocabulary];
        var generator = new TokenGenerator(net);
        var one = new int[1];
        for (ulong seed = 0; seed < draws; seed++)
        {
            generator.Generate(prompt, one, new SamplingOptions(temperature, topK, seed * 7919));
            counts[one[0]]++;
        }
        for (int j = 0; j < Vocabulary; j++)
        {
            int index = Array.IndexOf(kept, j);
            double p = index < 0 ? 0 : weights[index] / sum;
            double sigma = Math.Sqrt(draws * p * (1 - p));
            Assert.True(Math.Abs(counts[j] - draws * p) <= 5 * sigma + 1e-9, $"id {j}: {counts[j]} draws, expected {draws * p:F1} ± {sigma:F1}");
        }
    }

    [Fact]
    public void TopK_TiesAtTheKthValue_KeepTheLowestIds()
    {
        // A network whose every logit is equal (all parameters 0): top-2 keeps ids 0 and 1, top-1 id 0; greedy takes id 0.
        var net = new TinyLanguageModel(90);
        net.Parameters.Clear();
        var seen = new HashSet<int>();
        for (ulong seed = 0; seed < 40; seed++)
            foreach (int id in Generate(net, true, [5], 5, new SamplingOptions(1f, 2, seed))) seen.Add(id);
        Assert.Equal(new[] { 0, 1 }, seen.Order().ToArray());
        Assert.All(Generate(net, true, [5], 5, new SamplingOptions(1f, 1, 3)), id => Assert.Equal(0, id));
        Assert.All(Generate(net, false, [5], 5, SamplingOptions.Greedy), id => Assert.Equal(0, id));
    }

    [Fact]
    public void SameSeed_SameTokens_DifferentSeed_DifferentTokens()
    {
        var net = new TinyLanguageModel(100);
        int[] prompt = [0, 1];
        int[] a = net.Generate(prompt, 30, new SamplingOptions(1f, 0, 11));
        Assert.Equal(a, net.Generate(prompt, 30, new SamplingOptions(1f, 0, 11)));
        Assert.NotEqual(a, net.Generate(prompt, 30, new SamplingOptions(1f, 0, 12)));
        // No options: temperature 1, seed 0.
        Assert.Equal(net.Generate(prompt, 30, new SamplingOptions()), net.Generate(prompt, 30));
        Assert.Empty(net.Generate(prompt, 0));
    }

    [Fact]
    public void Generate_AllocatesNothing_PerCall()
    {
        var net = new TinyLanguageModel(110);
        int[] prompt = [2, 3, 4];
        var generated = new int[20]; // slides the window
        var options = new SamplingOptions(0.9f, 4, 1);
        foreach (bool cache in new[] { true, false })
        {
            var generator = new TokenGenerator(net, cache);
            long bytes = Check.SteadyStateAllocation(() => generator.Generate(prompt, generated, options));
            Assert.True(bytes == 0, $"useCache {cache}: {bytes} bytes per 5 calls");
        }
    }

    [Fact]
    public void FloatNetworks_AreRefused_AsNotReadingTokenIds()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new TokenGenerator(new AttentionClassifier(1)));
        Assert.Contains("does not read token ids", error.Message);
        Assert.Throws<InvalidOperationException>(() => new CausalTagger(1).Generate([0], 3));
    }

    [Fact]
    public void NonCausalAttention_IsRefused_ByLayer()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new TokenGenerator(new BidirectionalTokenModel(1)));
        Assert.Contains("Layer 1", error.Message);
        Assert.Contains("Causal = false", error.Message);
    }

    [Fact]
    public void PoolingAndNarrowOutputs_AreRefused_ByLayer()
    {
        var pooled = Assert.Throws<InvalidOperationException>(() => new TokenGenerator(new PooledTokenModel(1)));
        Assert.Contains("Layer 1", pooled.Message);
        Assert.Contains("not a per-position layer", pooled.Message);
        var narrow = Assert.Throws<InvalidOperationException>(() => new TokenGenerator(new NarrowTokenModel(1), useCache: false));
        Assert.Contains("Layer 2", narrow.Message);
        Assert.Contains("[6, 9]", narrow.Message);
    }

    [Fact]
    public void BadPrompts_AreRefused_AndNothingIsWritten()
    {
        var generator = new TokenGenerator(new TinyLanguageModel(120));
        var generated = new int[4];
        generated.AsSpan().Fill(-7);
        var outside = Assert.Throws<ArgumentException>(() => generator.Generate([1, 2, 11, 3], generated, SamplingOptions.Greedy));
        Assert.Contains("Token id 11 at position 2", outside.Message);
        Assert.Contains("ids 0 to 10", outside.Message);
        var negative = Assert.Throws<ArgumentException>(() => generator.Generate([-1], generated, SamplingOptions.Greedy));
        Assert.Contains("Token id -1 at position 0", negative.Message);
        var empty = Assert.Throws<ArgumentException>(() => generator.Generate([], generated, SamplingOptions.Greedy));
        Assert.Equal("prompt", empty.ParamName);
        Assert.All(generated, id => Assert.Equal(-7, id));
        Assert.Throws<ArgumentNullException>(() => generator.Generate([1], generated, null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TinyLanguageModel(1).Generate([1], -1));
    }

    [Fact]
    public void SamplingOptions_RefuseNegativeOrNonFiniteValues()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions(-0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions(float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions(float.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions(1f, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions() with { Temperature = -1f });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions() with { TopK = -2 });
        Assert.Equal(new SamplingOptions(0.5f, 3, 9), new SamplingOptions() with { Temperature = 0.5f, TopK = 3, Seed = 9 });
    }
}
