using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenNets.Kernels;

// The batched forward product of dense layers: the batch laid out in strips of 16 samples side by side, feature-major,
// and Yᵀ = W·Xᵀ on them (docs/architecture.md, "Kernels").
public static partial class Gemm
{
    [ThreadStatic] private static float[]? t_strips;

    /// <summary>
    /// Y = X·Wᵀ + bias for row-major X [rows, k] and Y [rows, n], W [n, k]: a dense layer's forward product on a batch
    /// whose output must stay row-major (training keeps it for the backward pass). From <see cref="StripMinimumRows"/>
    /// rows on, X is packed into strips in a per-thread buffer and multiplied with <see cref="MultiplyStrips"/>; below,
    /// <see cref="MultiplyTransposed"/> reads it in place. Allocates only when a thread first sees a larger batch.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or a matrix (or the strips of X and Y together) would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">X, W or Y is shorter than its matrix, or the bias is shorter than n (empty only below <see cref="StripMinimumRows"/> rows).</exception>
    public static void DenseForward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int rows, int n, int k)
    {
        Sizes.Need(x.Length, Sizes.Product(rows, nameof(rows), k, nameof(k)), nameof(x), "X [{0}, {1}]", rows, k);
        Sizes.Need(w.Length, Sizes.Product(n, nameof(n), k, nameof(k)), nameof(w), "W [{0}, {1}]", n, k);
        Sizes.Need(y.Length, Sizes.Product(rows, nameof(rows), n, nameof(n)), nameof(y), "Y [{0}, {1}]", rows, n);
        if (rows < StripMinimumRows)
        {
            MultiplyTransposed(x, w, bias, y, rows, n, k);
            return;
        }
        if (k <= BroadcastMaximumDepth && n >= BroadcastMinimumWidth)
        {
            // A shallow product (a transformer's projections over 64 features): packing X and Y into strips and back
            // costs more than the products. Wᵀ is laid out once per call instead, its rows padded off 256-byte strides,
            // and X's rows are read in place by the broadcast kernel: each output is still its bias plus the products in
            // order of k.
            int stride = PaddedStride(n);
            var turned = Scratch.Get(ref t_turned, (int)Sizes.Product(k, nameof(k), stride, nameof(n)));
            Transpose(w, turned, n, k, stride);
            MultiplyAccumulateChecked(x, k, 1, turned, stride, bias, y, rows, n, k, accumulate: false, reverse: false);
            return;
        }
        Sizes.Fits(Strips(rows, k) + Strips(rows, n), nameof(rows), "The strips of X and Y");
        int input = StripLength(rows, k), output = StripLength(rows, n);
        var strips = Scratch.Get(ref t_strips, input + output);
        PackStrips(x, strips.Slice(0, input), rows, k);
        MultiplyStrips(w, bias, strips.Slice(0, input), strips.Slice(input, output), rows, n, k);
        UnpackStrips(strips.Slice(input, output), y, rows, n);
    }

    [ThreadStatic] private static float[]? t_between;

    /// <summary>
    /// The first of two dense layers whose output stays in strips for the second (a transformer's feed-forward pair):
    /// X·Wᵀ + bias for row-major X [rows, k], returned in strips (<see cref="StripLength"/>(rows, n) floats) of a
    /// per-thread buffer, where an activation may run over it (the last strip's padding is computed too, and never
    /// read) before <see cref="DenseForwardFromStrips"/> reads it. The span stays valid until this thread's next call.
    /// Laying out neither W nor the wide output row-major saves the per-call transposes of <see cref="DenseForward"/>:
    /// one sample of PEERS.md's Transformer, 64→256 GELU →64 over 32 positions, 23.8 → 21.5 µs (Xeon, AVX-512).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or a matrix or the strips would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">X, W or the bias is shorter than its shape.</exception>
    public static Span<float> DenseForwardToStrips(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int rows, int n, int k)
    {
        Sizes.Need(x.Length, Sizes.Product(rows, nameof(rows), k, nameof(k)), nameof(x), "X [{0}, {1}]", rows, k);
        int input = StripLength(rows, k), output = StripLength(rows, n);
        var packed = Scratch.Get(ref t_strips, input);
        var kept = Scratch.Get(ref t_between, output);
        PackStrips(x, packed, rows, k);
        MultiplyStrips(w, bias, packed, kept, rows, n, k);
        return kept;
    }

    /// <summary>
    /// The second of two dense layers joined by strips: Y = X·Wᵀ + bias into row-major Y [rows, n], from X in strips of
    /// k features (as <see cref="DenseForwardToStrips"/> returns them).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or a matrix or the strips would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">The strips, W, the bias or Y is shorter than its shape.</exception>
    public static void DenseForwardFromStrips(ReadOnlySpan<float> strips, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int rows, int n, int k)
    {
        Sizes.Need(y.Length, Sizes.Product(rows, nameof(rows), n, nameof(n)), nameof(y), "Y [{0}, {1}]", rows, n);
        var result = Scratch.Get(ref t_strips, StripLength(rows, n));
        MultiplyStrips(w, bias, strips, result, rows, n, k);
        UnpackStrips(result, y, rows, n);
    }

    /// <summary>
    /// Up to this depth (and from <see cref="BroadcastMinimumWidth"/> outputs on), <see cref="DenseForward"/> multiplies row-major
    /// X by Wᵀ laid out per call instead of packing strips. Measured on PEERS.md's Transformer at 2,048 rows (Xeon,
    /// AVX-512, one thread): 64→192 0.71 → 0.32 ms, 64→256 0.96 → 0.54 ms, 64→64 0.23 → 0.10 ms; 256→64 0.70 → 0.60 ms
    /// (left to the strips, as every deeper product, where the MLP's 784→256 runs at 86 % of the peak).
    /// </summary>
    public const int BroadcastMaximumDepth = 128;

    /// <summary>Outputs a shallow product needs for the broadcast kernel: two 512-bit vectors.</summary>
    public const int BroadcastMinimumWidth = 32;

    [ThreadStatic] private static float[]? t_turned;

    // destination[i·stride + o] = w[o·k + i]: W [n, k] as Wᵀ [k, n] with rows `stride` apart, by 8×8 AVX transposes
    // where they fit.
    private static void Transpose(ReadOnlySpan<float> w, Span<float> destination, int n, int k, int stride)
    {
        ref float source = ref MemoryMarshal.GetReference(w);
        ref float target = ref MemoryMarshal.GetReference(destination);
        int blockRows = Avx.IsSupported ? n / Lanes * Lanes : 0, blockColumns = Avx.IsSupported ? k / Lanes * Lanes : 0;
        for (int o = 0; o < blockRows; o += Lanes)
            for (int i = 0; i < blockColumns; i += Lanes)
                Transpose8x8(ref Unsafe.Add(ref source, o * k + i), k, ref Unsafe.Add(ref target, i * stride + o), stride);
        for (int o = 0; o < n; o++)
            for (int i = o < blockRows ? blockColumns : 0; i < k; i++)
                Unsafe.Add(ref target, i * stride + o) = Unsafe.Add(ref source, o * k + i);
    }

    /// <summary>Samples in a strip: a batch is stored strip by strip, each strip feature-major with 16 samples side by side.</summary>
    public const int StripWidth = 16;

    // Rows and columns of the AVX transpose that packs the strips.
    private const int Lanes = 8;

    /// <summary>
    /// From this many rows on, <see cref="MultiplyStrips"/> (with packing) beats <see cref="MultiplyTransposed"/>; below it the
    /// padding of a strip costs more than the broadcast form saves (measured on 256×784: 8 rows 42 vs 47 GFLOP/s, 12 rows 63 vs 54).
    /// </summary>
    public const int StripMinimumRows = 12;

    /// <summary>Floats a batch of <paramref name="rows"/> samples of <paramref name="features"/> floats takes in strips (the last strip padded).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or the strips would hold more than <see cref="int.MaxValue"/> floats.</exception>
    public static int StripLength(int rows, int features)
    {
        long length = Strips(rows, features);
        Sizes.Fits(length, rows >= features ? nameof(rows) : nameof(features), "Strips of the rows' features");
        return (int)length;
    }

    // The strips' floats in long, sizes checked not negative (rows rounded up to whole strips: at most 2³¹ + 15, times
    // features below 2³¹, cannot wrap).
    private static long Strips(int rows, int features)
    {
        Sizes.NotNegative(rows, nameof(rows));
        Sizes.NotNegative(features, nameof(features));
        return ((long)rows + StripWidth - 1) / StripWidth * StripWidth * features;
    }

    /// <summary>
    /// Copies row-major X [rows, features] into strips: element (r, f) goes to
    /// strips[((r / 16)·features + f)·16 + r % 16]. The padding of the last strip is zeroed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or X or its strips would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">X or the strips are shorter than they must be.</exception>
    public static void PackStrips(ReadOnlySpan<float> x, Span<float> strips, int rows, int features)
    {
        Sizes.Need(x.Length, Sizes.Product(rows, nameof(rows), features, nameof(features)), nameof(x), "X [{0}, {1}]", rows, features);
        Sizes.Need(strips.Length, StripLength(rows, features), nameof(strips), "the strips of [{0}, {1}]", rows, features);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rs = ref MemoryMarshal.GetReference(strips);
        for (int s = 0; s * StripWidth < rows; s++)
        {
            ref float strip = ref Unsafe.Add(ref rs, s * features * StripWidth);
            for (int c0 = 0; c0 < StripWidth; c0 += Lanes)
            {
                int first = s * StripWidth + c0, count = Math.Clamp(rows - first, 0, Lanes);
                int f = 0;
                if (count == Lanes && Avx.IsSupported)
                    for (; f + Lanes <= features; f += Lanes)
                        Transpose8x8(ref Unsafe.Add(ref rx, first * features + f), features, ref Unsafe.Add(ref strip, f * StripWidth + c0), StripWidth);
                for (; f < features; f++)
                    for (int c = 0; c < Lanes; c++)
                        Unsafe.Add(ref strip, f * StripWidth + c0 + c) = c < count ? Unsafe.Add(ref rx, (first + c) * features + f) : 0f;
            }
        }
    }

    // Eight rows of eight floats (source rows ld apart) written as eight columns (destination rows ldd apart). Needs AVX.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(ref float source, int ld, ref float destination, int ldd)
    {
        Transpose8x8(ref source, ld, out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
        c0.StoreUnsafe(ref destination);
        c1.StoreUnsafe(ref Unsafe.Add(ref destination, ldd));
        c2.StoreUnsafe(ref Unsafe.Add(ref destination, 2 * ldd));
        c3.StoreUnsafe(ref Unsafe.Add(ref destination, 3 * ldd));
        c4.StoreUnsafe(ref Unsafe.Add(ref destination, 4 * ldd));
        c5.StoreUnsafe(ref Unsafe.Add(ref destination, 5 * ldd));
        c6.StoreUnsafe(ref Unsafe.Add(ref destination, 6 * ldd));
        c7.StoreUnsafe(ref Unsafe.Add(ref destination, 7 * ldd));
    }

    // Eight rows of eight floats (rows ld apart) as their eight columns c0…c7, in registers. Needs AVX.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(ref float source, int ld, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        var r0 = Vector256.LoadUnsafe(ref source); var r1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, ld));
        var r2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 2 * ld)); var r3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 3 * ld));
        var r4 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 4 * ld)); var r5 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 5 * ld));
        var r6 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 6 * ld)); var r7 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 7 * ld));
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1); var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5); var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE); var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE); var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        c0 = Avx.Permute2x128(u0, u4, 0x20);
        c1 = Avx.Permute2x128(u1, u5, 0x20);
        c2 = Avx.Permute2x128(u2, u6, 0x20);
        c3 = Avx.Permute2x128(u3, u7, 0x20);
        c4 = Avx.Permute2x128(u0, u4, 0x31);
        c5 = Avx.Permute2x128(u1, u5, 0x31);
        c6 = Avx.Permute2x128(u2, u6, 0x31);
        c7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>The inverse of <see cref="PackStrips"/>: row-major Y [rows, features] from its strips, padding dropped.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or Y or its strips would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">Y or the strips are shorter than they must be.</exception>
    public static void UnpackStrips(ReadOnlySpan<float> strips, Span<float> y, int rows, int features)
    {
        Sizes.Need(y.Length, Sizes.Product(rows, nameof(rows), features, nameof(features)), nameof(y), "Y [{0}, {1}]", rows, features);
        Sizes.Need(strips.Length, StripLength(rows, features), nameof(strips), "the strips of [{0}, {1}]", rows, features);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rs = ref MemoryMarshal.GetReference(strips);
        // Whole groups of eight rows by 8×8 AVX transposes, as PackStrips packs them (one sample of PEERS.md's
        // Transformer's feed-forward 256→64 over 8 samples' 256 rows: 72 → 66 µs); the rest one by one.
        int blockRows = Avx.IsSupported ? rows / Lanes * Lanes : 0, blockFeatures = Avx.IsSupported ? features / Lanes * Lanes : 0;
        for (int r = 0; r < blockRows; r += Lanes)
        {
            ref float strip = ref Unsafe.Add(ref rs, r / StripWidth * features * StripWidth + r % StripWidth);
            for (int f = 0; f < blockFeatures; f += Lanes)
                Transpose8x8(ref Unsafe.Add(ref strip, f * StripWidth), StripWidth, ref Unsafe.Add(ref ry, r * features + f), features);
        }
        for (int r = 0; r < rows; r++)
        {
            ref float strip = ref Unsafe.Add(ref rs, r / StripWidth * features * StripWidth + r % StripWidth);
            ref float row = ref Unsafe.Add(ref ry, r * features);
            for (int f = r < blockRows ? blockFeatures : 0; f < features; f++)
                Unsafe.Add(ref row, f) = Unsafe.Add(ref strip, f * StripWidth);
        }
    }

    /// <summary>
    /// The forward product of a dense layer on a batch in strips: Y = X·Wᵀ + bias, computed strip by strip as
    /// Yᵀ = W·Xᵀ with W [n, k] row-major (PyTorch's [out, in]), X in strips of k features and Y in strips of n.
    /// The weights are read in place, so nothing needs repacking when they change; the activations, which are
    /// small, are what is laid out for the kernel. Each output is its bias plus the products in order of k, so the
    /// result of a sample does not depend on the batch it came in.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or W or a batch's strips would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">W, the bias, or the strips of X or Y are shorter than they must be.</exception>
    public static void MultiplyStrips(ReadOnlySpan<float> w, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, Span<float> y, int rows, int n, int k)
    {
        Sizes.Need(w.Length, Sizes.Product(n, nameof(n), k, nameof(k)), nameof(w), "W [{0}, {1}]", n, k);
        Sizes.Need(bias.Length, n, nameof(bias), "a bias of n = {0}", n);
        Sizes.Need(x.Length, StripLength(rows, k), nameof(x), "the strips of X [{0}, {1}]", rows, k);
        Sizes.Need(y.Length, StripLength(rows, n), nameof(y), "the strips of Y [{0}, {1}]", rows, n);
        if (Vector512.IsHardwareAccelerated) MultiplyStrips<Width512, Vector512<float>>(w, bias, x, y, rows, n, k);
        else if (Vector256.IsHardwareAccelerated) MultiplyStrips<Width256, Vector256<float>>(w, bias, x, y, rows, n, k);
        else MultiplyStrips<Width128, Vector128<float>>(w, bias, x, y, rows, n, k);
    }

    // The strips' product at one width, sizes already checked.
    internal static void MultiplyStrips<TWidth, TVector>(ReadOnlySpan<float> w, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, Span<float> y, int rows, int n, int k)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float rw = ref MemoryMarshal.GetReference(w);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int strips = (rows + StripWidth - 1) / StripWidth;
        int lanes = TWidth.Count, perStrip = StripWidth / lanes;

        // Every output starts as its bias; the kernels add the products to it.
        for (int s = 0; s < strips; s++)
            for (int j = 0; j < n; j++)
            {
                var b = TWidth.Broadcast(bias[j]);
                for (int o = 0; o < StripWidth; o += lanes)
                    TWidth.Store(b, ref ry, (nuint)((s * n + j) * StripWidth + o));
            }

        // Up to four strips (64 samples) at a time, over at most StripDepth·4/group features (256 KB, half of L2): six
        // rows of W stay in L1 while the strips stream past them from L2, so W is read from memory once per group. The
        // kernels take four or two of the group's vectors side by side: with 512-bit vectors, four or two strips (a lone
        // last one twice).
        for (int s0 = 0; s0 < strips; s0 += StripGroup)
        {
            int group = Math.Min(StripGroup, strips - s0);
            int depth = StripDepth * StripGroup / group;
            int vectors = group * perStrip;
            for (int j = 0; j < n; j += 6)
                for (int p0 = 0; p0 < k; p0 += depth)
                {
                    int kk = Math.Min(depth, k - p0);
                    // Four vectors at a time where the group has them (64 samples at 512 bits: 24 accumulators of the 32
                    // registers; 7% faster than two pairs on 64×784→256), then pairs.
                    int v = 0, block = Math.Min(6, n - j), last = block - 1;
                    for (; v + 4 <= vectors; v += 4)
                    {
                        int x0 = StripAt(s0, v, perStrip, lanes, k, p0), y0 = StripAt(s0, v, perStrip, lanes, n, j);
                        Axpy6x4Rows<TWidth, TVector>(ref Unsafe.Add(ref rw, j * k + p0), Math.Min(1, last) * k, Math.Min(2, last) * k, Math.Min(3, last) * k,
                            Math.Min(4, last) * k, Math.Min(5, last) * k, 1, ref Unsafe.Add(ref rx, x0), StripWidth,
                            StripAt(s0, v + 1, perStrip, lanes, k, p0) - x0, StripAt(s0, v + 2, perStrip, lanes, k, p0) - x0, StripAt(s0, v + 3, perStrip, lanes, k, p0) - x0,
                            ref Unsafe.Add(ref ry, y0), StripWidth,
                            StripAt(s0, v + 1, perStrip, lanes, n, j) - y0, StripAt(s0, v + 2, perStrip, lanes, n, j) - y0, StripAt(s0, v + 3, perStrip, lanes, n, j) - y0,
                            kk, block, accumulate: true, hasBias: false, ref Unsafe.NullRef<float>());
                    }
                    for (; v < vectors; v += 2)
                    {
                        int xAt = StripAt(s0, v, perStrip, lanes, k, p0), yAt = StripAt(s0, v, perStrip, lanes, n, j);
                        int xSecond = v + 1 < vectors ? StripAt(s0, v + 1, perStrip, lanes, k, p0) - xAt : 0;
                        int ySecond = v + 1 < vectors ? StripAt(s0, v + 1, perStrip, lanes, n, j) - yAt : 0;
                        Axpy6x2<TWidth, TVector>(ref Unsafe.Add(ref rw, j * k + p0), 0, k, 1, ref Unsafe.Add(ref rx, xAt), StripWidth, xSecond,
                            ref Unsafe.Add(ref ry, yAt), StripWidth, ySecond, kk, accumulate: true, block, false, ref Unsafe.NullRef<float>(), 0);
                    }
                }
        }
    }

    // Where vector v of the group of strips from s0 starts (strip s0 + v / perStrip, column v % perStrip · lanes of it), in
    // strips of `width` features, at feature `at`.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int StripAt(int s0, int v, int perStrip, int lanes, int width, int at) =>
        ((s0 + v / perStrip) * width + at) * StripWidth + v % perStrip * lanes;

    // Six rows of C by four vectors of columns at offsets 0, b1, b2, b3 in B (c1, c2, c3 in C, and in the bias), A's rows
    // at a0 and o1 to o5 from it (a missing row's offset is the last row's), its columns colStride apart: 24 accumulators,
    // four loads and six broadcasts per 24 FMAs, for the 32 registers of AVX-512. The accumulators start from C, the
    // bias or zero, as in Axpy6x2Rows.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Axpy6x4Rows<TWidth, TVector>(ref float a0, nint o1, nint o2, nint o3, nint o4, nint o5, int colStride, ref float b, int ldb, nint b1, nint b2, nint b3,
        ref float c, int ldc, nint c1, nint c2, nint c3, int kk, int rows, bool accumulate, bool hasBias, ref float bias)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int last = rows - 1;
        nuint u1 = (nuint)c1, u2 = (nuint)c2, u3 = (nuint)c3;
        ref float r0 = ref c;
        ref float r1 = ref Unsafe.Add(ref c, Math.Min(1, last) * ldc);
        ref float r2 = ref Unsafe.Add(ref c, Math.Min(2, last) * ldc);
        ref float r3 = ref Unsafe.Add(ref c, Math.Min(3, last) * ldc);
        ref float r4 = ref Unsafe.Add(ref c, Math.Min(4, last) * ldc);
        ref float r5 = ref Unsafe.Add(ref c, Math.Min(5, last) * ldc);
        TVector s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33, s40, s41, s42, s43, s50, s51, s52, s53;
        if (accumulate)
        {
            s00 = TWidth.Load(ref r0); s01 = TWidth.Load(ref r0, u1); s02 = TWidth.Load(ref r0, u2); s03 = TWidth.Load(ref r0, u3);
            s10 = TWidth.Load(ref r1); s11 = TWidth.Load(ref r1, u1); s12 = TWidth.Load(ref r1, u2); s13 = TWidth.Load(ref r1, u3);
            s20 = TWidth.Load(ref r2); s21 = TWidth.Load(ref r2, u1); s22 = TWidth.Load(ref r2, u2); s23 = TWidth.Load(ref r2, u3);
            s30 = TWidth.Load(ref r3); s31 = TWidth.Load(ref r3, u1); s32 = TWidth.Load(ref r3, u2); s33 = TWidth.Load(ref r3, u3);
            s40 = TWidth.Load(ref r4); s41 = TWidth.Load(ref r4, u1); s42 = TWidth.Load(ref r4, u2); s43 = TWidth.Load(ref r4, u3);
            s50 = TWidth.Load(ref r5); s51 = TWidth.Load(ref r5, u1); s52 = TWidth.Load(ref r5, u2); s53 = TWidth.Load(ref r5, u3);
        }
        else if (hasBias)
        {
            // The bias's vectors lie as C's columns do.
            s00 = s10 = s20 = s30 = s40 = s50 = TWidth.Load(ref bias);
            s01 = s11 = s21 = s31 = s41 = s51 = TWidth.Load(ref bias, u1);
            s02 = s12 = s22 = s32 = s42 = s52 = TWidth.Load(ref bias, u2);
            s03 = s13 = s23 = s33 = s43 = s53 = TWidth.Load(ref bias, u3);
        }
        else
        {
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = s20 = s21 = s22 = s23 = TWidth.Zero;
            s30 = s31 = s32 = s33 = s40 = s41 = s42 = s43 = s50 = s51 = s52 = s53 = TWidth.Zero;
        }
        nuint v1 = (nuint)b1, v2 = (nuint)b2, v3 = (nuint)b3;
        nint ldbn = ldb, step = colStride;
        ref float ap = ref a0;
        ref float bp = ref b;
        for (int p = kk; p > 0;)
        {
            var w0 = TWidth.Load(ref bp);
            var w1 = TWidth.Load(ref bp, v1);
            var w2 = TWidth.Load(ref bp, v2);
            var w3 = TWidth.Load(ref bp, v3);
            var x = TWidth.Broadcast(ap);
            s00 = TWidth.MultiplyAdd(x, w0, s00); s01 = TWidth.MultiplyAdd(x, w1, s01); s02 = TWidth.MultiplyAdd(x, w2, s02); s03 = TWidth.MultiplyAdd(x, w3, s03);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o1));
            s10 = TWidth.MultiplyAdd(x, w0, s10); s11 = TWidth.MultiplyAdd(x, w1, s11); s12 = TWidth.MultiplyAdd(x, w2, s12); s13 = TWidth.MultiplyAdd(x, w3, s13);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o2));
            s20 = TWidth.MultiplyAdd(x, w0, s20); s21 = TWidth.MultiplyAdd(x, w1, s21); s22 = TWidth.MultiplyAdd(x, w2, s22); s23 = TWidth.MultiplyAdd(x, w3, s23);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o3));
            s30 = TWidth.MultiplyAdd(x, w0, s30); s31 = TWidth.MultiplyAdd(x, w1, s31); s32 = TWidth.MultiplyAdd(x, w2, s32); s33 = TWidth.MultiplyAdd(x, w3, s33);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o4));
            s40 = TWidth.MultiplyAdd(x, w0, s40); s41 = TWidth.MultiplyAdd(x, w1, s41); s42 = TWidth.MultiplyAdd(x, w2, s42); s43 = TWidth.MultiplyAdd(x, w3, s43);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o5));
            s50 = TWidth.MultiplyAdd(x, w0, s50); s51 = TWidth.MultiplyAdd(x, w1, s51); s52 = TWidth.MultiplyAdd(x, w2, s52); s53 = TWidth.MultiplyAdd(x, w3, s53);
            if (--p == 0) break;
            ap = ref Unsafe.Add(ref ap, step);
            bp = ref Unsafe.Add(ref bp, ldbn);
        }
        // Missing rows alias the last: stored last first, so row `last` ends with its own values.
        TWidth.Store(s53, ref r5, u3); TWidth.Store(s52, ref r5, u2); TWidth.Store(s51, ref r5, u1); TWidth.Store(s50, ref r5);
        TWidth.Store(s43, ref r4, u3); TWidth.Store(s42, ref r4, u2); TWidth.Store(s41, ref r4, u1); TWidth.Store(s40, ref r4);
        TWidth.Store(s33, ref r3, u3); TWidth.Store(s32, ref r3, u2); TWidth.Store(s31, ref r3, u1); TWidth.Store(s30, ref r3);
        TWidth.Store(s23, ref r2, u3); TWidth.Store(s22, ref r2, u2); TWidth.Store(s21, ref r2, u1); TWidth.Store(s20, ref r2);
        TWidth.Store(s13, ref r1, u3); TWidth.Store(s12, ref r1, u2); TWidth.Store(s11, ref r1, u1); TWidth.Store(s10, ref r1);
        TWidth.Store(s03, ref r0, u3); TWidth.Store(s02, ref r0, u2); TWidth.Store(s01, ref r0, u1); TWidth.Store(s00, ref r0);
    }

    private const int StripGroup = 4;
    private const int StripDepth = 1024;
}
