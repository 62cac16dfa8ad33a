using System;
using System.Collections.Generic;
using GenNets.Kernels;

namespace GenNets.Generation;

/// <summary>
/// Text generation with a causal token network (<c>[TokenInput]</c>, an embedding, per-position layers, causal
/// self-attention, a logit per vocabulary entry at every position): each new token is drawn from the logits at the last
/// position of the tokens so far, then read back in.
/// </summary>
/// <remarks>
/// <para><b>Key/value cache.</b> With the cache (the default) the layers run for one position at a time, each keeping
/// that position's row, and every self-attention layer keeps the keys and values of the positions before
/// (<see cref="Attention.Step"/>), so each new token costs one position's work, not the window's. Without it every token
/// runs the network's batched <see cref="INetwork.Forward(ReadOnlySpan{float}, Span{float})"/> on the whole window
/// (positions after the window's end hold id 0, which causal attention never reads); the two give the same logits to
/// rounding.</para>
/// <para><b>Context window.</b> The network has a fixed number of positions T. The window is the last tokens of the
/// sequence (prompt, then generated), at most T of them: a token arriving when the window holds T starts a new window of
/// the last max(1, T / 2) tokens, itself included, which the cache then reads in again from position 0. Both paths
/// follow this one rule (a prompt longer than T is windowed by it too), so they see the same tokens at the same
/// positions.</para>
/// <para>Buffers and caches are allocated by the constructor: <see cref="Generate"/> allocates nothing (the uncached
/// path's <see cref="INetwork.Forward(ReadOnlySpan{float}, Span{float})"/> may allocate its per-thread scratch on a
/// thread's first call). An instance is not thread-safe. The parameters are read at each call, so training between
/// calls is seen.</para>
/// </remarks>
public sealed class TokenGenerator
{
    private readonly INetwork _network;
    private readonly bool _useCache;
    private readonly int _positions, _vocabulary;
    private readonly bool _probabilities; // the last layer ends in a softmax: its outputs are probabilities
    private readonly Step[] _steps;
    private readonly float[] _qkv, _heads, _pre;
    private readonly int[] _window; // the window's tokens
    private readonly float[] _input, _output; // the uncached path's one sample
    private readonly double[] _weights; // the softmax's weights, per id
    private readonly ulong[] _order; // top-k's sort keys
    private int _count, _fed; // tokens in the window; of them, positions the cache holds

    // One layer's work at one position.
    private sealed class Step(LayerInfo layer)
    {
        public readonly LayerInfo Layer = layer;
        public readonly int Source = layer.Sources[0], Skip = layer.Sources.Length > 1 ? layer.Sources[1] : -1; // (Sources allocates)
        public readonly float[] Row = new float[layer.OutputShape[^1]];
        public float[]? Table, Keys, Values;
    }

    /// <summary>A generator for <paramref name="network"/>, which must be a causal token network.</summary>
    /// <param name="network">A network that reads token ids (its first layer an embedding), whose layers all work per position
    /// (embedding, positional encoding, layer normalisation, dense, causal self-attention, residual sum, dropout, the identity
    /// here) and whose output is a logit per vocabulary entry at every position, [positions, vocabulary].</param>
    /// <param name="useCache">Whether to keep a key/value cache (one position's work per token) or to rerun the whole window for
    /// every token.</param>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The network does not read token ids, or a layer cannot run one position at a
    /// time (the message names the layer and why), or the output is not [positions, vocabulary].</exception>
    public TokenGenerator(INetwork network, bool useCache = true)
    {
        ArgumentNullException.ThrowIfNull(network);
        _vocabulary = TokenNetworks.RequireVocabulary(network);
        IReadOnlyList<LayerInfo> layers = network.Layers;
        _network = network;
        _useCache = useCache;
        _positions = network.InputSize;
        var last = layers[^1];
        _steps = new Step[layers.Count];
        int widest = 1, model = 1;
        for (int l = 0; l < layers.Count; l++)
        {
            var layer = layers[l];
            Validate(layer, _positions);
            var step = _steps[l] = new Step(layer);
            int width = layer.OutputShape[1];
            widest = Math.Max(widest, width);
            switch (layer.Kind)
            {
                case LayerKind.PositionalEncoding when layer.Weight is null:
                    step.Table = PositionalEncoding.SinusoidalTable(_positions, width);
                    break;
                case LayerKind.SelfAttention:
                    model = Math.Max(model, width);
                    step.Keys = new float[_positions * width];
                    step.Values = new float[_positions * width];
                    break;
            }
        }
        if (last.OutputShape[1] != _vocabulary)
            throw new InvalidOperationException(
                $"The network's output is [{string.Join(", ", last.OutputShape)}], but generation reads a logit per vocabulary entry at every position, [{_positions}, {_vocabulary}]: the last layer ({Name(last)}) has {last.OutputShape[1]} features, not the vocabulary's {_vocabulary}.");
        _probabilities = last.Activation == Activation.Softmax;
        _qkv = new float[3 * model];
        _heads = new float[model];
        _pre = new float[widest];
        _window = new int[_positions];
        if (!useCache)
        {
            _input = new float[_positions];
            _output = new float[network.OutputSize];
        }
        else
            _input = _output = [];
        _weights = new double[_vocabulary];
        _order = new ulong[_vocabulary];
    }

