using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenNets.Kernels;

// The weight gradient's micro-kernels of the shifted-row convolutions: small patches channels-last, and 3×3 kernels as
// partial sums a vector lane each (LaneGradients), whose lanes are summed once per call.
public static partial class Convolution
{
    // The weight and bias gradients over one sample, channels-last, for a patch of at most nine taps, a vector of
    // filters at a time (outC a multiple of the lanes): for the filters f of a block, weights[(block·patch + t)·L + f] +=
    // Σ over positions p of input[offsets[t] + p] · dYᵀ[p, f] and bias[f] += Σ dYᵀ[p, f], with dYᵀ in the wide layout
    // (rows `ld` apart, zero at the dropped positions). Each filter's sums are the same at any width.
    internal static void SmallPatchGradients<TWidth, TVector>(ReadOnlySpan<float> input, int[] offsets, int patch, ReadOnlySpan<float> dyT, int ld, int wide,
        Span<float> weights, Span<float> bias, int outC)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count;
        for (int block = 0; block < outC; block += lanes)
            SmallPatchBlock<TWidth, TVector>(ref MemoryMarshal.GetReference(input), offsets, patch, ref Unsafe.Add(ref MemoryMarshal.GetReference(dyT), block), ld, wide,
                ref Unsafe.Add(ref MemoryMarshal.GetReference(weights), block * patch), ref Unsafe.Add(ref MemoryMarshal.GetReference(bias), block));
    }

    // One block of SmallPatchGradients: weights[t·L + f] and bias[f] for the block's L filters. Nine accumulators, one a
    // tap, stay in registers over all positions; a patch of fewer taps repeats its last (summed, never stored). The
    // order of the sums is not the filter-major kernel's, so the last bits may differ from it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SmallPatchBlock<TWidth, TVector>(ref float input, int[] offsets, int patch, ref float dyT, int ld, int wide, ref float weights, ref float bias)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int last = patch - 1;
        ref float r0 = ref Unsafe.Add(ref input, offsets[0]);
        ref float r1 = ref Unsafe.Add(ref input, offsets[Math.Min(1, last)]);
        ref float r2 = ref Unsafe.Add(ref input, offsets[Math.Min(2, last)]);
        ref float r3 = ref Unsafe.Add(ref input, offsets[Math.Min(3, last)]);
        ref float r4 = ref Unsafe.Add(ref input, offsets[Math.Min(4, last)]);
        ref float r5 = ref Unsafe.Add(ref input, offsets[Math.Min(5, last)]);
        ref float r6 = ref Unsafe.Add(ref input, offsets[Math.Min(6, last)]);
        ref float r7 = ref Unsafe.Add(ref input, offsets[Math.Min(7, last)]);
        ref float r8 = ref Unsafe.Add(ref input, offsets[Math.Min(8, last)]);
        TVector s0 = TWidth.Zero, s1 = TWidth.Zero, s2 = TWidth.Zero, s3 = TWidth.Zero, s4 = TWidth.Zero, s5 = TWidth.Zero, s6 = TWidth.Zero, s7 = TWidth.Zero,
            s8 = TWidth.Zero, sb = TWidth.Zero;
        ref float d = ref dyT;
        for (nint p = 0; p < wide; p++)
        {
            var g = TWidth.Load(ref d);
            s0 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref r0, p)), g, s0);
            s1 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref r1, p)), g, s1);
            s2 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref r2, p)), g, s2);
            s3 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref r3, p)), g, s3);
            s4 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref r4, p)), g, s4);
            s5 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref r5, p)), g, s5);
            s6 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref r6, p)), g, s6);
            s7 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref r7, p)), g, s7);
            s8 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref r8, p)), g, s8);
            sb = TWidth.Add(sb, g);
            d = ref Unsafe.Add(ref d, ld);
        }
        AddTo<TWidth, TVector>(ref weights, 0, s0);
        if (patch > 1) AddTo<TWidth, TVector>(ref weights, 1, s1);
        if (patch > 2) AddTo<TWidth, TVector>(ref weights, 2, s2);
        if (patch > 3) AddTo<TWidth, TVector>(ref weights, 3, s3);
        if (patch > 4) AddTo<TWidth, TVector>(ref weights, 4, s4);
        if (patch > 5) AddTo<TWidth, TVector>(ref weights, 5, s5);
        if (patch > 6) AddTo<TWidth, TVector>(ref weights, 6, s6);
        if (patch > 7) AddTo<TWidth, TVector>(ref weights, 7, s7);
        if (patch > 8) AddTo<TWidth, TVector>(ref weights, 8, s8);
        AddTo<TWidth, TVector>(ref bias, 0, sb);
    }

    // Whether the weight gradient of g may go by LaneGradients: stride 1 (the shifted rows), a 3×3 kernel, and
    // AVX-512's 32 registers (a block keeps 27 sums in them; with sixteen, 256-bit blocks spill and lose to the turned
    // product: 16→16 on 28×28, 64 samples, 3.2 → 5.0 ms, DOTNET_EnableAVX512=0).
    private static bool LaneWise(Conv2DGeometry g) =>
        Vector512.IsHardwareAccelerated && g.RowOffsets is not null && g.KernelHeight == 3 && g.KernelWidth == 3 && g.Patch >= 9;

    // Filters a block of LaneBlock takes: 1, 2 or 3.
    internal interface IFilters { static abstract int Count { get; } }
    internal readonly struct OneFilter : IFilters { public static int Count => 1; }
    internal readonly struct TwoFilters : IFilters { public static int Count => 2; }
    internal readonly struct ThreeFilters : IFilters { public static int Count => 3; }

    // The weight gradient of a stride-1 3×3 convolution over one sample, as partial sums a lane each: for every filter
    // f and tap t, sums[(f·patch + t)·L + j] += Σ over the vectors v of input[offsets[t] + v·L + j] · dy[f·ld + v·L + j],
    // with the sample's padded input and dY in the wide layout (zero at the dropped positions and up to `wide`, a
    // multiple of L). Vectors run along the positions, so the input's shifted rows and dY's rows are loaded whole
    // (nothing turned around, nothing broadcast) and a block of up to three filters × one channel's nine taps keeps its
    // 27 sums in registers over the whole sample. The lanes are summed once per call (SumLanes), not per sample.
    internal static void LaneGradients<TWidth, TVector>(ReadOnlySpan<float> input, int[] offsets, int patch, ReadOnlySpan<float> dy, int ld, int wide,
        Span<float> sums, int outC)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count;
        if (wide % lanes != 0 || patch % 9 != 0 || offsets.Length < patch || sums.Length < outC * patch * lanes || dy.Length < (outC - 1) * ld + wide)
            throw new ArgumentException($"LaneGradients: {wide} positions, a patch of {patch}, {outC} filters, dY {dy.Length} floats, sums {sums.Length}.");
        int reach = 0;
        for (int t = 0; t < patch; t++) reach = Math.Max(reach, offsets[t] + 2);
        if (input.Length < reach + wide) throw new ArgumentException($"LaneGradients: the input holds {input.Length} floats, its rows reach {reach + wide}.");
        ref float rin = ref MemoryMarshal.GetReference(input);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rs = ref MemoryMarshal.GetReference(sums);
        nint vectors = wide / lanes;
        for (int f = 0; f < outC;)
        {
            // 16 filters as 3, 3, 3, 3, 2, 2: a block of three leaves sums for nothing but 27 + 3 + 1 registers.
            int left = outC - f, count = left == 1 ? 1 : left == 2 || left == 4 ? 2 : 3;
            for (int t = 0; t < patch; t += 9)
            {
                for (int k = 0; k < 9; k++)
                    if (offsets[t + k] != offsets[t + k / 3 * 3] + k % 3)
                        throw new ArgumentException("LaneGradients: each channel's taps must be three runs of three.");
                ref float row0 = ref Unsafe.Add(ref rin, offsets[t]);
                ref float row1 = ref Unsafe.Add(ref rin, offsets[t + 3]);
                ref float row2 = ref Unsafe.Add(ref rin, offsets[t + 6]);
                ref float d = ref Unsafe.Add(ref rdy, f * ld);
                ref float s = ref Unsafe.Add(ref rs, (f * patch + t) * lanes);
                if (count == 3) LaneBlock<TWidth, TVector, ThreeFilters>(ref row0, ref row1, ref row2, ref d, ld, vectors, ref s, patch * lanes);
                else if (count == 2) LaneBlock<TWidth, TVector, TwoFilters>(ref row0, ref row1, ref row2, ref d, ld, vectors, ref s, patch * lanes);
                else LaneBlock<TWidth, TVector, OneFilter>(ref row0, ref row1, ref row2, ref d, ld, vectors, ref s, patch * lanes);
            }
            f += count;
        }
    }

    // One block of LaneGradients: TF filters (dY rows `ld` apart) × the nine taps of three rows of three (row0..row2,
    // each tap one float on from the one before), over `vectors` vectors of positions; each sum added to its lanes
    // at s[(filter·patch + tap)·L], filters `filterStride` floats apart.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LaneBlock<TWidth, TVector, TF>(ref float row0, ref float row1, ref float row2, ref float d, nint ld, nint vectors, ref float s, nint filterStride)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct where TF : struct, IFilters
    {
        TVector a0 = TWidth.Zero, a1 = TWidth.Zero, a2 = TWidth.Zero, a3 = TWidth.Zero, a4 = TWidth.Zero, a5 = TWidth.Zero, a6 = TWidth.Zero, a7 = TWidth.Zero, a8 = TWidth.Zero;
        TVector b0 = TWidth.Zero, b1 = TWidth.Zero, b2 = TWidth.Zero, b3 = TWidth.Zero, b4 = TWidth.Zero, b5 = TWidth.Zero, b6 = TWidth.Zero, b7 = TWidth.Zero, b8 = TWidth.Zero;
        TVector c0 = TWidth.Zero, c1 = TWidth.Zero, c2 = TWidth.Zero, c3 = TWidth.Zero, c4 = TWidth.Zero, c5 = TWidth.Zero, c6 = TWidth.Zero, c7 = TWidth.Zero, c8 = TWidth.Zero;
        ref float d1 = ref Unsafe.Add(ref d, TF.Count > 1 ? ld : 0);
        ref float d2 = ref Unsafe.Add(ref d, TF.Count > 2 ? 2 * ld : 0);
        nuint lanes = (nuint)TWidth.Count, end = (nuint)vectors * lanes;
        for (nuint p = 0; p < end; p += lanes)
        {
            var g0 = TWidth.Load(ref d, p);
            var g1 = TF.Count > 1 ? TWidth.Load(ref d1, p) : g0;
            var g2 = TF.Count > 2 ? TWidth.Load(ref d2, p) : g0;
            var x = TWidth.Load(ref row0, p);
            a0 = TWidth.MultiplyAdd(x, g0, a0); if (TF.Count > 1) b0 = TWidth.MultiplyAdd(x, g1, b0); if (TF.Count > 2) c0 = TWidth.MultiplyAdd(x, g2, c0);
            x = TWidth.Load(ref row0, p + 1);
            a1 = TWidth.MultiplyAdd(x, g0, a1); if (TF.Count > 1) b1 = TWidth.MultiplyAdd(x, g1, b1); if (TF.Count > 2) c1 = TWidth.MultiplyAdd(x, g2, c1);
            x = TWidth.Load(ref row0, p + 2);
            a2 = TWidth.MultiplyAdd(x, g0, a2); if (TF.Count > 1) b2 = TWidth.MultiplyAdd(x, g1, b2); if (TF.Count > 2) c2 = TWidth.MultiplyAdd(x, g2, c2);
            x = TWidth.Load(ref row1, p);
            a3 = TWidth.MultiplyAdd(x, g0, a3); if (TF.Count > 1) b3 = TWidth.MultiplyAdd(x, g1, b3); if (TF.Count > 2) c3 = TWidth.MultiplyAdd(x, g2, c3);
            x = TWidth.Load(ref row1, p + 1);
            a4 = TWidth.MultiplyAdd(x, g0, a4); if (TF.Count > 1) b4 = TWidth.MultiplyAdd(x, g1, b4); if (TF.Count > 2) c4 = TWidth.MultiplyAdd(x, g2, c4);
            x = TWidth.Load(ref row1, p + 2);
            a5 = TWidth.MultiplyAdd(x, g0, a5); if (TF.Count > 1) b5 = TWidth.MultiplyAdd(x, g1, b5); if (TF.Count > 2) c5 = TWidth.MultiplyAdd(x, g2, c5);
            x = TWidth.Load(ref row2, p);
            a6 = TWidth.MultiplyAdd(x, g0, a6); if (TF.Count > 1) b6 = TWidth.MultiplyAdd(x, g1, b6); if (TF.Count > 2) c6 = TWidth.MultiplyAdd(x, g2, c6);
            x = TWidth.Load(ref row2, p + 1);
            a7 = TWidth.MultiplyAdd(x, g0, a7); if (TF.Count > 1) b7 = TWidth.MultiplyAdd(x, g1, b7); if (TF.Count > 2) c7 = TWidth.MultiplyAdd(x, g2, c7);
            x = TWidth.Load(ref row2, p + 2);
            a8 = TWidth.MultiplyAdd(x, g0, a8); if (TF.Count > 1) b8 = TWidth.MultiplyAdd(x, g1, b8); if (TF.Count > 2) c8 = TWidth.MultiplyAdd(x, g2, c8);
        }
        AddNine<TWidth, TVector>(ref s, a0, a1, a2, a3, a4, a5, a6, a7, a8);
        if (TF.Count > 1) AddNine<TWidth, TVector>(ref Unsafe.Add(ref s, filterStride), b0, b1, b2, b3, b4, b5, b6, b7, b8);
        if (TF.Count > 2) AddNine<TWidth, TVector>(ref Unsafe.Add(ref s, 2 * filterStride), c0, c1, c2, c3, c4, c5, c6, c7, c8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddNine<TWidth, TVector>(ref float s, TVector v0, TVector v1, TVector v2, TVector v3, TVector v4, TVector v5, TVector v6, TVector v7, TVector v8)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        AddTo<TWidth, TVector>(ref s, 0, v0);
        AddTo<TWidth, TVector>(ref s, 1, v1);
        AddTo<TWidth, TVector>(ref s, 2, v2);
        AddTo<TWidth, TVector>(ref s, 3, v3);
        AddTo<TWidth, TVector>(ref s, 4, v4);
        AddTo<TWidth, TVector>(ref s, 5, v5);
        AddTo<TWidth, TVector>(ref s, 6, v6);
        AddTo<TWidth, TVector>(ref s, 7, v7);
        AddTo<TWidth, TVector>(ref s, 8, v8);
    }

    // weights[i] = the sum of the L lanes of sums[i·L …], pairwise in a fixed order, for `count` entries.
    internal static void SumLanes<TWidth, TVector>(ReadOnlySpan<float> sums, Span<float> weights, int count)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count;
        if (sums.Length < count * lanes || weights.Length < count) throw new ArgumentException($"SumLanes: {sums.Length} sums, {weights.Length} weights, {count} wanted.");
        ref float rs = ref MemoryMarshal.GetReference(sums);
        for (int i = 0; i < count; i++) weights[i] = TWidth.Sum(TWidth.Load(ref rs, (nuint)(i * lanes)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TWidth, TVector>(ref float target, int vector, TVector value)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint at = (nuint)(TWidth.Count * vector);
        TWidth.Store(TWidth.Add(TWidth.Load(ref target, at), value), ref target, at);
    }
}
