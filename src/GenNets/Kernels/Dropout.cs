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
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is not in [0, 1).</exception>
    /// <exception cref="ArgumentException"><paramref name="y"/> or <paramref name="mask"/> is shorter than <paramref name="x"/>.</exception>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float probability, ulong seed, long step, long firstElement)
    {
        if (!(probability >= 0f && probability < 1f))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, $"A dropout probability must be at least 0 and less than 1, but is {probability}.");
        Sizes.AsLong(y.Length, x.Length, nameof(y), "x");
        Sizes.AsLong(mask.Length, x.Length, nameof(mask), "x");
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
    /// <exception cref="ArgumentException"><paramref name="mask"/> and <paramref name="dy"/> differ in length, or <paramref name="dx"/> is shorter than them.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Backward(ReadOnlySpan<float> mask, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (mask.Length != dy.Length)
            throw new ArgumentException($"The mask holds {mask.Length} values, but dy {dy.Length}: they must be the same.", nameof(mask));
        Sizes.AsLong(dx.Length, dy.Length, nameof(dx), "dy");
        System.Numerics.Tensors.TensorPrimitives.Multiply(dy, mask, dx);
    }
}
