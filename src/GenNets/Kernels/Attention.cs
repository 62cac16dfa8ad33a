using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenNets.Kernels;

/// <summary>
/// The core of multi-head scaled dot-product attention, in PyTorch's <c>nn.MultiheadAttention</c> layout: the input
/// projection's output <c>qkv</c> [batch·T, 3d] holds q in columns 0 to d − 1, k in d to 2d − 1 and v in 2d to 3d − 1;
/// head h takes columns h·dh to (h + 1)·dh − 1 of each (dh = d / heads), and the output [batch·T, d] is the heads'
/// results side by side, before the output projection. Scores are q·k / √dh; <c>causal</c> masks the keys after each
/// query (their probabilities are exactly 0). The softmax subtracts each row's largest score, so that scores of any
/// size (±1e4, say) give no overflow.
/// </summary>
/// <remarks>
/// Each (sample, head) gathers its keys transposed, [dh, T rounded up to whole vectors], so that a query's scores are dh
/// multiply-adds of whole vectors over the key positions, and its values as rows [T, dh rounded up], so that the
/// probability-weighted sum is a multiply-add of whole vectors per key; the padding is zero, and lanes past a row's last
/// key are masked before the softmax. Every sample is computed on its own, the same way whatever the batch: a batch
/// split over threads gives the bits of the whole. <see cref="Step"/> runs a query through the same row code as
/// <see cref="Forward"/>, so that generation with a key/value cache gives Forward's causal rows bit for bit.
/// </remarks>
public static class Attention
{
    // Per thread: the gathered keys, values and gradients of one (sample, head), and a row or two.
    [ThreadStatic] private static float[]? t_work;

    /// <summary>
    /// output = the heads' softmax(q·kᵀ/√dh)·v, concatenated; <paramref name="probabilities"/> [batch, heads, T, T], if not
    /// empty, receives the softmax (0 where masked) for <see cref="Backward"/>. With it empty (inference) nothing is kept.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">positions, model or heads is less than 1, batch is negative, or a span would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">model is not a multiple of heads, or a span is shorter than its shape.</exception>
    public static void Forward(ReadOnlySpan<float> qkv, Span<float> output, Span<float> probabilities, int batch, int positions, int model, int heads, bool causal)
    {
        long n = Shape(batch, positions, model, heads);
        Sizes.Need(qkv.Length, 3 * n, nameof(qkv), "qkv [batch·positions = {0}·{1}, 3·model = 3·{2}]", batch, positions, model);
        Sizes.Need(output.Length, n, nameof(output), "output [batch·positions = {0}·{1}, model = {2}]", batch, positions, model);
        if (!probabilities.IsEmpty)
            Sizes.Need(probabilities.Length, ProbabilityCount(batch, positions, heads), nameof(probabilities), "probabilities [batch = {0}, heads = {1}, positions² = {2}²]", batch, heads, positions);
        if (Vector512.IsHardwareAccelerated) Forward<Width512, Vector512<float>>(qkv, output, probabilities, batch, positions, model, heads, causal);
        else if (Vector256.IsHardwareAccelerated) Forward<Width256, Vector256<float>>(qkv, output, probabilities, batch, positions, model, heads, causal);
        else Forward<Width128, Vector128<float>>(qkv, output, probabilities, batch, positions, model, heads, causal);
    }