    /// <summary>The network's positions: the context window.</summary>
    public int Positions => _positions;

    /// <summary>The ids the network reads and predicts: 0 to <see cref="Vocabulary"/> − 1.</summary>
    public int Vocabulary => _vocabulary;

    /// <summary>Whether each token costs one position's work (a key/value cache), or a forward pass over the window.</summary>
    public bool UsesCache => _useCache;

    /// <summary>
    /// Writes <c>generated.Length</c> new tokens after <paramref name="prompt"/> into <paramref name="generated"/>, each drawn
    /// as <paramref name="options"/> says from the logits at the window's last position, then read in. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="prompt"/> is empty, or an id in it is outside the vocabulary (the message
    /// names its position); nothing runs.</exception>
    /// <exception cref="InvalidOperationException">A logit is NaN or infinite (the network's parameters have diverged).</exception>
    public void Generate(ReadOnlySpan<int> prompt, Span<int> generated, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (prompt.IsEmpty)
            throw new ArgumentException("Generation needs a prompt of at least one token: the first new token is predicted from the last one.", nameof(prompt));
        Embedding.CheckIds(prompt, prompt.Length, _vocabulary);
        _count = _fed = 0;
        foreach (int id in prompt) Append(id);
        ReadOnlySpan<float> parameters = _network.Parameters;
        var random = new SeededRandom(options.Seed);
        for (int i = 0; i < generated.Length; i++)
        {
            int next = Choose(_useCache ? Feed(parameters) : Recompute(), options, ref random);
            generated[i] = next;
            Append(next);
        }
    }

    /// <summary>
    /// The logits at each position of <paramref name="tokens"/> (at most <see cref="Positions"/> of them, from position 0) as
    /// the generator computes them, [tokens.Length, vocabulary] into <paramref name="logits"/>: for comparing the cached path
    /// with the batched forward pass.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> is empty or longer than the positions, an id is outside the
    /// vocabulary, or <paramref name="logits"/> is shorter than [tokens.Length, vocabulary].</exception>
    public void Logits(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        if (tokens.IsEmpty || tokens.Length > _positions)
            throw new ArgumentException($"The tokens must fill 1 to {_positions} positions, but {tokens.Length} were given.", nameof(tokens));
        Embedding.CheckIds(tokens, tokens.Length, _vocabulary);
        if (logits.Length < tokens.Length * _vocabulary)
            throw new ArgumentException($"{tokens.Length} positions of {_vocabulary} logits need {tokens.Length * _vocabulary} floats, but {logits.Length} were given.", nameof(logits));
        ReadOnlySpan<float> parameters = _network.Parameters;
        _count = _fed = 0;
        for (int t = 0; t < tokens.Length; t++)
        {
            Append(tokens[t]);
            (_useCache ? Feed(parameters) : Recompute()).CopyTo(logits.Slice(t * _vocabulary, _vocabulary));
        }
    }

