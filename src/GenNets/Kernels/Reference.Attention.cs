using System;

namespace GenNets.Kernels;

// The transformer kernels' twins: attention (forward, probabilities, backward), the embedding, the sinusoidal
// encoding and GELU's tanh approximation, in double precision.
public static partial class Reference
{
    /// <summary>
    /// Multi-head scaled dot-product attention over qkv [batch·T, 3d] (q, k, v side by side, head h in columns
    /// h·dh to (h + 1)·dh − 1 of each, dh = d / heads): returns the heads' softmax(q·kᵀ/√dh)·v concatenated, [batch·T, d].
    /// With <paramref name="causal"/>, query i sees keys 0 to i only.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">model is not a multiple of heads, or qkv is shorter than its shape.</exception>
    public static double[] Attention(ReadOnlySpan<double> qkv, int batch, int positions, int model, int heads, bool causal)
    {
        int dh = AttentionShape(qkv, batch, positions, model, heads);
        int T = positions, d = model;
        var y = new double[batch * T * d];
        for (int n = 0; n < batch; n++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < T; i++)
                {
                    var p = AttentionRow(qkv, n, h, i, T, d, dh, causal);
                    for (int c = 0; c < dh; c++)
                    {
                        double s = 0;
                        for (int j = 0; j < T; j++) s += p[j] * qkv[(n * T + j) * 3 * d + 2 * d + h * dh + c];
                        y[(n * T + i) * d + h * dh + c] = s;
                    }
                }
        return y;
    }

    /// <summary>The softmax probabilities of <see cref="Attention"/>, [batch, heads, T, T], 0 where masked.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">model is not a multiple of heads, or qkv is shorter than its shape.</exception>
    public static double[] AttentionProbabilities(ReadOnlySpan<double> qkv, int batch, int positions, int model, int heads, bool causal)
    {
        int dh = AttentionShape(qkv, batch, positions, model, heads);
        int T = positions;
        var probabilities = new double[batch * heads * T * T];
        for (int n = 0; n < batch; n++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < T; i++)
                    AttentionRow(qkv, n, h, i, T, model, dh, causal).CopyTo(probabilities, ((n * heads + h) * T + i) * T);
        return probabilities;
    }

    /// <summary>
    /// The gradient of <see cref="Attention"/> with respect to qkv for the output gradient dOutput [batch·T, d], by the
    /// chain rule written out: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = softmax's Jacobian applied to dP, dQ = dS·K/√dh,
    /// dK = dSᵀ·Q/√dh.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">model is not a multiple of heads, or a span is shorter than its shape.</exception>
    public static double[] AttentionBackward(ReadOnlySpan<double> qkv, ReadOnlySpan<double> dOutput, int batch, int positions, int model, int heads, bool causal)
    {
        int dh = AttentionShape(qkv, batch, positions, model, heads);
        int T = positions, d = model, stride = 3 * d;
        Sizes.Need(dOutput.Length, (long)batch * T * d, nameof(dOutput), "dOutput [batch·positions = {0}·{1}, model = {2}]", batch, positions, model);
        double scale = 1 / Math.Sqrt(dh);
        var g = new double[batch * T * stride];
        for (int n = 0; n < batch; n++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < T; i++)
                {
                    var p = AttentionRow(qkv, n, h, i, T, d, dh, causal);
                    int qi = (n * T + i) * stride + h * dh, oi = (n * T + i) * d + h * dh;
                    var dp = new double[T];
                    for (int j = 0; j < T; j++)
                    {
                        int vj = (n * T + j) * stride + 2 * d + h * dh;
                        for (int c = 0; c < dh; c++)
                        {
                            dp[j] += dOutput[oi + c] * qkv[vj + c];
                            g[vj + c] += p[j] * dOutput[oi + c]; // dV
                        }
                    }
                    for (int j = 0; j < T; j++)
                    {
                        // ∂p_j/∂s_l = p_j·(δ_jl − p_l), so ∂L/∂s_l = Σ_j dp_j·p_j·(δ_jl − p_l).
                        double ds = 0;
                        for (int l = 0; l < T; l++) ds += dp[l] * p[l] * ((l == j ? 1 : 0) - p[j]);
                        int kj = (n * T + j) * stride + d + h * dh;
                        for (int c = 0; c < dh; c++)
                        {
                            g[qi + c] += ds * scale * qkv[kj + c]; // dQ
                            g[kj + c] += ds * scale * qkv[qi + c]; // dK
                        }
                    }
                }
        return g;
    }

