using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        ulong first = stream + (ulong)firstElement;
        if (Vector512.IsHardwareAccelerated) Forward<Width512, Vector512<float>>(x, y, mask, keepScale, threshold, first);
        else if (Vector256.IsHardwareAccelerated) Forward<Width256, Vector256<float>>(x, y, mask, keepScale, threshold, first);
        else Forward<Width128, Vector128<float>>(x, y, mask, keepScale, threshold, first);
    }

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, Span{float}, Span{float}, float, ulong, long, long)"/> at one width, over x's
    /// length (unchecked): element i is dropped when the top 24 bits of <see cref="SeededRandom.Mix"/>(first + i) are below
    /// <paramref name="threshold"/>. Integer bits and one product: the same mask and outputs at every width.
    /// </summary>
    internal static void Forward<TWidth, TVector>(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float keepScale, uint threshold, ulong first)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rm = ref MemoryMarshal.GetReference(mask);
        for (; i + TWidth.Count <= n; i += TWidth.Count) Block<TWidth, TVector>(ref rx, ref ry, ref rm, (nuint)i, keepScale, threshold, first + (ulong)i);
        if (i == n) return;
        const int L = Activations.WidestLanes;
        Span<float> t = stackalloc float[3 * L];
        x.Slice(i).CopyTo(t);
        Block<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], 0, keepScale, threshold, first + (ulong)i);
        t.Slice(L, n - i).CopyTo(y.Slice(i));
        t.Slice(2 * L, n - i).CopyTo(mask.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block<TWidth, TVector>(ref float x, ref float y, ref float mask, nuint i, float keepScale, uint threshold, ulong first)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        // Both sides are integers below 2²⁴, exact as floats.
        var dropped = TWidth.LessThan(TWidth.MixedBits24(first), TWidth.Broadcast(threshold));
        var m = TWidth.Select(dropped, TWidth.Zero, TWidth.Broadcast(keepScale));
        TWidth.Store(m, ref mask, i);
        TWidth.Store(TWidth.Multiply(TWidth.Load(ref x, i), m), ref y, i);
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