    // The one windowing rule of both paths: a token arriving at a full window starts a new one of the last max(1, T / 2)
    // tokens, the new one included, which the cache reads in again from position 0.
    private void Append(int id)
    {
        if (_count == _positions)
        {
            int kept = Math.Max(1, _positions / 2) - 1; // besides the new token
            _window.AsSpan(_positions - kept, kept).CopyTo(_window);
            _count = kept;
            _fed = 0;
        }
        _window[_count++] = id;
    }

    // The cached path: the positions of the window not yet read in, one at a time; the logits at the last.
    private ReadOnlySpan<float> Feed(ReadOnlySpan<float> parameters)
    {
        for (; _fed < _count; _fed++) Position(parameters, _window[_fed], _fed);
        return _steps[^1].Row;
    }

    // The uncached path: the whole window through the batched forward pass; the logits at its last position.
    private ReadOnlySpan<float> Recompute()
    {
        for (int t = 0; t < _positions; t++) _input[t] = t < _count ? _window[t] : 0;
        _network.Forward(_input, _output);
        return _output.AsSpan((_count - 1) * _vocabulary, _vocabulary);
    }

    // Every layer at one position: each writes its row, reading its sources' rows; attention also appends to its cache.
    private void Position(ReadOnlySpan<float> p, int id, int position)
    {
        foreach (var step in _steps)
        {
            var layer = step.Layer;
            var y = step.Row.AsSpan();
            int width = y.Length;
            ReadOnlySpan<float> x = step.Source < 0 ? default : _steps[step.Source].Row;
            switch (layer.Kind)
            {
                case LayerKind.Embedding:
                    p.Slice(layer.Weight!.Offset + id * width, width).CopyTo(y);
                    break;
                case LayerKind.PositionalEncoding:
                    PositionalEncoding.AddRow(x, step.Table ?? p.Slice(layer.Weight!.Offset, layer.Weight.Length), y, position, width);
                    break;
                case LayerKind.LayerNorm:
                    Normalization.LayerNorm(x, p.Slice(layer.Weight!.Offset, width), p.Slice(layer.Bias!.Offset, width), y, 1, width);
                    break;
                case LayerKind.Dense:
                {
                    var z = layer.Activation == Activation.Identity ? y : _pre.AsSpan(0, width);
                    Gemm.DenseForward(x, p.Slice(layer.Weight!.Offset, layer.Weight.Length), p.Slice(layer.Bias!.Offset, width), z, 1, width, x.Length);
                    Activate(layer.Activation, z, y);
                    break;
                }
                case LayerKind.Add:
                {
                    var z = layer.Activation == Activation.Identity ? y : _pre.AsSpan(0, width);
                    Elementwise.Add(x, _steps[step.Skip].Row, z);
                    Activate(layer.Activation, z, y);
                    break;
                }
                case LayerKind.SelfAttention:
                {
                    var qkv = _qkv.AsSpan(0, 3 * width);
                    var heads = _heads.AsSpan(0, width);
                    Gemm.DenseForward(x, p.Slice(layer.Weight!.Offset, layer.Weight.Length), p.Slice(layer.Bias!.Offset, 3 * width), qkv, 1, 3 * width, width);
                    Attention.Step(qkv, step.Keys!, step.Values!, position, heads, width, layer.Heads);
                    Gemm.DenseForward(heads, p.Slice(layer.OutputWeight!.Offset, width * width), p.Slice(layer.OutputBias!.Offset, width), y, 1, width, width);
                    break;
                }
                default: // dropout: the identity in inference
                    x.CopyTo(y);
                    break;
            }
        }
    }

    // y = f(z), z kept (GELU's kernels must not run in place); the identity leaves y, which is z, as it is.
    private static void Activate(Activation activation, ReadOnlySpan<float> z, Span<float> y)
    {
        switch (activation)
        {
            case Activation.Identity: break;
            case Activation.ReLU: Activations.ReLU(z, y); break;
            case Activation.LeakyReLU: Activations.LeakyReLU(z, y); break;
            case Activation.Sigmoid: Activations.Sigmoid(z, y); break;
            case Activation.Tanh: Activations.Tanh(z, y); break;
            case Activation.GELU: Activations.GELU(z, y); break;
            case Activation.GELUTanh: Activations.GELUTanh(z, y); break;
            case Activation.Softmax: Activations.Softmax(z, y, 1, z.Length); break;
            default: throw new NotSupportedException($"No activation {activation}.");
        }
    }

