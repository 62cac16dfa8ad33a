using System;
using GenNets.Generation;
using GenNets.Kernels;

namespace GenNets;

/// <summary>
/// Token ids for a network whose input is <c>[TokenInput(length, vocabulary)]</c>: the same calls as
/// <see cref="INetwork"/>'s, taking <c>ReadOnlySpan&lt;int&gt;</c>. The ids are checked (an id outside the vocabulary is an
/// error naming the sample, the position and the id, and nothing runs) and carried into the network as whole floats, in a
/// per-thread buffer that is allocated on a thread's first call and reused after.
/// </summary>
public static class TokenNetworks
{
    [ThreadStatic] private static float[]? t_ids;

    /// <summary>The vocabulary of a network that reads token ids (its first layer is an embedding), or 0.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    public static int Vocabulary(this INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return network.Layers.Count > 0 && network.Layers[0].Kind == LayerKind.Embedding ? network.Layers[0].Weight!.Shape[0] : 0;
    }

    /// <summary>Inference on one sample of token ids.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The network does not read token ids.</exception>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> is not one sample long, or an id is outside the vocabulary.</exception>
    public static void Forward(this INetwork network, ReadOnlySpan<int> tokens, Span<float> output)
        => network.Forward(Ids(network, tokens, 1), output);

    /// <summary>Inference on <paramref name="batchSize"/> samples of token ids stored one after another.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The network does not read token ids.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> does not hold <paramref name="batchSize"/> samples, or an id is outside the vocabulary.</exception>
    public static void Forward(this INetwork network, ReadOnlySpan<int> tokens, Span<float> outputs, int batchSize)
        => network.Forward(Ids(network, tokens, batchSize), outputs, batchSize);

    /// <summary><see cref="INetwork.ComputeGradients"/> on token ids.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The network does not read token ids.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> does not hold <paramref name="batchSize"/> samples, or an id is outside the vocabulary.</exception>
    public static float ComputeGradients(this INetwork network, ReadOnlySpan<int> tokens, Targets targets, int batchSize)
        => network.ComputeGradients(Ids(network, tokens, batchSize), targets, batchSize);

    /// <summary><see cref="INetwork.TrainStep"/> on token ids.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="optimizer"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The network does not read token ids.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> does not hold <paramref name="batchSize"/> samples, or an id is outside the vocabulary.</exception>
    public static float TrainStep(this INetwork network, ReadOnlySpan<int> tokens, Targets targets, int batchSize, Training.Optimizer optimizer)
        => network.TrainStep(Ids(network, tokens, batchSize), targets, batchSize, optimizer);

    /// <summary>
    /// <paramref name="count"/> new tokens after <paramref name="prompt"/>, from a causal token network with a key/value
    /// cache: a new <see cref="TokenGenerator"/>'s <see cref="TokenGenerator.Generate"/> (which says how the context window
    /// slides). Options null: <c>new SamplingOptions()</c>, sampling at temperature 1 with seed 0.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The network is not a causal token network (the message names the layer and why).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="prompt"/> is empty, or an id in it is outside the vocabulary.</exception>
    public static int[] Generate(this INetwork network, ReadOnlySpan<int> prompt, int count, SamplingOptions? options = null)
    {
        var generator = new TokenGenerator(network);
        Sizes.NotNegative(count, nameof(count));
        var generated = new int[count];
        generator.Generate(prompt, generated, options ?? new SamplingOptions());
        return generated;
    }

    // The vocabulary of a network that reads token ids, or the error that it does not.
    internal static int RequireVocabulary(INetwork network)
    {
        int vocabulary = Vocabulary(network);
        if (vocabulary == 0)
            throw new InvalidOperationException($"The network does not read token ids: its first layer is {(network.Layers.Count > 0 ? network.Layers[0].Description : "none")}, not an embedding after a [TokenInput].");
        return vocabulary;
    }

    // The ids, checked, as the floats the network's input carries.
    private static ReadOnlySpan<float> Ids(INetwork network, ReadOnlySpan<int> tokens, int batchSize)
    {
        int vocabulary = RequireVocabulary(network);
        Sizes.Positive(batchSize, nameof(batchSize));
        int positions = network.InputSize;
        long needed = Sizes.Product(batchSize, nameof(batchSize), positions, "positions");
        if (tokens.Length != needed)
            throw new ArgumentException($"A batch of {batchSize} samples of {positions} token ids is {needed} ids, but {tokens.Length} were given.", nameof(tokens));
        var ids = Scratch.Get(ref t_ids, (int)needed);
        Embedding.ToFloats(tokens, ids, positions, vocabulary);
        return ids;
    }
}
