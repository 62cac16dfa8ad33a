using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenNets.Kernels;

/// <summary>
/// 2-D convolution on CHW samples, as PyTorch's <c>Conv2d</c> (cross-correlation, weight [outC, inC, kh, kw]).
/// Each sample's input is unfolded (im2col) into a [inC·kh·kw, outH·outW] matrix in a per-thread buffer, and the
/// three products are the batched matrix kernels: forward Y = W·cols on the broadcast kernel (six filters × two
/// vectors of output positions), weight gradient dW += dY·colsᵀ on the dot-product kernel, input gradient
/// dcols = Wᵀ·dY folded back (col2im). The naive twins are in <see cref="Reference"/>. Same-size 3×3 convolutions
/// of enough channels and positions go by <see cref="Winograd"/> instead: forward, input gradient and weight gradient.
/// </summary>
public static partial class Convolution
{
    [ThreadStatic] private static float[]? t_columns;
    [ThreadStatic] private static float[]? t_padded;
    [ThreadStatic] private static float[]? t_wide;
    [ThreadStatic] private static float[]? t_turned;
    [ThreadStatic] private static float[]? t_flipped;
    [ThreadStatic] private static float[]? t_pooled;
    [ThreadStatic] private static float[]? t_routed;
    [ThreadStatic] private static float[]? t_lanes;

    // Floats of room after the wide output, for CopyRows's last vector: one 512-bit vector.
    internal const int Room = 16;