    /// <summary>
    /// The gradient of <see cref="Forward"/>: writes (overwrites) dq, dk and dv into <paramref name="qkvGradient"/>
    /// [batch·T, 3d] from the output's gradient and the probabilities Forward kept. With P a head's probabilities and
    /// S its scores: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dQ = dS·K/√dh, dK = dSᵀ·Q/√dh.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">positions, model or heads is less than 1, batch is negative, or a span would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">model is not a multiple of heads, or a span is shorter than its shape.</exception>
    public static void Backward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities, ReadOnlySpan<float> outputGradient, Span<float> qkvGradient,
        int batch, int positions, int model, int heads, bool causal)
    {
        long n = Shape(batch, positions, model, heads);
        Sizes.Need(qkv.Length, 3 * n, nameof(qkv), "qkv [batch·positions = {0}·{1}, 3·model = 3·{2}]", batch, positions, model);
        Sizes.Need(probabilities.Length, ProbabilityCount(batch, positions, heads), nameof(probabilities), "probabilities [batch = {0}, heads = {1}, positions² = {2}²]", batch, heads, positions);
        Sizes.Need(outputGradient.Length, n, nameof(outputGradient), "outputGradient [batch·positions = {0}·{1}, model = {2}]", batch, positions, model);
        Sizes.Need(qkvGradient.Length, 3 * n, nameof(qkvGradient), "qkvGradient [batch·positions = {0}·{1}, 3·model = 3·{2}]", batch, positions, model);
        if (Vector512.IsHardwareAccelerated) Backward<Width512, Vector512<float>>(qkv, probabilities, outputGradient, qkvGradient, batch, positions, model, heads, causal);
        else if (Vector256.IsHardwareAccelerated) Backward<Width256, Vector256<float>>(qkv, probabilities, outputGradient, qkvGradient, batch, positions, model, heads, causal);
        else Backward<Width128, Vector128<float>>(qkv, probabilities, outputGradient, qkvGradient, batch, positions, model, heads, causal);
    }

    /// <summary>
    /// One step of causal generation with a key/value cache, for one sample: copies the k and v of
    /// <paramref name="qkvRow"/> (3d values) into row <paramref name="position"/> of <paramref name="keys"/> and
    /// <paramref name="values"/> ([capacity, d] each), then writes to <paramref name="output"/> (d values) the attention
    /// of its q over rows 0 to <paramref name="position"/>: bit for bit <see cref="Forward"/>'s row
    /// <paramref name="position"/>, causal, over the whole prefix.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">model or heads is less than 1, position is negative, or the cache rows would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">model is not a multiple of heads, or a span is shorter than it needs (the caches: position + 1 rows).</exception>
    public static void Step(ReadOnlySpan<float> qkvRow, Span<float> keys, Span<float> values, int position, Span<float> output, int model, int heads)
    {
        Heads(model, heads);
        Sizes.NotNegative(position, nameof(position));
        long cached = (position + 1L) * model;
        Sizes.Fits(cached, nameof(keys), "the cache's rows 0 to position");
        Sizes.Need(qkvRow.Length, 3L * model, nameof(qkvRow), "one row of q, k and v (3·model = 3·{0})", model);
        Sizes.Need(keys.Length, cached, nameof(keys), "rows 0 to position = {0} of model = {1}", position, model);
        Sizes.Need(values.Length, cached, nameof(values), "rows 0 to position = {0} of model = {1}", position, model);
        Sizes.Need(output.Length, model, nameof(output), "one row of model = {0}", model);
        if (Vector512.IsHardwareAccelerated) Step<Width512, Vector512<float>>(qkvRow, keys, values, position, output, model, heads);
        else if (Vector256.IsHardwareAccelerated) Step<Width256, Vector256<float>>(qkvRow, keys, values, position, output, model, heads);
        else Step<Width128, Vector128<float>>(qkvRow, keys, values, position, output, model, heads);
    }

    /// <summary><see cref="Forward"/> at one width (unchecked).</summary>
    internal static void Forward<TWidth, TVector>(ReadOnlySpan<float> qkv, Span<float> output, Span<float> probabilities, int batch, int positions, int model, int heads, bool causal)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int T = positions, d = model, dh = d / heads, stride = 3 * d;
        int tp = Padded<TWidth, TVector>(T), dhp = Padded<TWidth, TVector>(dh);
        float scale = Scale(dh);
        var work = Scratch.Get(ref t_work, dh * tp + T * dhp + Block * (tp + dhp));
        var keysT = work.Slice(0, dh * tp);
        var vals = work.Slice(dh * tp, T * dhp);
        var rows = work.Slice(dh * tp + T * dhp, Block * tp);
        var outRows = work.Slice(dh * tp + T * dhp + Block * tp, Block * dhp);
        for (int n = 0; n < batch; n++)
        {
            int first = n * T;
            for (int h = 0; h < heads; h++)
            {
                GatherTransposed(qkv, first * stride + d + h * dh, stride, T, dh, keysT, tp);
                GatherRows(qkv, first * stride + 2 * d + h * dh, stride, T, dh, vals, dhp);
                for (int i = 0; i < T; i += Block)
                {
                    int taken = Math.Min(Block, T - i);
                    RowBlock<TWidth, TVector>(qkv.Slice((first + i) * stride + h * dh), stride, taken, dh, keysT, tp, vals, dhp, causal ? i + 1 : T, causal, scale, rows, outRows);
                    for (int r = 0; r < taken; r++)
                    {
                        CopyRow(ref Unsafe.Add(ref MemoryMarshal.GetReference(outRows), r * dhp), ref Unsafe.Add(ref MemoryMarshal.GetReference(output), (first + i + r) * d + h * dh), dh);
                        if (probabilities.IsEmpty) continue;
                        int count = causal ? i + r + 1 : T;
                        var kept = probabilities.Slice(((n * heads + h) * T + i + r) * T, T);
                        rows.Slice(r * tp, count).CopyTo(kept);
                        kept.Slice(count).Clear();
                    }
                }
            }
        }
    }

    // Queries a block: each key's column of the gathered keys and each value's row is loaded once for eight queries,
    // whose sums are independent chains (four chains left the multiply-adds waiting on each other's latency; with
    // Softmax4, eight samples of PEERS.md's Transformer went 64 → 49 µs, Xeon, AVX-512, one thread).
    private const int Block = 8;

    // Up to eight consecutive queries of one head (`taken`; the rest of the block repeats the last), q at q[r·qStride],
    // each computed as Row computes it: the same products summed in the same order, so the same bits (a query's
    // probabilities past its own keys are 0, and adding 0·v changes no sum). The first query sees `firstCount` keys,
    // each next one more when causal. rows [Block, stride] ← the probabilities, outRows [Block, dhp] ← the outputs.
    private static void RowBlock<TWidth, TVector>(ReadOnlySpan<float> q, int qStride, int taken, int dh, ReadOnlySpan<float> keysT, int stride,
        ReadOnlySpan<float> values, int dhp, int firstCount, bool causal, float scale, Span<float> rows, Span<float> outRows)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int W = TWidth.Count, lastCount = causal ? firstCount + taken - 1 : firstCount, vectors = (lastCount + W - 1) / W;
        ref float r0 = ref MemoryMarshal.GetReference(rows);
        // The scores, then scaled in place: the bits of Row's, which scales each sum as it stores it.
        Block8<TWidth, TVector>(ref MemoryMarshal.GetReference(q), qStride, taken, dh, ref MemoryMarshal.GetReference(keysT), stride, vectors * W, ref r0, stride, Block);
        var sc = TWidth.Broadcast(scale);
        for (int r = 0; r < Block; r++)
            for (int b = 0; b < vectors; b++)
            {
                nuint at = (nuint)(r * stride + b * W);
                TWidth.Store(TWidth.Multiply(TWidth.Load(ref r0, at), sc), ref r0, at);
            }
        for (int r = 0; r < Block; r += 4)
        {
            int c0 = causal ? firstCount + Math.Min(r, taken - 1) : firstCount, c1 = causal ? firstCount + Math.Min(r + 1, taken - 1) : firstCount;
            int c2 = causal ? firstCount + Math.Min(r + 2, taken - 1) : firstCount, c3 = causal ? firstCount + Math.Min(r + 3, taken - 1) : firstCount;
            Softmax4<TWidth, TVector>(ref Unsafe.Add(ref r0, r * stride), stride, c0, c1, c2, c3, vectors);
        }
        // The probability-weighted values: the rows past `taken` repeat the last query's probabilities.
        Block8<TWidth, TVector>(ref r0, stride, Block, lastCount, ref MemoryMarshal.GetReference(values), dhp, dhp, ref MemoryMarshal.GetReference(outRows), dhp, Block);
    }

    // A row of scaled scores (its first `count` valid, `vectors` whole vectors of it read) into probabilities, in place:
    // the lanes past `count` become e^(−∞) = 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Softmax<TWidth, TVector>(ref float rr, int count, int vectors)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int W = TWidth.Count;
        for (int j = count; j < vectors * W; j++) Unsafe.Add(ref rr, j) = float.NegativeInfinity;
        var most = TWidth.Load(ref rr);
        for (int b = 1; b < vectors; b++) most = TWidth.Max(most, TWidth.Load(ref rr, (nuint)(b * W)));
        var m = TWidth.Broadcast(TWidth.MaxAcross(most)); // the row's largest score: the masked lanes are −∞
        var sum = TWidth.Zero;
        for (int b = 0; b < vectors; b++)
        {
            nuint at = (nuint)(b * W);
            var e = ExpNotPositive<TWidth, TVector>(TWidth.Subtract(TWidth.Load(ref rr, at), m));
            TWidth.Store(e, ref rr, at);
            sum = TWidth.Add(sum, e);
        }
        var inverse = TWidth.Broadcast(1f / TWidth.Sum(sum)); // the largest score's term is 1: the sum is at least 1
        for (int b = 0; b < vectors; b++)
        {
            nuint at = (nuint)(b * W);
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref rr, at), inverse), ref rr, at);
        }
    }

    // Four rows of scaled scores (`stride` apart, the first c0, c1, c2 and c3 of them valid) into probabilities, each
    // exactly as Softmax computes it: written out side by side, the four rows' chains of dependent steps (the
    // horizontal maximum and sum, the division) overlap instead of waiting on each other (one sample of PEERS.md's
    // Transformer: a row at a time, the softmax took 3.2 µs of the attention's 7).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Softmax4<TWidth, TVector>(ref float r0, int stride, int c0, int c1, int c2, int c3, int vectors)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int W = TWidth.Count;
        ref float r1 = ref Unsafe.Add(ref r0, stride);
        ref float r2 = ref Unsafe.Add(ref r0, 2 * stride);
        ref float r3 = ref Unsafe.Add(ref r0, 3 * stride);
        for (int j = c0; j < vectors * W; j++) Unsafe.Add(ref r0, j) = float.NegativeInfinity;
        for (int j = c1; j < vectors * W; j++) Unsafe.Add(ref r1, j) = float.NegativeInfinity;
        for (int j = c2; j < vectors * W; j++) Unsafe.Add(ref r2, j) = float.NegativeInfinity;
        for (int j = c3; j < vectors * W; j++) Unsafe.Add(ref r3, j) = float.NegativeInfinity;
        TVector m0 = TWidth.Load(ref r0), m1 = TWidth.Load(ref r1), m2 = TWidth.Load(ref r2), m3 = TWidth.Load(ref r3);
        for (int b = 1; b < vectors; b++)
        {
            nuint at = (nuint)(b * W);
            m0 = TWidth.Max(m0, TWidth.Load(ref r0, at));
            m1 = TWidth.Max(m1, TWidth.Load(ref r1, at));
            m2 = TWidth.Max(m2, TWidth.Load(ref r2, at));
            m3 = TWidth.Max(m3, TWidth.Load(ref r3, at));
        }
        m0 = TWidth.Broadcast(TWidth.MaxAcross(m0));
        m1 = TWidth.Broadcast(TWidth.MaxAcross(m1));
        m2 = TWidth.Broadcast(TWidth.MaxAcross(m2));
        m3 = TWidth.Broadcast(TWidth.MaxAcross(m3));
        TVector s0 = TWidth.Zero, s1 = TWidth.Zero, s2 = TWidth.Zero, s3 = TWidth.Zero;
        for (int b = 0; b < vectors; b++)
        {
            nuint at = (nuint)(b * W);
            var e0 = ExpNotPositive<TWidth, TVector>(TWidth.Subtract(TWidth.Load(ref r0, at), m0));
            var e1 = ExpNotPositive<TWidth, TVector>(TWidth.Subtract(TWidth.Load(ref r1, at), m1));
            var e2 = ExpNotPositive<TWidth, TVector>(TWidth.Subtract(TWidth.Load(ref r2, at), m2));
            var e3 = ExpNotPositive<TWidth, TVector>(TWidth.Subtract(TWidth.Load(ref r3, at), m3));
            TWidth.Store(e0, ref r0, at);
            TWidth.Store(e1, ref r1, at);
            TWidth.Store(e2, ref r2, at);
            TWidth.Store(e3, ref r3, at);
            s0 = TWidth.Add(s0, e0);
            s1 = TWidth.Add(s1, e1);
            s2 = TWidth.Add(s2, e2);
            s3 = TWidth.Add(s3, e3);
        }
        var i0 = TWidth.Broadcast(1f / TWidth.Sum(s0));
        var i1 = TWidth.Broadcast(1f / TWidth.Sum(s1));
        var i2 = TWidth.Broadcast(1f / TWidth.Sum(s2));
        var i3 = TWidth.Broadcast(1f / TWidth.Sum(s3));
        for (int b = 0; b < vectors; b++)
        {
            nuint at = (nuint)(b * W);
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref r0, at), i0), ref r0, at);
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref r1, at), i1), ref r1, at);
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref r2, at), i2), ref r2, at);
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref r3, at), i3), ref r3, at);
        }
    }

    /// <summary><see cref="Backward"/> at one width (unchecked).</summary>
    /// <remarks>
    /// Per (sample, head), as blocked products whose multiply-adds are eight independent chains (a row at a time, dP's
    /// dot over dh and dQ's sum over the keys were single chains waiting on each other's latency, and dK and dV were
    /// read, added to and written back once per (query, key)): eight query rows at a time, dP = dO·Vᵀ (each key vector
    /// of the transposed values loaded once for the eight), the eight rows' ⟨p, dP⟩ side by side, dS, then dQ = dS·K
    /// (each key's row loaded once for the eight); then eight keys at a time, dK = dSᵀ·Q and dV = Pᵀ·dO, summed over
    /// the queries (the eight keys' dS and p of a query are adjacent in its row). Causal: dQ's sum stops at the block's
    /// last key, and dK's and dV's for keys j to j + 7 start at query j (dS and P are exactly 0 past each query's own
    /// key). Batch 64 of PEERS.md's Transformer (T = 32, d = 64, 4 heads, not causal): 29 → 7.3 µs a sample, medians of
    /// nine alternating runs (the old kernel's runs ranged 20 to 31 µs); causal 22 → 6.7 µs (Xeon, AVX-512, one thread).
    /// </remarks>
    internal static void Backward<TWidth, TVector>(ReadOnlySpan<float> qkv, ReadOnlySpan<float> probabilities, ReadOnlySpan<float> outputGradient, Span<float> qkvGradient,
        int batch, int positions, int model, int heads, bool causal)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int T = positions, d = model, dh = d / heads, stride = 3 * d, W = TWidth.Count, wide = Math.Max(W, Block);
        // The key columns of P, dS and the transposed values are rounded up to whole blocks of eight and whole vectors
        // (zero past each row's last key), their rows to whole blocks, so that eight keys or eight rows read only
        // values they own. Where dh is whole vectors, q, k and dO are read and dq, dk and dv written in place (no lane
        // past a head's columns); else through padded rows. Where the rows of P are already whole blocks and vectors
        // with nothing masked, they are read in place too.
        int rows = (T + Block - 1) / Block * Block, ts = (T + wide - 1) / wide * wide, dhp = Padded<TWidth, TVector>(dh);
        bool direct = dh % W == 0, directP = !causal && T % wide == 0;
        int rowStride = direct ? stride : dhp, gradientStride = direct ? d : dhp, outStride = direct ? stride : dhp, pStride = directP ? T : ts;
        float scale = Scale(dh);
        int gathered = direct ? 0 : 3 * T * dhp + Block * dhp, copied = directP ? 0 : rows * ts, at = 0;
        var work = Scratch.Get(ref t_work, dh * ts + rows * ts + copied + gathered);
        var valuesT = work.Slice(at, dh * ts); at += dh * ts;
        var dS = work.Slice(at, rows * ts); at += rows * ts;
        var p = work.Slice(at, copied); at += copied;
        var q = work.Slice(at, direct ? 0 : T * dhp); at += q.Length;
        var k = work.Slice(at, direct ? 0 : T * dhp); at += k.Length;
        var dO = work.Slice(at, direct ? 0 : T * dhp); at += dO.Length;
        var outRows = work.Slice(at, direct ? 0 : Block * dhp);
        if (!directP) p.Slice(T * ts).Clear();
        ref float rvT = ref MemoryMarshal.GetReference(valuesT);
        ref float rdS = ref MemoryMarshal.GetReference(dS);
        ref float rg = ref MemoryMarshal.GetReference(qkvGradient);
        for (int n = 0; n < batch; n++)
        {
            int first = n * T;
            for (int h = 0; h < heads; h++)
            {
                int qAt = first * stride + h * dh, pAt = (n * heads + h) * T * T;
                GatherTransposed(qkv, qAt + 2 * d, stride, T, dh, valuesT, ts);
                ref float rq = ref Unsafe.AsRef(in qkv[qAt]);
                ref float rk = ref Unsafe.AsRef(in qkv[qAt + d]);
                ref float rdO = ref Unsafe.AsRef(in outputGradient[first * d + h * dh]);
                ref float rp = ref Unsafe.AsRef(in probabilities[pAt]);
                ref float gq = ref Unsafe.Add(ref rg, qAt), gk = ref Unsafe.Add(ref rg, qAt + d), gv = ref Unsafe.Add(ref rg, qAt + 2 * d);
                if (!direct)
                {
                    GatherRows(qkv, qAt, stride, T, dh, q, dhp);
                    GatherRows(qkv, qAt + d, stride, T, dh, k, dhp);
                    GatherRows(outputGradient, first * d + h * dh, d, T, dh, dO, dhp);
                    rq = ref MemoryMarshal.GetReference(q);
                    rk = ref MemoryMarshal.GetReference(k);
                    rdO = ref MemoryMarshal.GetReference(dO);
                    gq = ref gk = ref gv = ref MemoryMarshal.GetReference(outRows);
                }
                if (!directP)
                {
                    for (int i = 0; i < T; i++)
                    {
                        int count = causal ? i + 1 : T;
                        ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(p), i * ts);
                        for (int j = count / W * W; j < ts; j += W) TWidth.Store(TWidth.Zero, ref row, (nuint)j);
                        CopyRow(ref Unsafe.Add(ref rp, i * T), ref row, count);
                    }
                    rp = ref MemoryMarshal.GetReference(p);
                }
                for (int i = 0; i < T; i += Block)
                {
                    int taken = Math.Min(Block, T - i), keys = causal ? i + taken : T, width = (keys + W - 1) / W * W;
                    ref float dSi = ref Unsafe.Add(ref rdS, i * ts);
                    // dP = dO·Vᵀ over the block's keys, then dS in place; dQ = dS·K.
                    Block8<TWidth, TVector>(ref Unsafe.Add(ref rdO, i * gradientStride), gradientStride, taken, dh, ref rvT, ts, width, ref dSi, ts, Block);
                    Scores8<TWidth, TVector>(ref Unsafe.Add(ref rp, i * pStride), pStride, ref dSi, ts, width, scale);
                    ref float oq = ref direct ? ref Unsafe.Add(ref gq, i * stride) : ref gq;
                    Block8<TWidth, TVector>(ref dSi, ts, taken, keys, ref rk, rowStride, dhp, ref oq, outStride, taken);
                    if (!direct) Unpack(ref gq, dhp, taken, dh, ref Unsafe.Add(ref rg, qAt + i * stride), stride);
                }
                for (int j = 0; j < T; j += Block)
                {
                    int taken = Math.Min(Block, T - j), from = causal ? j : 0;
                    // dK = dSᵀ·Q and dV = Pᵀ·dO for keys j to j + 7, over the queries that see them.
                    ref float ok = ref direct ? ref Unsafe.Add(ref gk, j * stride) : ref gk;
                    Columns8<TWidth, TVector>(ref Unsafe.Add(ref rdS, j), ts, ref rq, rowStride, from, T, dhp, ref ok, outStride, taken);
                    if (!direct) Unpack(ref gk, dhp, taken, dh, ref Unsafe.Add(ref rg, qAt + j * stride + d), stride);
                    ref float ov = ref direct ? ref Unsafe.Add(ref gv, j * stride) : ref gv;
                    Columns8<TWidth, TVector>(ref Unsafe.Add(ref rp, j), pStride, ref rdO, gradientStride, from, T, dhp, ref ov, outStride, taken);
                    if (!direct) Unpack(ref gv, dhp, taken, dh, ref Unsafe.Add(ref rg, qAt + j * stride + 2 * d), stride);
                }
            }
        }
    }

    // rows × width floats from source (rows sourceStride apart) to destination (rows stride apart).
    private static void Unpack(ref float source, int sourceStride, int rows, int width, ref float destination, int stride)
    {
        for (int r = 0; r < rows; r++) CopyRow(ref Unsafe.Add(ref source, r * sourceStride), ref Unsafe.Add(ref destination, r * stride), width);
    }

    // Eight rows of a product: output[r·outStride + x] = Σ_{c < count} a[r·aStride + c]·b[c·bStride + x] for x in whole
    // vectors below width, the first `stores` rows r stored; rows of a past `taken` repeat its last. Each vector of b is
    // loaded once for the eight rows, whose sums are independent chains.
    private static void Block8<TWidth, TVector>(ref float a, int aStride, int taken, int count, ref float b, int bStride, int width, ref float output, int outStride, int stores)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int W = TWidth.Count;
        ref float a1 = ref Unsafe.Add(ref a, Math.Min(1, taken - 1) * aStride);
        ref float a2 = ref Unsafe.Add(ref a, Math.Min(2, taken - 1) * aStride);
        ref float a3 = ref Unsafe.Add(ref a, Math.Min(3, taken - 1) * aStride);
        ref float a4 = ref Unsafe.Add(ref a, Math.Min(4, taken - 1) * aStride);
        ref float a5 = ref Unsafe.Add(ref a, Math.Min(5, taken - 1) * aStride);
        ref float a6 = ref Unsafe.Add(ref a, Math.Min(6, taken - 1) * aStride);
        ref float a7 = ref Unsafe.Add(ref a, Math.Min(7, taken - 1) * aStride);
        for (int x = 0; x < width; x += W)
        {
            TVector s0 = TWidth.Zero, s1 = TWidth.Zero, s2 = TWidth.Zero, s3 = TWidth.Zero, s4 = TWidth.Zero, s5 = TWidth.Zero, s6 = TWidth.Zero, s7 = TWidth.Zero;
            ref float bx = ref Unsafe.Add(ref b, x);
            for (int c = 0; c < count; c++)
            {
                var v = TWidth.Load(ref bx);
                s0 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref a, c)), v, s0);
                s1 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref a1, c)), v, s1);
                s2 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref a2, c)), v, s2);
                s3 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref a3, c)), v, s3);
                s4 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref a4, c)), v, s4);
                s5 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref a5, c)), v, s5);
                s6 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref a6, c)), v, s6);
                s7 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref a7, c)), v, s7);
                bx = ref Unsafe.Add(ref bx, bStride);
            }
            Store8<TWidth, TVector>(ref Unsafe.Add(ref output, x), outStride, stores, s0, s1, s2, s3, s4, s5, s6, s7);
        }
    }

    // The first `stores` of eight vectors to rows `stride` apart.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8<TWidth, TVector>(ref float o, int stride, int stores, TVector s0, TVector s1, TVector s2, TVector s3, TVector s4, TVector s5, TVector s6, TVector s7)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        TWidth.Store(s0, ref o);
        if (stores > 1) TWidth.Store(s1, ref o, (nuint)stride);
        if (stores > 2) TWidth.Store(s2, ref o, (nuint)(2 * stride));
        if (stores > 3) TWidth.Store(s3, ref o, (nuint)(3 * stride));
        if (stores > 4) TWidth.Store(s4, ref o, (nuint)(4 * stride));
        if (stores > 5) TWidth.Store(s5, ref o, (nuint)(5 * stride));
        if (stores > 6) TWidth.Store(s6, ref o, (nuint)(6 * stride));
        if (stores > 7) TWidth.Store(s7, ref o, (nuint)(7 * stride));
    }

    // Eight rows of dP (stride apart, in place) into dS = p ⊙ (dP − ⟨p, dP⟩)·scale over the first `width` columns
    // (whole vectors), 0 from there to the end of the row (stride, whole vectors too); the eight dot products are side by side.
    private static void Scores8<TWidth, TVector>(ref float p, int pStride, ref float dS, int stride, int width, float scale)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int W = TWidth.Count;
        nuint p1 = (nuint)pStride, p2 = 2 * p1, p3 = 3 * p1, p4 = 4 * p1, p5 = 5 * p1, p6 = 6 * p1, p7 = 7 * p1;
        nuint s1 = (nuint)stride, s2 = 2 * s1, s3 = 3 * s1, s4 = 4 * s1, s5 = 5 * s1, s6 = 6 * s1, s7 = 7 * s1;
        TVector d0 = TWidth.Zero, d1 = TWidth.Zero, d2 = TWidth.Zero, d3 = TWidth.Zero, d4 = TWidth.Zero, d5 = TWidth.Zero, d6 = TWidth.Zero, d7 = TWidth.Zero;
        for (int x = 0; x < width; x += W)
        {
            ref float px = ref Unsafe.Add(ref p, x);
            ref float gx = ref Unsafe.Add(ref dS, x);
            d0 = TWidth.MultiplyAdd(TWidth.Load(ref px), TWidth.Load(ref gx), d0);
            d1 = TWidth.MultiplyAdd(TWidth.Load(ref px, p1), TWidth.Load(ref gx, s1), d1);
            d2 = TWidth.MultiplyAdd(TWidth.Load(ref px, p2), TWidth.Load(ref gx, s2), d2);
            d3 = TWidth.MultiplyAdd(TWidth.Load(ref px, p3), TWidth.Load(ref gx, s3), d3);
            d4 = TWidth.MultiplyAdd(TWidth.Load(ref px, p4), TWidth.Load(ref gx, s4), d4);
            d5 = TWidth.MultiplyAdd(TWidth.Load(ref px, p5), TWidth.Load(ref gx, s5), d5);
            d6 = TWidth.MultiplyAdd(TWidth.Load(ref px, p6), TWidth.Load(ref gx, s6), d6);
            d7 = TWidth.MultiplyAdd(TWidth.Load(ref px, p7), TWidth.Load(ref gx, s7), d7);
        }
        d0 = TWidth.Broadcast(TWidth.Sum(d0));
        d1 = TWidth.Broadcast(TWidth.Sum(d1));
        d2 = TWidth.Broadcast(TWidth.Sum(d2));
        d3 = TWidth.Broadcast(TWidth.Sum(d3));
        d4 = TWidth.Broadcast(TWidth.Sum(d4));
        d5 = TWidth.Broadcast(TWidth.Sum(d5));
        d6 = TWidth.Broadcast(TWidth.Sum(d6));
        d7 = TWidth.Broadcast(TWidth.Sum(d7));
        var sc = TWidth.Broadcast(scale);
        for (int x = 0; x < width; x += W)
        {
            ref float px = ref Unsafe.Add(ref p, x);
            ref float gx = ref Unsafe.Add(ref dS, x);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Load(ref px), TWidth.Subtract(TWidth.Load(ref gx), d0)), sc), ref gx);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Load(ref px, p1), TWidth.Subtract(TWidth.Load(ref gx, s1), d1)), sc), ref gx, s1);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Load(ref px, p2), TWidth.Subtract(TWidth.Load(ref gx, s2), d2)), sc), ref gx, s2);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Load(ref px, p3), TWidth.Subtract(TWidth.Load(ref gx, s3), d3)), sc), ref gx, s3);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Load(ref px, p4), TWidth.Subtract(TWidth.Load(ref gx, s4), d4)), sc), ref gx, s4);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Load(ref px, p5), TWidth.Subtract(TWidth.Load(ref gx, s5), d5)), sc), ref gx, s5);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Load(ref px, p6), TWidth.Subtract(TWidth.Load(ref gx, s6), d6)), sc), ref gx, s6);
            TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Load(ref px, p7), TWidth.Subtract(TWidth.Load(ref gx, s7), d7)), sc), ref gx, s7);
        }
        for (int x = width; x < stride; x += W)
        {
            ref float gx = ref Unsafe.Add(ref dS, x);
            TWidth.Store(TWidth.Zero, ref gx);
            TWidth.Store(TWidth.Zero, ref gx, s1);
            TWidth.Store(TWidth.Zero, ref gx, s2);
            TWidth.Store(TWidth.Zero, ref gx, s3);
            TWidth.Store(TWidth.Zero, ref gx, s4);
            TWidth.Store(TWidth.Zero, ref gx, s5);
            TWidth.Store(TWidth.Zero, ref gx, s6);
            TWidth.Store(TWidth.Zero, ref gx, s7);
        }
    }

    // Eight columns of a transposed product: output[r·outStride + x] = Σ_{from ≤ i < to} a[i·aStride + r]·b[i·bStride + x]
    // for x in whole vectors below width, the first `stores` rows r stored; a's eight values of a row are adjacent, b's
    // row is loaded once for them.
    private static void Columns8<TWidth, TVector>(ref float a, int aStride, ref float b, int bStride, int from, int to, int width, ref float output, int outStride, int stores)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int W = TWidth.Count;
        for (int x = 0; x < width; x += W)
        {
            TVector s0 = TWidth.Zero, s1 = TWidth.Zero, s2 = TWidth.Zero, s3 = TWidth.Zero, s4 = TWidth.Zero, s5 = TWidth.Zero, s6 = TWidth.Zero, s7 = TWidth.Zero;
            ref float ai = ref Unsafe.Add(ref a, from * aStride);
            ref float bi = ref Unsafe.Add(ref b, from * bStride + x);
            for (int i = from; i < to; i++)
            {
                var v = TWidth.Load(ref bi);
                s0 = TWidth.MultiplyAdd(TWidth.Broadcast(ai), v, s0);
                s1 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref ai, 1)), v, s1);
                s2 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref ai, 2)), v, s2);
                s3 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref ai, 3)), v, s3);
                s4 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref ai, 4)), v, s4);
                s5 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref ai, 5)), v, s5);
                s6 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref ai, 6)), v, s6);
                s7 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref ai, 7)), v, s7);
                ai = ref Unsafe.Add(ref ai, aStride);
                bi = ref Unsafe.Add(ref bi, bStride);
            }
            Store8<TWidth, TVector>(ref Unsafe.Add(ref output, x), outStride, stores, s0, s1, s2, s3, s4, s5, s6, s7);
        }
    }

    /// <summary><see cref="Step"/> at one width (unchecked).</summary>
    internal static void Step<TWidth, TVector>(ReadOnlySpan<float> qkvRow, Span<float> keys, Span<float> values, int position, Span<float> output, int model, int heads)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int d = model, dh = d / heads, count = position + 1;
        qkvRow.Slice(d, d).CopyTo(keys.Slice(position * d, d));
        qkvRow.Slice(2 * d, d).CopyTo(values.Slice(position * d, d));
        int tp = Padded<TWidth, TVector>(count), dhp = Padded<TWidth, TVector>(dh);
        float scale = Scale(dh);
        var work = Scratch.Get(ref t_work, dh * tp + count * dhp + tp + dhp);
        var keysT = work.Slice(0, dh * tp);
        var vals = work.Slice(dh * tp, count * dhp);
        var row = work.Slice(dh * tp + count * dhp, tp);
        var outRow = work.Slice(dh * tp + count * dhp + tp, dhp);
        for (int h = 0; h < heads; h++)
        {
            GatherTransposed(keys, h * dh, d, count, dh, keysT, tp);
            GatherRows(values, h * dh, d, count, dh, vals, dhp);
            Row<TWidth, TVector>(qkvRow.Slice(h * dh, dh), keysT, tp, vals, dhp, count, scale, row, outRow);
            outRow.Slice(0, dh).CopyTo(output.Slice(h * dh, dh));
        }
    }

    // One query of one head over its first `count` keys: row[0..count) ← the probabilities, outRow[0..dhp) ← their
    // weighted sum of the values. keysT is [dh, stride] (keys as columns), values [count or more, dhp].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TWidth, TVector>(ReadOnlySpan<float> q, ReadOnlySpan<float> keysT, int stride, ReadOnlySpan<float> values, int dhp, int count,
        float scale, Span<float> row, Span<float> outRow)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int W = TWidth.Count, dh = q.Length, vectors = (count + W - 1) / W;
        ref float rq = ref MemoryMarshal.GetReference(q);
        ref float rk = ref MemoryMarshal.GetReference(keysT);
        ref float rr = ref MemoryMarshal.GetReference(row);
        var sc = TWidth.Broadcast(scale);
        for (int b = 0; b < vectors; b++)
        {
            nuint at = (nuint)(b * W);
            var acc = TWidth.Zero;
            for (int c = 0; c < dh; c++)
                acc = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref rq, c)), TWidth.Load(ref rk, (nuint)(c * stride) + at), acc);
            TWidth.Store(TWidth.Multiply(acc, sc), ref rr, at);
        }
        // The lanes past the last key: e^(−∞) = 0, so they add nothing to the sum.
        Softmax<TWidth, TVector>(ref rr, count, vectors);
        ref float rv = ref MemoryMarshal.GetReference(values);
        ref float ro = ref MemoryMarshal.GetReference(outRow);
        for (int c = 0; c < dhp; c += W)
        {
            var acc = TWidth.Zero;
            for (int j = 0; j < count; j++)
                acc = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref rr, j)), TWidth.Load(ref rv, (nuint)(j * dhp + c)), acc);
            TWidth.Store(acc, ref ro, (nuint)c);
        }
    }

    // e^t for t ≤ 0 (−∞ included), to within a few units in the last place: exactly 0 below −87.3, where e^t leaves the
    // normal floats. The reduction and polynomial of Activations' sigmoid.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector ExpNotPositive<TWidth, TVector>(TVector t)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var under = TWidth.LessThan(t, TWidth.Broadcast(-87.3f));
        return TWidth.Select(under, TWidth.Zero, Activations.Exp<TWidth, TVector>(t));
    }

    // destination[c·stride + j] = source[offset + j·step + c] for the first `count` rows j and `width` columns c; the
    // columns j from count to stride are zeroed. Whole 8×8 blocks go through AVX transposes, the rest one by one.
    private static void GatherTransposed(ReadOnlySpan<float> source, int offset, int step, int count, int width, Span<float> destination, int stride)
    {
        ref float s = ref Unsafe.Add(ref MemoryMarshal.GetReference(source), offset);
        ref float t = ref MemoryMarshal.GetReference(destination);
        int blockRows = Avx.IsSupported ? count / 8 * 8 : 0, blockColumns = Avx.IsSupported ? width / 8 * 8 : 0;
        for (int j = 0; j < blockRows; j += 8)
            for (int c = 0; c < blockColumns; c += 8)
                Gemm.Transpose8x8(ref Unsafe.Add(ref s, j * step + c), step, ref Unsafe.Add(ref t, c * stride + j), stride);
        for (int j = 0; j < count; j++)
        {
            ref float line = ref Unsafe.Add(ref s, j * step);
            for (int c = j < blockRows ? blockColumns : 0; c < width; c++) Unsafe.Add(ref t, c * stride + j) = Unsafe.Add(ref line, c);
        }
        if (count < stride)
            for (int c = 0; c < width; c++) destination.Slice(c * stride + count, stride - count).Clear();
    }

    // destination[j·stride + c] = source[offset + j·step + c] for the first `count` rows j and `width` columns c; the
    // columns c from width to stride are zeroed.
    private static void GatherRows(ReadOnlySpan<float> source, int offset, int step, int count, int width, Span<float> destination, int stride)
    {
        ref float s = ref Unsafe.Add(ref MemoryMarshal.GetReference(source), offset);
        ref float t = ref MemoryMarshal.GetReference(destination);
        for (int j = 0; j < count; j++)
        {
            CopyRow(ref Unsafe.Add(ref s, j * step), ref Unsafe.Add(ref t, j * stride), width);
            for (int c = width; c < stride; c++) Unsafe.Add(ref t, j * stride + c) = 0f;
        }
    }

    // count floats from source to destination: a short row, where Span.CopyTo's call costs more than the copy.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(ref float source, ref float destination, int count)
    {
        int c = 0;
        for (; c + 8 <= count; c += 8) Vector256.LoadUnsafe(ref source, (nuint)c).StoreUnsafe(ref destination, (nuint)c);
        for (; c < count; c++) Unsafe.Add(ref destination, c) = Unsafe.Add(ref source, c);
    }

    // n rounded up to whole vectors.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Padded<TWidth, TVector>(int n) where TWidth : struct, IVectorWidth<TVector> where TVector : struct =>
        (n + TWidth.Count - 1) / TWidth.Count * TWidth.Count;

    // 1/√dh, rounded once.
    private static float Scale(int dh) => (float)(1.0 / Math.Sqrt(dh));

    // The checks every entry point shares; returns batch·positions·model, the output's values.
    private static long Shape(int batch, int positions, int model, int heads)
    {
        Sizes.Positive(positions, nameof(positions));
        Heads(model, heads);
        long n = Sizes.Product(batch, nameof(batch), positions, nameof(positions), model, nameof(model));
        Sizes.Fits(3 * n, "qkv", "qkv [batch·positions, 3·model]");
        return n;
    }

    private static void Heads(int model, int heads)
    {
        Sizes.Positive(model, nameof(model));
        Sizes.Positive(heads, nameof(heads));
        if (model % heads != 0)
            throw new ArgumentException(
                $"model = {model} is not a multiple of heads = {heads}: each head takes model / heads columns of q, k and v ({model} = {model / heads}·{heads} + {model % heads}).",
                nameof(heads));
    }

    // batch·heads·positions², checked to fit a span.
    private static long ProbabilityCount(int batch, int positions, int heads)
    {
        long perSample = Sizes.Product(heads, nameof(heads), positions, nameof(positions), positions, nameof(positions));
        long count = perSample * batch;
        Sizes.Fits(count, "probabilities", "probabilities [batch, heads, positions, positions]");
        return count;
    }
}