    // The probabilities of query i of head h of sample n over the T keys.
    private static double[] AttentionRow(ReadOnlySpan<double> qkv, int n, int h, int i, int T, int d, int dh, bool causal)
    {
        int stride = 3 * d, seen = causal ? i + 1 : T;
        var s = new double[T];
        double max = double.NegativeInfinity;
        for (int j = 0; j < seen; j++)
        {
            double dot = 0;
            for (int c = 0; c < dh; c++) dot += qkv[(n * T + i) * stride + h * dh + c] * qkv[(n * T + j) * stride + d + h * dh + c];
            s[j] = dot / Math.Sqrt(dh);
            max = Math.Max(max, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < seen; j++) sum += s[j] = Math.Exp(s[j] - max);
        for (int j = 0; j < seen; j++) s[j] /= sum;
        return s; // the masked keys stay 0
    }

    // The checks of the attention twins; returns dh.
    private static int AttentionShape(ReadOnlySpan<double> qkv, int batch, int positions, int model, int heads)
    {
        Sizes.Positive(positions, nameof(positions));
        Sizes.Positive(model, nameof(model));
        Sizes.Positive(heads, nameof(heads));
        if (model % heads != 0) throw new ArgumentException($"model = {model} is not a multiple of heads = {heads}.", nameof(heads));
        long n = Sizes.Product(batch, nameof(batch), positions, nameof(positions), model, nameof(model));
        Sizes.Need(qkv.Length, 3 * n, nameof(qkv), "qkv [batch·positions = {0}·{1}, 3·model = 3·{2}]", batch, positions, model);
        return model / heads;
    }

    /// <summary>y[r] = table[ids[r]], [ids, dimension].</summary>
    /// <exception cref="ArgumentOutOfRangeException">vocabulary or dimension is less than 1, or an id is outside [0, vocabulary).</exception>
    /// <exception cref="ArgumentException">table is shorter than [vocabulary, dimension].</exception>
    public static double[] Embedding(ReadOnlySpan<int> ids, ReadOnlySpan<double> table, int vocabulary, int dimension)
    {
        EmbeddingShape(ids, vocabulary, dimension);
        Sizes.Need(table.Length, (long)vocabulary * dimension, nameof(table), "table [vocabulary = {0}, dimension = {1}]", vocabulary, dimension);
        var y = new double[ids.Length * dimension];
        for (int r = 0; r < ids.Length; r++)
            for (int c = 0; c < dimension; c++) y[r * dimension + c] = table[ids[r] * dimension + c];
        return y;
    }

    /// <summary>The gradient of <see cref="Embedding"/>'s table: row v is the sum of dy's rows whose id is v.</summary>
    /// <exception cref="ArgumentOutOfRangeException">vocabulary or dimension is less than 1, or an id is outside [0, vocabulary).</exception>
    /// <exception cref="ArgumentException">dy is shorter than [ids, dimension].</exception>
    public static double[] EmbeddingBackward(ReadOnlySpan<int> ids, ReadOnlySpan<double> dy, int vocabulary, int dimension)
    {
        EmbeddingShape(ids, vocabulary, dimension);
        Sizes.Need(dy.Length, (long)ids.Length * dimension, nameof(dy), "dy [rows = {0}, dimension = {1}]", ids.Length, dimension);
        var g = new double[vocabulary * dimension];
        for (int r = 0; r < ids.Length; r++)
            for (int c = 0; c < dimension; c++) g[ids[r] * dimension + c] += dy[r * dimension + c];
        return g;
    }

    private static void EmbeddingShape(ReadOnlySpan<int> ids, int vocabulary, int dimension)
    {
        Sizes.Positive(vocabulary, nameof(vocabulary));
        Sizes.Positive(dimension, nameof(dimension));
        foreach (int id in ids)
            if (id < 0 || id >= vocabulary) throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary of {vocabulary}.");
    }

    /// <summary>PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i + 1] = cos(t / 10000^(2i/d)), [positions, dimension].</summary>
    /// <exception cref="ArgumentOutOfRangeException">positions is negative or dimension less than 1.</exception>
    public static double[] SinusoidalEncoding(int positions, int dimension)
    {
        Sizes.Positive(dimension, nameof(dimension));
        var pe = new double[Sizes.Product(positions, nameof(positions), dimension, nameof(dimension))];
        for (int t = 0; t < positions; t++)
            for (int i = 0; 2 * i < dimension; i++)
            {
                double angle = t / Math.Pow(10000, 2.0 * i / dimension);
                pe[t * dimension + 2 * i] = Math.Sin(angle);
                if (2 * i + 1 < dimension) pe[t * dimension + 2 * i + 1] = Math.Cos(angle);
            }
        return pe;
    }

    /// <summary>GELU's tanh approximation: ½·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))).</summary>
    public static double GELUTanh(double z) => 0.5 * z * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));

    /// <summary>
    /// The derivative of <see cref="GELUTanh"/>: ½·(1 + tanh u) + ½·z·(1 − tanh² u)·u′, with u = √(2/π)·(z + 0.044715·z³)
    /// and u′ = √(2/π)·(1 + 3·0.044715·z²).
    /// </summary>
    public static double GELUTanhDerivative(double z)
    {
        double k = Math.Sqrt(2 / Math.PI), t = Math.Tanh(k * (z + 0.044715 * z * z * z));
        return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * k * (1 + 3 * 0.044715 * z * z);
    }
}