    /// <summary>
    /// Y = conv(X, W) + bias for <paramref name="batch"/> samples one after another: X [batch, inC, H, W],
    /// Y [batch, outC, outH, outW]; with <paramref name="relu"/> set, Y = max(0, conv(X, W) + bias), applied as the
    /// outputs are stored. Allocates only when a thread first sees a larger geometry. A batch of 0 does nothing. With
    /// <paramref name="residual"/> (Y's size), the convolution ends a residual block and Y is the block's sum,
    /// conv(X, W) + bias + residual, the ReLU taken after the sum: the bits of <see cref="Elementwise.Add(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, bool)"/>
    /// over the convolution's output, without a pass of its own over the batch.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, or the batch would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">X, the weights, the bias, Y or the residual (when given) is shorter than the geometry and batch need.</exception>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch, Conv2DGeometry g, bool relu = false,
        ReadOnlySpan<float> residual = default)
    {
        Check(x.Length, nameof(x), y.Length, nameof(y), weight.Length, nameof(weight), bias.Length, nameof(bias), batch, g);
        bool sum = !residual.IsEmpty;
        if (sum)
            Sizes.Need(residual.Length, Sizes.Product(batch, nameof(batch), g.OutputLength, nameof(g)), nameof(residual), "a batch of {0} outputs of {1}", batch, g.OutputLength);
        if (Winograd.Worthwhile(g, g.InChannels, g.OutChannels))
        {
            Winograd.Run(x, weight, flipped: false, bias, y, batch, g.InChannels, g.OutChannels, g.Height, g.Width, relu, Winograd.DefaultTile, residual);
            return;
        }
        if (g.RowOffsets is not null && !g.IsPointwise)
            ForwardShifted(x, weight, bias, y, batch, g, relu && !sum);
        else
        {
            ForwardUnfolded(x, weight, bias, y, batch, g);
            if (relu && !sum) Activations.ReLU(y.Slice(0, batch * g.OutputLength), y.Slice(0, batch * g.OutputLength));
        }
        if (sum)
        {
            var all = y.Slice(0, batch * g.OutputLength);
            Elementwise.Add(all, residual.Slice(0, all.Length), all, relu);
        }
    }

    /// <summary>
    /// Inference through a convolution and the 2×2, stride-2 max pooling on it: Y [batch, outC, outH / 2, outW / 2] =
    /// maxpool(conv(X, W) + bias), through max(0, ·) with <paramref name="relu"/> set (applied after the maximum, which
    /// gives the same values: max(0, ·) keeps order). A stride-1 convolution pools straight from its wide output, so the
    /// full-size output is never written and read again; other geometries convolve a sample at a time, then pool.
    /// Training passes <paramref name="argmax"/> (the shape of Y): which of each window's four outputs was its maximum,
    /// 0 to 3 in row-major order, the first of equals, as <see cref="Pooling.MaxBackward"/> would find it again. That is
    /// all the backward pass needs of the full-size output (<see cref="Pooling.MaxBackwardChosen"/>), which is then
    /// never written. A batch of 0 does nothing.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, or the batch would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">The output of <paramref name="g"/> has an odd side, or X, the weights, the bias, Y or a non-empty argmax is shorter than the geometry and batch need.</exception>
    public static void ForwardPooled(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch, Conv2DGeometry g, bool relu = false,
        Span<float> argmax = default)
    {
        ArgumentNullException.ThrowIfNull(g);
        int outC = g.OutChannels, ph = g.OutHeight / 2, pw = g.OutWidth / 2, pooled = outC * ph * pw; // pooled < g.OutputLength
        if (g.OutHeight % 2 != 0 || g.OutWidth % 2 != 0)
            throw new ArgumentException($"Conv2D with max pooling 2×2: the output {g.OutHeight}×{g.OutWidth} must have even sides.", nameof(g));
        Sizes.Need(x.Length, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(x), "a batch of {0} inputs of {1}", batch, g.InputLength);
        Sizes.Need(y.Length, Sizes.Product(batch, nameof(batch), pooled, nameof(g)), nameof(y), "a batch of {0} pooled outputs of {1}", batch, pooled);
        Sizes.Need(weight.Length, g.WeightLength, nameof(weight), "weights [{0}, {1}]", outC, g.Patch);
        Sizes.Need(bias.Length, outC, nameof(bias), "a bias of {0} filters", outC);
        if (!argmax.IsEmpty) Sizes.Need(argmax.Length, (long)batch * pooled, nameof(argmax), "a batch of {0} pooled outputs of {1}", batch, pooled);
        bool shifted = g.RowOffsets is not null && !g.IsPointwise, keep = !argmax.IsEmpty;
        var (lanes, vectors) = shifted ? ChannelsLast(g) : (0, 0);
        if (lanes == Vector512<float>.Count)
        {
            ForwardPooledChannelsLast<Width512, Vector512<float>>(x, weight, bias, y, batch, g, relu, argmax, vectors);
            return;
        }
        if (lanes == Vector256<float>.Count)
        {
            ForwardPooledChannelsLast<Width256, Vector256<float>>(x, weight, bias, y, batch, g, relu, argmax, vectors);
            return;
        }
        Span<float> unpooled = shifted ? default : Scratch.Get(ref t_pooled, g.OutputLength);
        var padded = shifted ? Scratch.Get(ref t_padded, g.PaddedLength) : default;
        int wide = g.WidePositions;
        var outputs = shifted ? Scratch.Get(ref t_wide, outC * wide + Room) : default;
        for (int n = 0; n < batch; n++)
        {
            var sample = y.Slice(n * pooled, pooled);
            ref float target = ref MemoryMarshal.GetReference(sample);
            ref float chosen = ref keep ? ref MemoryMarshal.GetReference(argmax.Slice(n * pooled, pooled)) : ref target;
            if (shifted)
            {
                Pad(x.Slice(n * g.InputLength, g.InputLength), padded, g, clear: n == 0);
                Gemm.MultiplyIndirect(weight, padded, g.RowOffsets, bias, outputs, outC, wide, g.Patch);
                ref float source = ref MemoryMarshal.GetReference(outputs);
                for (int c = 0; c < outC; c++)
                    for (int r = 0; r < ph; r++)
                    {
                        ref float top = ref Unsafe.Add(ref source, c * wide + 2 * r * g.PaddedWidth);
                        int at = (c * ph + r) * pw;
                        if (keep) Pooling.MaxPairsChosen(ref top, ref Unsafe.Add(ref top, g.PaddedWidth), ref Unsafe.Add(ref target, at), ref Unsafe.Add(ref chosen, at), pw, relu);
                        else Pooling.MaxPairs(ref top, ref Unsafe.Add(ref top, g.PaddedWidth), ref Unsafe.Add(ref target, at), pw, relu);
                    }
            }
            else
            {
                Forward(x.Slice(n * g.InputLength, g.InputLength), weight, bias, unpooled, 1, g);
                if (keep)
                {
                    ref float source = ref MemoryMarshal.GetReference(unpooled);
                    for (int r = 0; r < outC * ph; r++) // rows of windows, plane after plane
                        Pooling.MaxPairsChosen(ref Unsafe.Add(ref source, 2 * r * g.OutWidth), ref Unsafe.Add(ref source, (2 * r + 1) * g.OutWidth),
                            ref Unsafe.Add(ref target, r * pw), ref Unsafe.Add(ref chosen, r * pw), pw, relu);
                    continue;
                }
                Pooling.MaxForward(unpooled, sample, outC, g.OutHeight, g.OutWidth, 2, 2, ph, pw);
                if (relu) Activations.ReLU(sample, sample);
            }
        }
    }

    // The width and the vectors of filters a block (one or two) at which ForwardPooled takes a stride-1 convolution
    // channels-last, or (0, 0) if it takes it filter-major: whole blocks of filters, a patch small enough that the
    // filter-major product is dominated by its per-block loads and stores (a first layer, nine or 27 taps), and pooled
    // rows of at least 8 (turned back by 8×8 transposes, so a vector of at least 8 filters). The widest accelerated
    // vector whose blocks the filters fill. Measured with 256-bit vectors and 3×3 kernels against the filter-major path
    // (same run, minimum of 15–31 rounds, two to five runs each), blocks of 8 filters: 1→8 on 28×28 faster (98 → 79 and
    // 132 → 109 µs for 32 samples), 2→8 even (146 / 142 µs), 3→16 slower (374 → 409 µs); blocks of 16: 1→16 and 3→16
    // on 28×28 faster (204 → 163, 356 → 280 µs), 8→16 on 14×14 and 32→64 even (patches of 72 and 288 taps). The same
    // limits on the patch hold for one vector and for two at 512 bits.
    private static (int Lanes, int Vectors) ChannelsLast(Conv2DGeometry g)
    {
        if (!Avx.IsSupported || g.OutWidth / 2 < 8) return (0, 0);
        int vectors = Vector512.IsHardwareAccelerated ? ChannelsLastFits(g, Vector512<float>.Count) : 0;
        if (vectors > 0) return (Vector512<float>.Count, vectors);
        vectors = Vector256.IsHardwareAccelerated ? ChannelsLastFits(g, Vector256<float>.Count) : 0;
        return vectors > 0 ? (Vector256<float>.Count, vectors) : (0, 0);
    }

    // Vectors of `lanes` filters a channels-last block: two for patches of up to 36 taps, one for up to 12, else none.
    private static int ChannelsLastFits(Conv2DGeometry g, int lanes) =>
        g.OutChannels % (2 * lanes) == 0 && g.Patch <= 36 ? 2 : g.OutChannels % lanes == 0 && g.Patch <= 12 ? 1 : 0;

    // ForwardPooled, channels-last: for a vector of filters at a time, each output position's values are one vector, the
    // sum over the taps of (the input there, broadcast) × (the taps' weights for the vector's filters), so the weights are
    // loaded once a tap for several positions and no output is stored before it is pooled. Two pooled outputs (2 × 4
    // positions, eight accumulators) at a time, or one (four positions) for blocks of two vectors; a pooled row is kept
    // channels-last and turned into the block's planes by 8×8 transposes. Each output is its bias plus the products in
    // order of the taps, as in Gemm.MultiplyIndirect: the same bits. Called at the width ChannelsLast chose.
    internal static void ForwardPooledChannelsLast<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch,
        Conv2DGeometry g, bool relu, Span<float> argmax, int vectors)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int outC = g.OutChannels, patch = g.Patch, ph = g.OutHeight / 2, pw = g.OutWidth / 2, plane = ph * pw, pooled = outC * plane, wp = g.PaddedWidth;
        bool keep = !argmax.IsEmpty;
        bool threeByThree = g.InChannels == 1 && g.KernelHeight == 3 && g.KernelWidth == 3; // PooledRow takes it row by row
        int width = vectors * TWidth.Count; // filters a block
        var padded = Scratch.Get(ref t_padded, g.PaddedLength);
        // [filter block][tap][filters of the block], then one pooled row channels-last and its argmax, each [pw][filters of the block]
        var work = Scratch.Get(ref t_pooled, outC * patch + 2 * pw * width);
        var taps = work.Slice(0, outC * patch);
        var line = work.Slice(outC * patch, pw * width);
        ref float choices = ref MemoryMarshal.GetReference(work.Slice(outC * patch + pw * width));
        for (int f = 0; f < outC; f++)
            for (int t = 0; t < patch; t++)
                taps[(f / width * patch + t) * width + f % width] = weight[f * patch + t];
        ref float rl = ref MemoryMarshal.GetReference(line);
        ref int offsets = ref MemoryMarshal.GetArrayDataReference(g.RowOffsets!);
        for (int n = 0; n < batch; n++)
        {
            Pad(x.Slice(n * g.InputLength, g.InputLength), padded, g, clear: n == 0);
            ref float sample = ref MemoryMarshal.GetReference(y.Slice(n * pooled, pooled));
            ref float chosen = ref keep ? ref MemoryMarshal.GetReference(argmax.Slice(n * pooled, pooled)) : ref rl;
            for (int block = 0; block < outC / width; block++)
            {
                ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(taps), block * patch * width);
                ref float b = ref Unsafe.Add(ref MemoryMarshal.GetReference(bias), block * width);
                ref float planes = ref Unsafe.Add(ref sample, block * width * plane);
                ref float choicePlanes = ref Unsafe.Add(ref chosen, block * width * plane);
                for (int r = 0; r < ph; r++)
                {
                    ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(padded), 2 * r * wp);
                    if (vectors == 2) PooledRowPair<TWidth, TVector>(ref row, wp, ref offsets, patch, ref w, ref b, ref rl, pw, relu, keep, ref choices);
                    else PooledRow<TWidth, TVector>(ref row, wp, ref offsets, patch, ref w, ref b, ref rl, pw, relu, keep, ref choices, threeByThree);
                    for (int half = 0; half < width; half += 8)
                        for (int c = 0; ; c += 8)
                        {
                            if (c + 8 > pw) c = pw - 8;
                            Gemm.Transpose8x8(ref Unsafe.Add(ref rl, c * width + half), width, ref Unsafe.Add(ref planes, half * plane + r * pw + c), plane);
                            if (keep)
                                Gemm.Transpose8x8(ref Unsafe.Add(ref choices, c * width + half), width, ref Unsafe.Add(ref choicePlanes, half * plane + r * pw + c), plane);
                            if (c + 8 == pw) break;
                        }
                }
            }
        }
    }

    // Which of a window's four outputs (top left, top right, bottom left, bottom right) is its maximum: the first equal.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Chosen<TWidth, TVector>(TVector topLeft, TVector topRight, TVector bottomLeft, TVector maximum)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var choice = TWidth.Select(TWidth.Equal(bottomLeft, maximum), TWidth.Broadcast(2f), TWidth.Broadcast(3f));
        choice = TWidth.Select(TWidth.Equal(topRight, maximum), TWidth.Broadcast(1f), choice);
        return TWidth.Select(TWidth.Equal(topLeft, maximum), TWidth.Zero, choice);
    }

    // Stores a 2×2 window's maximum for a vector of filters at line[at] (through max(0, ·) with relu) and, with keep,
    // which of the four was the maximum at choices[at]. As Pooling.MaxPairs: the column maxima first, then the pair's.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreWindow<TWidth, TVector>(TVector topLeft, TVector topRight, TVector bottomLeft, TVector bottomRight,
        ref float line, ref float choices, nuint at, bool relu, bool keep)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var maximum = TWidth.Max(TWidth.Max(topLeft, bottomLeft), TWidth.Max(topRight, bottomRight));
        if (keep) TWidth.Store(Chosen<TWidth, TVector>(topLeft, topRight, bottomLeft, maximum), ref choices, at);
        if (relu) maximum = TWidth.Max(TWidth.Zero, maximum); // max(0, NaN) is the NaN: the second operand
        TWidth.Store(maximum, ref line, at);
    }

    // One row of pooled outputs for two vectors of filters, channels-last: line[2L·o + f] for L floats a vector. One
    // window (four positions × two vectors of filters, eight accumulators) at a time: per tap, two loads of weights and
    // four broadcasts for eight FMAs.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PooledRowPair<TWidth, TVector>(ref float top, int wp, ref int offsets, int patch, ref float weights, ref float bias, ref float line, int pw, bool relu,
        bool keep, ref float choices)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count;
        var start0 = TWidth.Load(ref bias);
        var start1 = TWidth.Load(ref bias, (nuint)lanes);
        for (int o = 0; o < pw; o++)
        {
            ref float upper = ref Unsafe.Add(ref top, 2 * o);
            ref float lower = ref Unsafe.Add(ref upper, wp);
            TVector u0 = start0, u1 = start0, l0 = start0, l1 = start0, v0 = start1, v1 = start1, m0 = start1, m1 = start1;
            ref float w = ref weights;
            ref int op = ref offsets;
            for (int t = patch; t > 0; t--)
            {
                var tap0 = TWidth.Load(ref w);
                var tap1 = TWidth.Load(ref w, (nuint)lanes);
                nint at = op;
                ref float p = ref Unsafe.Add(ref upper, at);
                ref float q = ref Unsafe.Add(ref lower, at);
                var x = TWidth.Broadcast(p); u0 = TWidth.MultiplyAdd(x, tap0, u0); v0 = TWidth.MultiplyAdd(x, tap1, v0);
                x = TWidth.Broadcast(Unsafe.Add(ref p, 1)); u1 = TWidth.MultiplyAdd(x, tap0, u1); v1 = TWidth.MultiplyAdd(x, tap1, v1);
                x = TWidth.Broadcast(q); l0 = TWidth.MultiplyAdd(x, tap0, l0); m0 = TWidth.MultiplyAdd(x, tap1, m0);
                x = TWidth.Broadcast(Unsafe.Add(ref q, 1)); l1 = TWidth.MultiplyAdd(x, tap0, l1); m1 = TWidth.MultiplyAdd(x, tap1, m1);
                w = ref Unsafe.Add(ref w, 2 * lanes);
                op = ref Unsafe.Add(ref op, 1);
            }
            StoreWindow<TWidth, TVector>(u0, u1, l0, l1, ref line, ref choices, (nuint)(2 * lanes * o), relu, keep);
            StoreWindow<TWidth, TVector>(v0, v1, m0, m1, ref line, ref choices, (nuint)(2 * lanes * o + lanes), relu, keep);
        }
    }

    // One row of pooled outputs for a vector of filters, channels-last: line[L·o + f] = max over the 2×2 window o of
    // filter f's outputs, through max(0, ·) with relu, for L floats a vector. `top` is the padded input at the window
    // row's first position. A 3×3 kernel on one channel goes a kernel row at a time (TapRow): half the broadcasts, which
    // compete with the FMAs for the vector pipes (64 images of the benchmark's first layer, 256-bit vectors: 175 → 130
    // and 226 → 163 µs, same run).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PooledRow<TWidth, TVector>(ref float top, int wp, ref int offsets, int patch, ref float weights, ref float bias, ref float line, int pw, bool relu,
        bool keep, ref float choices, bool threeByThree)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count;
        var start = TWidth.Load(ref bias);
        for (int o = 0; ; o += 2)
        {
            if (o + 2 > pw) o = pw - 2;
            ref float upper = ref Unsafe.Add(ref top, 2 * o);
            ref float lower = ref Unsafe.Add(ref upper, wp);
            TVector u0 = start, u1 = start, u2 = start, u3 = start, l0 = start, l1 = start, l2 = start, l3 = start;
            ref float w = ref weights;
            ref int op = ref offsets;
            if (threeByThree)
            {
                // One channel, 3×3: each output row takes its three input rows in turn, every input broadcast once a row.
                ref float w3 = ref Unsafe.Add(ref weights, 3 * lanes);
                ref float w6 = ref Unsafe.Add(ref weights, 6 * lanes);
                TapRow<TWidth, TVector>(ref upper, ref weights, ref u0, ref u1, ref u2, ref u3);
                TapRow<TWidth, TVector>(ref lower, ref weights, ref l0, ref l1, ref l2, ref l3);
                TapRow<TWidth, TVector>(ref lower, ref w3, ref u0, ref u1, ref u2, ref u3);
                TapRow<TWidth, TVector>(ref Unsafe.Add(ref lower, wp), ref w3, ref l0, ref l1, ref l2, ref l3);
                TapRow<TWidth, TVector>(ref Unsafe.Add(ref lower, wp), ref w6, ref u0, ref u1, ref u2, ref u3);
                TapRow<TWidth, TVector>(ref Unsafe.Add(ref lower, 2 * wp), ref w6, ref l0, ref l1, ref l2, ref l3);
            }
            else
            for (int t = patch; t > 0; t--)
            {
                var tap = TWidth.Load(ref w);
                nint at = op;
                ref float p = ref Unsafe.Add(ref upper, at);
                ref float q = ref Unsafe.Add(ref lower, at);
                u0 = TWidth.MultiplyAdd(TWidth.Broadcast(p), tap, u0);
                u1 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref p, 1)), tap, u1);
                u2 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref p, 2)), tap, u2);
                u3 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref p, 3)), tap, u3);
                l0 = TWidth.MultiplyAdd(TWidth.Broadcast(q), tap, l0);
                l1 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref q, 1)), tap, l1);
                l2 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref q, 2)), tap, l2);
                l3 = TWidth.MultiplyAdd(TWidth.Broadcast(Unsafe.Add(ref q, 3)), tap, l3);
                w = ref Unsafe.Add(ref w, lanes);
                op = ref Unsafe.Add(ref op, 1);
            }
            StoreWindow<TWidth, TVector>(u0, u1, l0, l1, ref line, ref choices, (nuint)(lanes * o), relu, keep);
            StoreWindow<TWidth, TVector>(u2, u3, l2, l3, ref line, ref choices, (nuint)(lanes * o + lanes), relu, keep);
            if (o + 2 == pw) return;
        }
    }

    // Four outputs of a row (s0 to s3, a vector of filters each) += one input row (six inputs from `row`) times one kernel
    // row (three taps' weights for the vector's filters, from `w`, a vector apart): six broadcasts for twelve FMAs, each
    // output's three taps in order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TapRow<TWidth, TVector>(ref float row, ref float w, ref TVector s0, ref TVector s1, ref TVector s2, ref TVector s3)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint lanes = (nuint)TWidth.Count;
        var w0 = TWidth.Load(ref w);
        var w1 = TWidth.Load(ref w, lanes);
        var w2 = TWidth.Load(ref w, 2 * lanes);
        var x = TWidth.Broadcast(row);
        s0 = TWidth.MultiplyAdd(x, w0, s0);
        x = TWidth.Broadcast(Unsafe.Add(ref row, 1));
        s0 = TWidth.MultiplyAdd(x, w1, s0); s1 = TWidth.MultiplyAdd(x, w0, s1);
        x = TWidth.Broadcast(Unsafe.Add(ref row, 2));
        s0 = TWidth.MultiplyAdd(x, w2, s0); s1 = TWidth.MultiplyAdd(x, w1, s1); s2 = TWidth.MultiplyAdd(x, w0, s2);
        x = TWidth.Broadcast(Unsafe.Add(ref row, 3));
        s1 = TWidth.MultiplyAdd(x, w2, s1); s2 = TWidth.MultiplyAdd(x, w1, s2); s3 = TWidth.MultiplyAdd(x, w0, s3);
        x = TWidth.Broadcast(Unsafe.Add(ref row, 4));
        s2 = TWidth.MultiplyAdd(x, w2, s2); s3 = TWidth.MultiplyAdd(x, w1, s3);
        x = TWidth.Broadcast(Unsafe.Add(ref row, 5));
        s3 = TWidth.MultiplyAdd(x, w2, s3);
    }

    // Strided and 1×1 convolutions: each sample unfolded (unless 1×1), then one product.
    private static void ForwardUnfolded(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch, Conv2DGeometry g)
    {
        var columns = g.IsPointwise ? default : Scratch.Get(ref t_columns, g.ColumnsLength);
        int positions = g.Positions;
        for (int n = 0; n < batch; n++)
        {
            var sample = x.Slice(n * g.InputLength, g.InputLength);
            var output = y.Slice(n * g.OutputLength, g.OutputLength);
            ReadOnlySpan<float> cols = sample;
            if (!g.IsPointwise)
            {
                Unfold(sample, columns, g);
                cols = columns;
            }
            for (int c = 0; c < g.OutChannels; c++)
                output.Slice(c * positions, positions).Fill(bias[c]);
            // Y [outC, positions] += W [outC, patch] · cols [patch, positions]
            Gemm.MultiplyAccumulate(weight, g.Patch, 1, cols, output, g.OutChannels, positions, g.Patch, accumulate: true);
        }
    }

    /// <summary>
    /// <see cref="Backward"/> for a convolution pooled by <see cref="ForwardPooled"/> with its argmax: dY is routed from
    /// the pooled gradient (<see cref="Pooling.MaxBackwardChosen"/>, through the ReLU's gradient with
    /// <paramref name="relu"/>) a sample at a time, just before that sample's gradients are taken, so it is still in
    /// cache. <paramref name="outputGradient"/> is room for dY ([batch, outC, outH, outW]), which is written there where
    /// the input gradient needs the whole batch's dY at once (the flipped kernel's convolution), and for the whole batch
    /// before any gradient where the convolution has no shifted rows (strided, 1×1), its input gradient is folded back, or
    /// its weight gradient goes by <see cref="Winograd"/> (over the whole batch at the end); otherwise each sample's dY stays
    /// in a per-thread buffer. <paramref name="inputGradient"/> may overlap
    /// <paramref name="pooledGradient"/> (the generated code gives them one buffer): dX is written only once every
    /// sample's dY has been routed. Same results as the two calls one after the other. A batch of 0 clears the weight and
    /// bias gradients.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, or the batch would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">The output of <paramref name="g"/> has an odd side, or a span is shorter than the geometry and batch need
    /// (the pooled output only with <paramref name="relu"/>, the input gradient only if not empty).</exception>
    public static void BackwardPooled(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> pooledGradient, ReadOnlySpan<float> argmax,
        ReadOnlySpan<float> pooledOutput, bool relu, Span<float> outputGradient, Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient,
        int batch, Conv2DGeometry g)
    {
        Check(x.Length, nameof(x), outputGradient.Length, nameof(outputGradient), weight.Length, nameof(weight), biasGradient.Length, nameof(biasGradient), batch, g);
        int ph = g.OutHeight / 2, pw = g.OutWidth / 2, pooled = g.OutChannels * ph * pw;
        if (g.OutHeight % 2 != 0 || g.OutWidth % 2 != 0)
            throw new ArgumentException($"Conv2D backward through max pooling 2×2: the output {g.OutHeight}×{g.OutWidth} must have even sides.", nameof(g));
        long pooledBatch = (long)batch * pooled; // below batch · g.OutputLength, which fits
        Sizes.Need(pooledGradient.Length, pooledBatch, nameof(pooledGradient), "a batch of {0} pooled outputs of {1}", batch, pooled);
        Sizes.Need(argmax.Length, pooledBatch, nameof(argmax), "a batch of {0} pooled outputs of {1}", batch, pooled);
        if (relu) Sizes.Need(pooledOutput.Length, pooledBatch, nameof(pooledOutput), "a batch of {0} pooled outputs of {1}", batch, pooled);
        CheckGradients(weightGradient.Length, inputGradient.Length, batch, g);
        // A folded input gradient is written a sample at a time, over pooled gradients not yet routed if the buffers
        // overlap: route the whole batch first.
        if (g.RowOffsets is null || g.IsPointwise || (g.InputGradient is null && !inputGradient.IsEmpty))
        {
            Pooling.MaxBackwardChosen(pooledGradient, argmax, pooledOutput, outputGradient, batch * g.OutChannels, g.OutHeight, g.OutWidth, ph, pw, relu);
            Backward(x, weight, outputGradient, weightGradient, biasGradient, inputGradient, batch, g);
            return;
        }
        weightGradient.Slice(0, g.WeightLength).Clear();
        biasGradient.Slice(0, g.OutChannels).Clear();
        BackwardShifted(x, weight, outputGradient, weightGradient, biasGradient, inputGradient, batch, g, new Routing(pooledGradient, argmax, pooledOutput, relu, outputGradient));
    }

    // Where BackwardShifted takes each sample's dY from when it routes it from a max pooling above.
    private readonly ref struct Routing(ReadOnlySpan<float> gradient, ReadOnlySpan<float> argmax, ReadOnlySpan<float> output, bool relu, Span<float> room)
    {
        public readonly ReadOnlySpan<float> Gradient = gradient, Argmax = argmax, Output = output;
        public readonly bool ReLU = relu;
        public readonly Span<float> Room = room;
        public bool Active => !Gradient.IsEmpty;
    }

    /// <summary>
    /// The gradients of <see cref="Forward"/> given dY: overwrites <paramref name="weightGradient"/> and
    /// <paramref name="biasGradient"/> with the sums over the batch, and, unless <paramref name="inputGradient"/> is
    /// empty (a first layer needs none), overwrites it with dX. A batch of 0 clears the weight and bias gradients.
    /// dX may take the next passes of a backward walk as it is written: with <paramref name="inputSkipGradient"/>, a
    /// residual skip's gradient of the same input is added to it; with <paramref name="throughInputReLU"/>, X is taken
    /// as a ReLU's output and dX through that ReLU (zero where X ≤ 0), after the skip's sum. The bits are those of
    /// <see cref="Elementwise.AddThroughReLU"/>, <see cref="Elementwise.Add(ReadOnlySpan{float}, Span{float})"/> or
    /// <see cref="Activations.ReLUBackward"/> over dX afterwards.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, or the batch would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">A span is shorter than the geometry and batch need (the input gradient only if not empty), or a skip's gradient or the ReLU is asked for without an input gradient.</exception>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
        Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, int batch, Conv2DGeometry g,
        ReadOnlySpan<float> inputSkipGradient = default, bool throughInputReLU = false)
    {
        Check(x.Length, nameof(x), outputGradient.Length, nameof(outputGradient), weight.Length, nameof(weight), biasGradient.Length, nameof(biasGradient), batch, g);
        CheckGradients(weightGradient.Length, inputGradient.Length, batch, g);
        if ((!inputSkipGradient.IsEmpty || throughInputReLU) && inputGradient.IsEmpty)
            throw new ArgumentException("Convolution: a skip's gradient or the input's ReLU needs an input gradient to take them.", nameof(inputGradient));
        if (!inputSkipGradient.IsEmpty)
            Sizes.Need(inputSkipGradient.Length, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(inputSkipGradient), "a batch of {0} inputs of {1}", batch, g.InputLength);
        int positions = g.Positions, patch = g.Patch;
        weightGradient.Slice(0, g.WeightLength).Clear();
        biasGradient.Slice(0, g.OutChannels).Clear();
        if (g.RowOffsets is not null && !g.IsPointwise)
        {
            if (!BackwardShifted(x, weight, outputGradient, weightGradient, biasGradient, inputGradient, batch, g, default, inputSkipGradient, throughInputReLU)
                && !inputGradient.IsEmpty)
                InputGradientTail(x, inputSkipGradient, throughInputReLU, inputGradient.Slice(0, batch * g.InputLength));
            return;
        }
        var columns = Scratch.Get(ref t_columns, g.ColumnsLength);
        for (int n = 0; n < batch; n++)
        {
            var sample = x.Slice(n * g.InputLength, g.InputLength);
            var dy = outputGradient.Slice(n * g.OutputLength, g.OutputLength);
            ReadOnlySpan<float> cols = sample;
            if (!g.IsPointwise)
            {
                Unfold(sample, columns, g);
                cols = columns;
            }
            // dW [outC, patch] += dY [outC, positions] · cols [patch, positions]ᵀ
            Gemm.MultiplyTransposed(dy, cols, default, weightGradient, g.OutChannels, patch, positions, accumulate: true);
            for (int c = 0; c < g.OutChannels; c++)
                biasGradient[c] += TensorPrimitives.Sum(dy.Slice(c * positions, positions));
            if (inputGradient.IsEmpty) continue;
            var dx = inputGradient.Slice(n * g.InputLength, g.InputLength);
            if (g.IsPointwise)
            {
                // dX [inC, positions] = Wᵀ [inC, outC] · dY [outC, positions]
                Gemm.MultiplyAccumulate(weight, 1, patch, dy, dx, patch, positions, g.OutChannels, accumulate: false);
                continue;
            }
            // dcols [patch, positions] = Wᵀ · dY, then each column's entries go back to the input positions they came from.
            Gemm.MultiplyAccumulate(weight, 1, patch, dy, columns, patch, positions, g.OutChannels, accumulate: false);
            dx.Clear();
            Fold(columns, dx, g);
        }
        if (!inputGradient.IsEmpty) InputGradientTail(x, inputSkipGradient, throughInputReLU, inputGradient.Slice(0, batch * g.InputLength));
    }

    // What Backward's dX takes after it is written: the skip's gradient added, then the ReLU of X (dX ⊙ [X > 0]).
    private static void InputGradientTail(ReadOnlySpan<float> x, ReadOnlySpan<float> skip, bool relu, Span<float> dx)
    {
        if (!skip.IsEmpty && relu) Elementwise.AddThroughReLU(skip.Slice(0, dx.Length), x.Slice(0, dx.Length), dx);
        else if (!skip.IsEmpty) Elementwise.Add(skip.Slice(0, dx.Length), dx);
        else if (relu) Activations.ReLUBackward(x.Slice(0, dx.Length), dx, dx);
    }

    // Stride 1: the unfolded input's rows are shifted views of the zero-padded input. Outputs are computed in a "wide"
    // layout of outH rows of the padded width (the extra columns are computed and dropped), so that every row of the
    // unfolded input is one contiguous run of the padded input, and the product runs on Gemm.MultiplyIndirect.
    private static void ForwardShifted(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch, Conv2DGeometry g, bool relu)
    {
        var padded = Scratch.Get(ref t_padded, g.PaddedLength);
        int wide = g.WidePositions;
        var outputs = Scratch.Get(ref t_wide, g.OutChannels * wide + Room); // a vector of room for CopyRows
        for (int n = 0; n < batch; n++)
        {
            Pad(x.Slice(n * g.InputLength, g.InputLength), padded, g, clear: n == 0);
            Gemm.MultiplyIndirect(weight, padded, g.RowOffsets, bias, outputs, g.OutChannels, wide, g.Patch);
            // Drop the extra columns: outC·outH rows of outW floats, PaddedWidth apart in the wide layout.
            CopyRows(ref MemoryMarshal.GetReference(outputs), wide, g.PaddedWidth, y.Slice(n * g.OutputLength, g.OutputLength),
                g.OutChannels, g.OutHeight, g.OutWidth, relu);
        }
    }

    // Returns whether dX took the skip's gradient and the ReLU of X (Backward's InputGradientTail) as it was written;
    // if not, the caller applies them.
    private static bool BackwardShifted(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
        Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, int batch, Conv2DGeometry g, Routing routing = default,
        ReadOnlySpan<float> inputSkipGradient = default, bool throughInputReLU = false)
    {
        int wide = g.WidePositions, patch = g.Patch, positions = g.Positions;
        // With whole blocks of 16 filters and a patch of at least 16 taps, the weight gradient is taken turned around,
        // dWᵀ [patch, outC] += (shifted rows of the padded input) · dYᵀ, on the broadcast kernel (dY turned to
        // [wide, outC] per sample, rows padded as Gemm.PaddedStride says); else as dot products, which end in horizontal
        // sums and load the shifted rows unaligned (32→64 filters on 14×14, 64 samples: 13.1 → 9.9 ms without dX).
        int outC = g.OutChannels, ldt = Gemm.PaddedStride(outC);
        // Where Winograd takes the forward pass, the weight gradient by the adjoint of F(4×4, 3×3) over the whole batch
        // after the samples' loop (about a quarter of the direct products; measured in Winograd.Worthwhile's note), so
        // a dY routed from a pooling goes to the batch's room, as for the flipped kernel's input gradient: the same
        // bits as Backward given the routed dY.
        bool winograd = Winograd.Worthwhile(g, g.InChannels, outC);
        // A 3×3 kernel over more than one channel, unless the turned product fills its pairs of vectors with filters:
        // partial sums a lane each along the positions (LaneGradients).
        bool lanesWise = !winograd && LaneWise(g) && patch > 9 && outC % (2 * Vector512<float>.Count) != 0;
        bool turned = !winograd && !lanesWise && outC % Gemm.StripWidth == 0 && patch >= 16;
        // A patch of at most nine taps (a first layer, one channel 3×3) in blocks of a vector of filters (16 or 8, the
        // widest accelerated vector the filters fill): channels-last, the taps' sums in registers and the bias gradient
        // with them (SmallPatchGradients).
        int smallLanes = winograd || turned || lanesWise || patch > 9 || g.OutWidth < 8 ? 0
            : Vector512.IsHardwareAccelerated && outC % Vector512<float>.Count == 0 ? Vector512<float>.Count
            : Vector256.IsHardwareAccelerated && outC % Vector256<float>.Count == 0 ? Vector256<float>.Count : 0;
        bool small = smallLanes > 0;
        var transposed = turned || small ? Scratch.Get(ref t_turned, wide * ldt + patch * outC + 2 * outC) : default;
        var dyT = turned || small ? transposed.Slice(0, wide * ldt) : default;
        var dWT = turned || small ? transposed.Slice(wide * ldt, patch * outC) : default;
        var biasSums = small ? transposed.Slice(wide * ldt + patch * outC, outC) : default;
        if (turned || small) dyT.Clear(); // the dropped positions stay zero
        if (small)
        {
            dWT.Clear();
            biasSums.Clear();
        }
        // dX as a convolution of dY with the flipped kernel (one product of depth outC·kh·kw on the forward kernel, no
        // scatter back) where the geometry allows; else dcols = Wᵀ·dY folded back per sample, below.
        var flipped = g.InputGradient;
        bool folding = !inputGradient.IsEmpty && flipped is null;
        // dY in the wide layout (for the dot-product weight gradient and the fold), and the fold's buffers, only when used.
        bool wideGradients = !turned && !small && !winograd || folding;
        var padded = Scratch.Get(ref t_padded, (folding ? 2 : 1) * g.PaddedLength);
        var input = padded.Slice(0, g.PaddedLength);
        var inputPadded = folding ? padded.Slice(g.PaddedLength, g.PaddedLength) : default;
        var gradients = wideGradients ? Scratch.Get(ref t_wide, outC * wide + Room) : default;
        var columns = folding ? Scratch.Get(ref t_columns, patch * wide) : default;
        gradients.Clear(); // the dropped columns stay zero, so they add nothing below
        var laneSums = lanesWise ? Scratch.Get(ref t_lanes, outC * patch * Vector512<float>.Count) : default;
        laneSums.Clear();
        for (int n = 0; n < batch; n++)
        {
            if (!winograd) Pad(x.Slice(n * g.InputLength, g.InputLength), input, g, clear: n == 0); // Winograd lays X out its own way
            var dy = outputGradient.Slice(n * g.OutputLength, g.OutputLength);
            if (routing.Active)
            {
                // dY routed from the pooled gradient now, into the batch's room if the input or weight gradient reads it all at the end.
                int ph = g.OutHeight / 2, pw = g.OutWidth / 2, pooled = outC * ph * pw;
                var routed = flipped is not null && !inputGradient.IsEmpty || winograd ? routing.Room.Slice(n * g.OutputLength, g.OutputLength) : Scratch.Get(ref t_routed, g.OutputLength);
                Pooling.MaxBackwardChosen(routing.Gradient.Slice(n * pooled, pooled), routing.Argmax.Slice(n * pooled, pooled),
                    routing.ReLU ? routing.Output.Slice(n * pooled, pooled) : default, routed, outC, g.OutHeight, g.OutWidth, ph, pw, routing.ReLU);
                dy = routed;
            }
            if (small)
            {
                TurnToWide(dy, dyT, ldt, g);
                if (smallLanes == Vector512<float>.Count) SmallPatchGradients<Width512, Vector512<float>>(input, g.RowOffsets!, patch, dyT, ldt, wide, dWT, biasSums, outC);
                else SmallPatchGradients<Width256, Vector256<float>>(input, g.RowOffsets!, patch, dyT, ldt, wide, dWT, biasSums, outC);
            }
            else if (!winograd) // Winograd's backward sums dY's positions from its channels-last turn
                for (int c = 0; c < outC; c++)
                    biasGradient[c] += TensorPrimitives.Sum(dy.Slice(c * positions, positions));
            if (turned)
            {
                TurnToWide(dy, dyT, ldt, g);
                Gemm.MultiplyShiftedRows(input, g.RowOffsets, dyT, ldt, dWT, patch, outC, wide, accumulate: n > 0);
            }
            if (wideGradients)
                CopyBlock(ref MemoryMarshal.GetReference(dy), positions, g.OutWidth, ref MemoryMarshal.GetReference(gradients), wide, g.PaddedWidth,
                    outC, g.OutHeight, g.OutWidth);
            // dW [outC, patch] += dY [outC, wide] · (shifted rows of the padded input)ᵀ
            if (lanesWise) LaneGradients<Width512, Vector512<float>>(input, g.RowOffsets!, patch, gradients, wide, wide, laneSums, outC);
            else if (!turned && !small && !winograd) Gemm.MultiplyTransposedIndirect(gradients, input, g.RowOffsets, weightGradient, outC, patch, wide, accumulate: true);
            if (!folding) continue;
            // dcols [patch, wide] = Wᵀ · dY, then each row goes back to the run of the padded input it was read from.
            Gemm.MultiplyAccumulate(weight, 1, patch, gradients, columns, patch, wide, g.OutChannels, accumulate: false);
            inputPadded.Clear();
            for (int p = 0; p < patch; p++)
            {
                var target = inputPadded.Slice(g.RowOffsets![p], wide);
                TensorPrimitives.Add(target, columns.Slice(p * wide, wide), target);
            }
            ref float folded = ref MemoryMarshal.GetReference(inputPadded);
            var dx = inputGradient.Slice(n * g.InputLength, g.InputLength);
            CopyBlock(ref Unsafe.Add(ref folded, g.PadTop * g.PaddedWidth + g.PadLeft), g.PaddedHeight * g.PaddedWidth, g.PaddedWidth,
                ref MemoryMarshal.GetReference(dx), g.Height * g.Width, g.Width, g.InChannels, g.Height, g.Width);
        }
        // outputGradient holds the batch's dY by now: the caller's, or routed into it (the routing's room is outputGradient).
        // dX too where Winograd takes its convolution (the flipped kernel's: dY's outC channels in, inC out), so that each
        // sample's dY is turned channels-last once for the three gradients.
        bool winogradInput = winograd && !inputGradient.IsEmpty && flipped is not null && Winograd.Worthwhile(g, g.OutChannels, g.InChannels);
        if (winograd)
            Winograd.RunBackward(x, weight, outputGradient, weightGradient, biasGradient, winogradInput ? inputGradient : default, batch, g.InChannels, outC,
                g.Height, g.Width, Winograd.DefaultTile, inputSkipGradient, throughInputReLU);
        if (winogradInput) return true;
        if (turned && batch > 0)
            for (int p = 0; p < patch; p++)
                for (int c = 0; c < outC; c++)
                    weightGradient[c * patch + p] = dWT[p * outC + c];
        if (lanesWise && batch > 0) SumLanes<Width512, Vector512<float>>(laneSums, weightGradient, outC * patch);
        if (small)
            for (int c = 0; c < outC; c++)
            {
                biasGradient[c] = biasSums[c];
                for (int p = 0; p < patch; p++)
                    weightGradient[c * patch + p] = dWT[(c / smallLanes * patch + p) * smallLanes + c % smallLanes];
            }
        if (inputGradient.IsEmpty || flipped is null) return false;
        // The flipped kernel's convolution has dY's outC channels in and inC out.
        if (Winograd.Worthwhile(g, g.OutChannels, g.InChannels))
        {
            Winograd.RunInputGradient(weight, outputGradient, inputGradient, batch, g, Winograd.DefaultTile);
            return false;
        }
        var kernel = Scratch.Get(ref t_flipped, g.WeightLength + g.InChannels);
        FlipKernel(weight, kernel, g);
        var zeros = kernel.Slice(g.WeightLength, g.InChannels);
        zeros.Clear();
        ForwardShifted(outputGradient, kernel, zeros, inputGradient, batch, flipped, relu: false);
        return false;
    }

    /// <summary>
    /// The kernel of <see cref="Conv2DGeometry.InputGradient"/>: W'[c, f, i, j] = W[f, c, K − 1 − i, K − 1 − j], into
    /// <paramref name="flipped"/> ([inC, outC, kh, kw]).
    /// </summary>
    internal static void FlipKernel(ReadOnlySpan<float> weight, Span<float> flipped, Conv2DGeometry g)
    {
        int kh = g.KernelHeight, kw = g.KernelWidth, inC = g.InChannels, outC = g.OutChannels;
        for (int f = 0; f < outC; f++)
            for (int c = 0; c < inC; c++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                        flipped[((c * outC + f) * kh + kh - 1 - i) * kw + kw - 1 - j] = weight[((f * inC + c) * kh + i) * kw + j];
    }

    // dY [outC, outH, outW] of one sample into dYᵀ in the wide layout, [wide, outC] with rows `stride` apart: position
    // (r, x) at row r·PaddedWidth + x.
    private static void TurnToWide(ReadOnlySpan<float> dy, Span<float> dyT, int stride, Conv2DGeometry g)
    {
        int outC = g.OutChannels, positions = g.Positions, outW = g.OutWidth;
        if (dy.Length < outC * positions || dyT.Length < ((g.OutHeight - 1) * g.PaddedWidth + outW - 1) * stride + outC)
            throw new ArgumentException($"TurnToWide: dY holds {dy.Length} floats, dYᵀ {dyT.Length}.");
        ref float source = ref MemoryMarshal.GetReference(dy);
        ref float target = ref MemoryMarshal.GetReference(dyT);
        // Blocks of 8 channels × 8 positions of a row by AVX transposes (outC is a multiple of 8 here), a row's last block
        // overlapping the one before (copying the same values again) so that no position goes one by one: one sample of
        // 16 channels of 14×14, 2.6–2.9 µs one by one, 1.1–1.2 µs so (min of 41, same run).
        bool blocks = System.Runtime.Intrinsics.X86.Avx.IsSupported && outW >= 8;
        for (int r = 0; r < g.OutHeight; r++)
            for (int c = 0; c < outC; c++)
            {
                ref float from = ref Unsafe.Add(ref source, c * positions + r * outW);
                ref float to = ref Unsafe.Add(ref target, r * g.PaddedWidth * stride + c);
                if (!blocks)
                {
                    for (int x = 0; x < outW; x++) Unsafe.Add(ref to, x * stride) = Unsafe.Add(ref from, x);
                    continue;
                }
                if (c % 8 != 0) continue; // done by the block of channels it belongs to
                for (int x = 0; ; x += 8)
                {
                    if (x + 8 > outW) x = outW - 8;
                    Gemm.Transpose8x8(ref Unsafe.Add(ref from, x), positions, ref Unsafe.Add(ref to, x * stride), stride);
                    if (x + 8 == outW) break;
                }
            }
    }

    // planes × rows lines of `width` floats: line r of plane p from source[p·planeStride + r·rowStride], packed into
    // target, through max(0, ·) if `relu`. Lines go in whole vectors: a line's last vector runs into the lines after
    // it, which overwrite it; a line whose vectors would run past the end of the target is copied exactly. The source
    // has a whole vector of room past every line (the wide layout is padded, by Room after its last line).
    private static void CopyRows(ref float source, int planeStride, int rowStride, Span<float> target, int planes, int rows, int width, bool relu)
    {
        if (target.Length < planes * rows * width) throw new ArgumentException($"CopyRows: the target holds {target.Length} floats, not {planes * rows * width}.");
        if (Vector512.IsHardwareAccelerated) CopyRows<Width512, Vector512<float>>(ref source, planeStride, rowStride, ref MemoryMarshal.GetReference(target), planes, rows, width, relu);
        else if (Vector256.IsHardwareAccelerated) CopyRows<Width256, Vector256<float>>(ref source, planeStride, rowStride, ref MemoryMarshal.GetReference(target), planes, rows, width, relu);
        else CopyRows<Width128, Vector128<float>>(ref source, planeStride, rowStride, ref MemoryMarshal.GetReference(target), planes, rows, width, relu);
    }

    // CopyRows at one width, the target's length checked.
    private static void CopyRows<TWidth, TVector>(ref float source, int planeStride, int rowStride, ref float target, int planes, int rows, int width, bool relu)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count, lines = planes * rows, vectors = (width + lanes - 1) / lanes;
        var zero = TWidth.Zero;
        for (int line = 0; line < lines; line++)
        {
            ref float from = ref Unsafe.Add(ref source, line / rows * planeStride + line % rows * rowStride);
            ref float to = ref Unsafe.Add(ref target, line * width);
            if (line * width + lanes * vectors > lines * width)
            {
                for (int i = 0; i < width; i++)
                    Unsafe.Add(ref to, i) = relu ? MathF.Max(Unsafe.Add(ref from, i), 0f) : Unsafe.Add(ref from, i);
                continue;
            }
            for (int v = 0; v < vectors; v++)
            {
                var value = TWidth.Load(ref from, (nuint)(lanes * v));
                TWidth.Store(relu ? TWidth.Max(value, zero) : value, ref to, (nuint)(lanes * v));
            }
        }
    }

    // planes × rows lines of `width` floats from one strided layout to another, exactly.
    private static void CopyBlock(ref float source, int sourcePlane, int sourceRow, ref float target, int targetPlane, int targetRow, int planes, int rows, int width)
    {
        uint bytes = (uint)(width * sizeof(float));
        for (int p = 0; p < planes; p++)
            for (int r = 0; r < rows; r++)
                Unsafe.CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref target, p * targetPlane + r * targetRow)),
                    ref Unsafe.As<float, byte>(ref Unsafe.Add(ref source, p * sourcePlane + r * sourceRow)), bytes);
    }

    // Copies one sample into the zero-padded layout: every plane PaddedHeight × PaddedWidth, the input at (PadTop, PadLeft).
    // The copy writes only the input's positions, so the zeros around them stay from one sample to the next: a loop over
    // samples clears the buffer (`clear`) for its first sample only.
    private static void Pad(ReadOnlySpan<float> x, Span<float> padded, Conv2DGeometry g, bool clear)
    {
        int hp = g.PaddedHeight, wp = g.PaddedWidth;
        if (padded.Length < g.InChannels * hp * wp || x.Length < g.InputLength)
            throw new ArgumentException($"Pad: the padded buffer holds {padded.Length} floats (need {g.InChannels * hp * wp}), the input {x.Length} (need {g.InputLength}).");
        // Zero everything, then copy the rows in: the padding is a few rows and columns, so one clear is cheaper than many
        // small ones. The clear runs on past the last plane, whose last row's right padding is the (zero) floats after it,
        // and on through whatever the dropped positions of the wide layout read, so that they hold zeros, not stale values.
        if (clear) padded.Slice(0, Math.Min(padded.Length, g.PaddedLength)).Clear();
        CopyBlock(ref MemoryMarshal.GetReference(x), g.Height * g.Width, g.Width,
            ref Unsafe.Add(ref MemoryMarshal.GetReference(padded), g.PadTop * wp + g.PadLeft), hp * wp, wp, g.InChannels, g.Height, g.Width);
    }

    /// <summary>
    /// im2col: cols[(c·kh + i)·kw + j, oy·outW + ox] = X[c, oy·S + i − padTop, ox·S + j − padLeft], zero outside the input.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentException">X is shorter than one input sample, or the columns shorter than <see cref="Conv2DGeometry.ColumnsLength"/>.</exception>
    public static void Unfold(ReadOnlySpan<float> x, Span<float> columns, Conv2DGeometry g)
    {
        ArgumentNullException.ThrowIfNull(g);
        Sizes.Need(x.Length, g.InputLength, nameof(x), "an input sample [{0}, {1}, {2}]", g.InChannels, g.Height, g.Width);
        Sizes.Need(columns.Length, g.ColumnsLength, nameof(columns), "the unfolded input [{0}, {1}]", g.Patch, g.Positions);
        int outH = g.OutHeight, outW = g.OutWidth, s = g.Stride, h = g.Height, w = g.Width;
        int row = 0;
        for (int c = 0; c < g.InChannels; c++)
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    var target = columns.Slice(row * outH * outW, outH * outW);
                    var plane = x.Slice(c * h * w, h * w);
                    // Output columns whose input column ox·S + j − padLeft lies inside [0, w).
                    int first = Math.Max(0, CeilDiv(g.PadLeft - j, s)), last = Math.Min(outW - 1, FloorDiv(w - 1 + g.PadLeft - j, s));
                    for (int oy = 0; oy < outH; oy++)
                    {
                        var line = target.Slice(oy * outW, outW);
                        int iy = oy * s + i - g.PadTop;
                        if (iy < 0 || iy >= h || first > last)
                        {
                            line.Clear();
                            continue;
                        }
                        line.Slice(0, first).Clear();
                        var source = plane.Slice(iy * w);
                        int ix = first * s + j - g.PadLeft;
                        if (s == 1)
                            source.Slice(ix, last - first + 1).CopyTo(line.Slice(first));
                        else
                            for (int ox = first; ox <= last; ox++, ix += s) line[ox] = source[ix];
                        line.Slice(last + 1).Clear();
                    }
                }
    }

    /// <summary>col2im, the adjoint of <see cref="Unfold"/>: adds each entry of the columns to the input position it was read from.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentException">The columns are shorter than <see cref="Conv2DGeometry.ColumnsLength"/>, or dX than one input sample.</exception>
    public static void Fold(ReadOnlySpan<float> columns, Span<float> dx, Conv2DGeometry g)
    {
        ArgumentNullException.ThrowIfNull(g);
        Sizes.Need(columns.Length, g.ColumnsLength, nameof(columns), "the unfolded input [{0}, {1}]", g.Patch, g.Positions);
        Sizes.Need(dx.Length, g.InputLength, nameof(dx), "an input sample [{0}, {1}, {2}]", g.InChannels, g.Height, g.Width);
        int outH = g.OutHeight, outW = g.OutWidth, s = g.Stride, h = g.Height, w = g.Width;
        int row = 0;
        for (int c = 0; c < g.InChannels; c++)
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    var source = columns.Slice(row * outH * outW, outH * outW);
                    var plane = dx.Slice(c * h * w, h * w);
                    int first = Math.Max(0, CeilDiv(g.PadLeft - j, s)), last = Math.Min(outW - 1, FloorDiv(w - 1 + g.PadLeft - j, s));
                    if (first > last) continue;
                    for (int oy = 0; oy < outH; oy++)
                    {
                        int iy = oy * s + i - g.PadTop;
                        if (iy < 0 || iy >= h) continue;
                        var line = source.Slice(oy * outW, outW);
                        var target = plane.Slice(iy * w);
                        int ix = first * s + j - g.PadLeft;
                        if (s == 1)
                        {
                            var t = target.Slice(ix, last - first + 1);
                            TensorPrimitives.Add(t, line.Slice(first, last - first + 1), t);
                        }
                        else
                            for (int ox = first; ox <= last; ox++, ix += s) target[ix] += line[ox];
                    }
                }
    }

    private static int CeilDiv(int a, int b) => a <= 0 ? -(-a / b) : (a + b - 1) / b;

    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    // The spans every entry point takes: X and Y (or dY) for the batch, the weights and the bias (or their gradient).
    private static void Check(int x, string xName, int y, string yName, int weight, string weightName, int bias, string biasName, int batch, Conv2DGeometry g)
    {
        ArgumentNullException.ThrowIfNull(g);
        Sizes.Need(x, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), xName, "a batch of {0} inputs of {1}", batch, g.InputLength);
        Sizes.Need(y, Sizes.Product(batch, nameof(batch), g.OutputLength, nameof(g)), yName, "a batch of {0} outputs of {1}", batch, g.OutputLength);
        Sizes.Need(weight, g.WeightLength, weightName, "weights [{0}, {1}]", g.OutChannels, g.Patch);
        Sizes.Need(bias, g.OutChannels, biasName, "a bias of {0} filters", g.OutChannels);
    }

    // The weight gradient, and the input gradient unless empty (batch checked already).
    private static void CheckGradients(int weightGradient, int inputGradient, int batch, Conv2DGeometry g)
    {
        Sizes.Need(weightGradient, g.WeightLength, nameof(weightGradient), "weights [{0}, {1}]", g.OutChannels, g.Patch);
        if (inputGradient != 0)
            Sizes.Need(inputGradient, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(inputGradient), "a batch of {0} inputs of {1}", batch, g.InputLength);
    }
}
