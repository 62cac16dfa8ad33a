using System;
using System.Runtime.CompilerServices;

namespace GenNets.Kernels;

/// <summary>
/// Inverted dropout. The keep/drop decision for element e of training step s is a hash of
/// (seed, s, e), not a draw from a sequential generator: the mask is the same whatever order or
/// thread computes it, which keeps training bit-reproducible for a given seed.
/// </summary>
public static class Dropout
{
    /// <summary>
    /// Writes mask[i] = 0 (dropped) or 1/(1 − p) (kept) and y = x·mask. Elements are numbered from
    /// <paramref name="firstElement"/> so a batch split into parts draws the same mask as the whole.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float probability, ulong seed, long step, long firstElement)
    {
        float keepScale = 1f / (1f - probability);
        // Compare 24 random bits against p·2²⁴, exact for every float p.
        uint threshold = (uint)(probability * (1 << 24));
        ulong stream = SeededRandom.Mix(seed ^ SeededRandom.Mix((ulong)step + 0x9E3779B97F4A7C15UL));
        for (int i = 0; i < x.Length; i++)
        {
            uint bits = (uint)(SeededRandom.Mix(stream + (ulong)(firstElement + i)) >> 40);
            float m = bits < threshold ? 0f : keepScale;
            mask[i] = m;
            y[i] = x[i] * m;
        }
    }

    /// <summary>dx = dy·mask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Backward(ReadOnlySpan<float> mask, ReadOnlySpan<float> dy, Span<float> dx)
        => System.Numerics.Tensors.TensorPrimitives.Multiply(dy, mask, dx);
}