    // The next token from one position's logits (or probabilities).
    private int Choose(ReadOnlySpan<float> logits, SamplingOptions options, ref SeededRandom random)
    {
        int best = 0;
        for (int j = 0; j < logits.Length; j++)
        {
            if (!float.IsFinite(logits[j]))
                throw new InvalidOperationException($"The logit of token {j} is {logits[j]}: the network's parameters are not finite, or it has diverged.");
            if (logits[j] > logits[best]) best = j;
        }
        if (options.Temperature == 0) return best;

        // The kept ids: those whose (value descending, id ascending) key is at most the k-th smallest key.
        ulong limit = ulong.MaxValue;
        int k = options.TopK;
        if (k > 0 && k < logits.Length)
        {
            for (int j = 0; j < logits.Length; j++) _order[j] = Key(logits[j], j);
            _order.AsSpan().Sort();
            limit = _order[k - 1];
        }
        double temperature = options.Temperature, top = Score(logits[best]), sum = 0;
        for (int j = 0; j < logits.Length; j++)
        {
            double w = Key(logits[j], j) <= limit ? Math.Exp((Score(logits[j]) - top) / temperature) : 0;
            _weights[j] = w;
            sum += w;
        }
        double u = random.NextDouble() * sum, running = 0;
        for (int j = 0; j < logits.Length; j++)
        {
            running += _weights[j];
            if (u < running) return j;
        }
        return best; // u rounded up to the sum: the largest weight's id
    }

    private double Score(float value) => _probabilities ? Math.Log(value) : value;

    // Sorts ascending by value descending, then by id ascending: the float's bits made monotone (−0 as +0), flipped.
    private static ulong Key(float value, int id)
    {
        int bits = BitConverter.SingleToInt32Bits(value + 0f);
        int ordered = bits >= 0 ? bits : bits ^ int.MaxValue;
        ulong descending = (ulong)((long)int.MaxValue - ordered); // 0 … 2³² − 1
        return descending << 32 | (uint)id;
    }

    // A layer that can run one position at a time, or the reason it cannot.
    private static void Validate(LayerInfo layer, int positions)
    {
        string name = Name(layer);
        switch (layer.Kind)
        {
            case LayerKind.Embedding when layer.Index != 0:
                throw new InvalidOperationException($"{name} is an embedding after the first layer: generation reads token ids only into the first.");
            case LayerKind.SelfAttention when !layer.Causal:
                throw new InvalidOperationException($"{name} attends both ways (Causal = false): each position would read the positions after it, which generation has not produced yet. Generation needs causal attention ([SelfAttention(heads, Causal = true)], [TransformerEncoder(..., Causal = true)]).");
            case LayerKind.Embedding or LayerKind.PositionalEncoding or LayerKind.LayerNorm or LayerKind.Dense or LayerKind.SelfAttention or LayerKind.Add or LayerKind.Dropout:
                break;
            default:
                throw new InvalidOperationException($"{name} is not a per-position layer: generation runs the layers one position at a time, which only embeddings, positional encodings, layer normalisations, dense layers, causal self-attention, residual sums and dropout allow.");
        }
        if (layer.OutputShape.Length != 2 || layer.OutputShape[0] != positions)
            throw new InvalidOperationException($"{name} has output [{string.Join(", ", layer.OutputShape)}], not one row per position ([{positions}, features]).");
        foreach (int source in layer.Sources)
            if ((source < 0) != (layer.Kind == LayerKind.Embedding) || source >= layer.Index)
                throw new InvalidOperationException($"{name} reads {(source < 0 ? "the network's input (the token ids)" : $"layer {source}")}, which generation cannot give it: only the first layer, an embedding, reads the ids, and each layer reads layers before it.");
    }

    private static string Name(LayerInfo layer) => $"Layer {layer.Index} ({(layer.Description.Length > 0 ? layer.Description : layer.Kind.ToString())})";
}
