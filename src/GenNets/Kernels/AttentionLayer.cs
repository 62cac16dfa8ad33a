using System;

namespace GenNets.Kernels;

/// <summary>
/// A whole self-attention layer in inference, as the generated code calls it: the input projection, the heads
/// (<see cref="Attention.Forward"/>) and the output projection, with q, k, v and the heads' outputs in per-thread
/// buffers. Training calls the three steps itself, keeping what backward needs.
/// </summary>
public static class AttentionLayer
{
    [ThreadStatic] private static float[]? t_qkv;
    [ThreadStatic] private static float[]? t_heads;

    /// <summary>
    /// Y = out_proj(attention(X·in_projᵀ + in_bias)) for <paramref name="batch"/> samples of [positions, model] in X.
    /// Y may be X: X is read whole (into q, k and v) before Y is written. Allocates only when a thread first sees a
    /// larger batch.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or zero, or the batch would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">The model's width does not divide by the heads, or a span is shorter than its shape.</exception>
    public static void Inference(ReadOnlySpan<float> x, ReadOnlySpan<float> inWeight, ReadOnlySpan<float> inBias, ReadOnlySpan<float> outWeight, ReadOnlySpan<float> outBias,
        Span<float> y, int batch, int positions, int model, int heads, bool causal)
    {
        Sizes.Positive(positions, nameof(positions));
        Sizes.Positive(model, nameof(model));
        int rows = (int)Sizes.Product(batch, nameof(batch), positions, nameof(positions));
        var qkv = Scratch.Get(ref t_qkv, (int)Sizes.Product(rows, "rows", 3 * model, nameof(model)));
        var output = Scratch.Get(ref t_heads, (int)Sizes.Product(rows, "rows", model, nameof(model)));
        Gemm.DenseForward(x, inWeight, inBias, qkv, rows, 3 * model, model);
        Attention.Forward(qkv, output, default, batch, positions, model, heads, causal);
        Gemm.DenseForward(output, outWeight, outBias, y, rows, model, model);
    }
}
