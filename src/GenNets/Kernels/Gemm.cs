using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenNets.Kernels;

/// <summary>
/// Register-blocked single-precision matrix products, the engine room of every layer. Two forms
/// cover a dense layer's three products over a mini-batch:
/// <list type="bullet">
/// <item><c>MultiplyTransposed</c>: C = A·Bᵀ (+ bias), the forward X·Wᵀ with W in PyTorch's [out, in] layout.</item>
/// <item><c>MultiplyAccumulate</c>: C (+)= A·B with A read through strides, which is the input gradient dY·W and,
/// with A read transposed, the weight gradient dYᵀ·X.</item>
/// </list>
/// The plain loops they must agree with are in <see cref="Reference"/>.
/// </summary>
public static partial class Gemm
{

    /// <summary>
    /// C[i, j] = Σₖ A[i, k]·B[j, k] + bias[j] for row-major A [m, k], B [n, k], C [m, n].
    /// An empty <paramref name="bias"/> adds nothing. With <paramref name="reverse"/> set, the rows of B are swept
    /// from last to first; the result is bit-identical either way. A caller that alternates the direction on
    /// successive calls finds the rows it read last, still in the core's L2 cache, first: for weights larger than
    /// L2 that cuts the traffic from L3. With <paramref name="accumulate"/> set, C += A·Bᵀ (+ bias) instead.
    /// Any size may be zero: nothing is read, and only the m·n entries of C (none if there are none) are written.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or a matrix would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">A, B, C or a non-empty bias is shorter than its matrix.</exception>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k, bool reverse = false, bool accumulate = false)
    {
        Sizes.Need(a.Length, Sizes.Product(m, nameof(m), k, nameof(k)), nameof(a), "A [{0}, {1}]", m, k);
        Sizes.Need(b.Length, Sizes.Product(n, nameof(n), k, nameof(k)), nameof(b), "B [{0}, {1}]", n, k);
        Sizes.Need(c.Length, Sizes.Product(m, nameof(m), n, nameof(n)), nameof(c), "C [{0}, {1}]", m, n);
        if (!bias.IsEmpty) Sizes.Need(bias.Length, n, nameof(bias), "a bias of n = {0}", n);

        if (Vector512.IsHardwareAccelerated) MultiplyTransposed<Width512, Vector512<float>>(a, b, c, m, n, k, reverse, accumulate);
        else if (Vector256.IsHardwareAccelerated) MultiplyTransposed<Width256, Vector256<float>>(a, b, c, m, n, k, reverse, accumulate);
        else MultiplyTransposed<Width128, Vector128<float>>(a, b, c, m, n, k, reverse, accumulate);

        if (!bias.IsEmpty)
            for (int i = 0; i < m; i++)
                System.Numerics.Tensors.TensorPrimitives.Add(c.Slice(i * n, n), bias.Slice(0, n), c.Slice(i * n, n));
    }

    // C (+)= A·Bᵀ at one vector width, sizes already checked (the tests call each width).
    internal static void MultiplyTransposed<TWidth, TVector>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool reverse, bool accumulate)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);

        // Four rows of B (a few KB) stay in L1 while every row of A streams past them, so the
        // weights are read from memory once per call.
        int blocks = n / 4;
        for (int block = 0; block < blocks; block++)
        {
            int j = 4 * (reverse ? blocks - 1 - block : block);
            int i = 0;
            ref float b0 = ref Unsafe.Add(ref rb, j * k);
            ref float b1 = ref Unsafe.Add(ref b0, k);
            ref float b2 = ref Unsafe.Add(ref b0, 2 * k);
            ref float b3 = ref Unsafe.Add(ref b0, 3 * k);
            for (; i + 2 <= m; i += 2)
                Dot2x4<TWidth, TVector>(ref Unsafe.Add(ref ra, i * k), ref Unsafe.Add(ref ra, (i + 1) * k), ref b0, ref b1, ref b2, ref b3, k, ref Unsafe.Add(ref rc, i * n + j), n, accumulate);
            if (i < m)
                Dot1x4<TWidth, TVector>(ref Unsafe.Add(ref ra, i * k), ref b0, ref b1, ref b2, ref b3, k, ref Unsafe.Add(ref rc, i * n + j), accumulate);
        }
        for (int j = 4 * blocks; j < n; j++)
            for (int i = 0; i < m; i++)
            {
                float dot = Dot1x1<TWidth, TVector>(ref Unsafe.Add(ref ra, i * k), ref Unsafe.Add(ref rb, j * k), k);
                Unsafe.Add(ref rc, i * n + j) = accumulate ? Unsafe.Add(ref rc, i * n + j) + dot : dot;
            }
    }

    // Two rows of A against four rows of B: eight accumulators, six loads per eight FMAs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot2x4<TWidth, TVector>(ref float a0, ref float a1, ref float b0, ref float b1, ref float b2, ref float b3, int k, ref float c, int ldc, bool accumulate)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        TVector c00 = TWidth.Zero, c01 = TWidth.Zero, c02 = TWidth.Zero, c03 = TWidth.Zero;
        TVector c10 = TWidth.Zero, c11 = TWidth.Zero, c12 = TWidth.Zero, c13 = TWidth.Zero;
        int lanes = TWidth.Count;
        nuint p = 0, end = (nuint)(k - k % lanes);
        for (; p < end; p += (nuint)lanes)
        {
            var x0 = TWidth.Load(ref a0, p);
            var x1 = TWidth.Load(ref a1, p);
            var w = TWidth.Load(ref b0, p);
            c00 = TWidth.MultiplyAdd(x0, w, c00);
            c10 = TWidth.MultiplyAdd(x1, w, c10);
            w = TWidth.Load(ref b1, p);
            c01 = TWidth.MultiplyAdd(x0, w, c01);
            c11 = TWidth.MultiplyAdd(x1, w, c11);
            w = TWidth.Load(ref b2, p);
            c02 = TWidth.MultiplyAdd(x0, w, c02);
            c12 = TWidth.MultiplyAdd(x1, w, c12);
            w = TWidth.Load(ref b3, p);
            c03 = TWidth.MultiplyAdd(x0, w, c03);
            c13 = TWidth.MultiplyAdd(x1, w, c13);
        }
        float s00 = TWidth.Sum(c00), s01 = TWidth.Sum(c01), s02 = TWidth.Sum(c02), s03 = TWidth.Sum(c03);
        float s10 = TWidth.Sum(c10), s11 = TWidth.Sum(c11), s12 = TWidth.Sum(c12), s13 = TWidth.Sum(c13);
        for (int q = (int)end; q < k; q++)
        {
            float x0 = Unsafe.Add(ref a0, q), x1 = Unsafe.Add(ref a1, q);
            s00 += x0 * Unsafe.Add(ref b0, q); s01 += x0 * Unsafe.Add(ref b1, q); s02 += x0 * Unsafe.Add(ref b2, q); s03 += x0 * Unsafe.Add(ref b3, q);
            s10 += x1 * Unsafe.Add(ref b0, q); s11 += x1 * Unsafe.Add(ref b1, q); s12 += x1 * Unsafe.Add(ref b2, q); s13 += x1 * Unsafe.Add(ref b3, q);
        }
        Store4(ref c, s00, s01, s02, s03, accumulate);
        Store4(ref Unsafe.Add(ref c, ldc), s10, s11, s12, s13, accumulate);
    }

    // One row of A against four rows of B, unrolled twice along k so eight FMA chains stay in flight.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot1x4<TWidth, TVector>(ref float a0, ref float b0, ref float b1, ref float b2, ref float b3, int k, ref float c, bool accumulate)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        TVector c0 = TWidth.Zero, c1 = TWidth.Zero, c2 = TWidth.Zero, c3 = TWidth.Zero;
        TVector d0 = TWidth.Zero, d1 = TWidth.Zero, d2 = TWidth.Zero, d3 = TWidth.Zero;
        int lanes = TWidth.Count;
        nuint p = 0, end2 = (nuint)(k - k % (2 * lanes)), end = (nuint)(k - k % lanes), step = (nuint)lanes;
        for (; p < end2; p += 2 * step)
        {
            var x = TWidth.Load(ref a0, p);
            var y = TWidth.Load(ref a0, p + step);
            c0 = TWidth.MultiplyAdd(x, TWidth.Load(ref b0, p), c0);
            c1 = TWidth.MultiplyAdd(x, TWidth.Load(ref b1, p), c1);
            c2 = TWidth.MultiplyAdd(x, TWidth.Load(ref b2, p), c2);
            c3 = TWidth.MultiplyAdd(x, TWidth.Load(ref b3, p), c3);
            d0 = TWidth.MultiplyAdd(y, TWidth.Load(ref b0, p + step), d0);
            d1 = TWidth.MultiplyAdd(y, TWidth.Load(ref b1, p + step), d1);
            d2 = TWidth.MultiplyAdd(y, TWidth.Load(ref b2, p + step), d2);
            d3 = TWidth.MultiplyAdd(y, TWidth.Load(ref b3, p + step), d3);
        }
        for (; p < end; p += step)
        {
            var x = TWidth.Load(ref a0, p);
            c0 = TWidth.MultiplyAdd(x, TWidth.Load(ref b0, p), c0);
            c1 = TWidth.MultiplyAdd(x, TWidth.Load(ref b1, p), c1);
            c2 = TWidth.MultiplyAdd(x, TWidth.Load(ref b2, p), c2);
            c3 = TWidth.MultiplyAdd(x, TWidth.Load(ref b3, p), c3);
        }
        float s0 = TWidth.Sum(TWidth.Add(c0, d0)), s1 = TWidth.Sum(TWidth.Add(c1, d1)), s2 = TWidth.Sum(TWidth.Add(c2, d2)), s3 = TWidth.Sum(TWidth.Add(c3, d3));
        for (int q = (int)end; q < k; q++)
        {
            float x = Unsafe.Add(ref a0, q);
            s0 += x * Unsafe.Add(ref b0, q); s1 += x * Unsafe.Add(ref b1, q); s2 += x * Unsafe.Add(ref b2, q); s3 += x * Unsafe.Add(ref b3, q);
        }
        Store4(ref c, s0, s1, s2, s3, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(ref float c, float s0, float s1, float s2, float s3, bool accumulate)
    {
        if (accumulate)
        {
            c += s0; Unsafe.Add(ref c, 1) += s1; Unsafe.Add(ref c, 2) += s2; Unsafe.Add(ref c, 3) += s3;
        }
        else
        {
            c = s0; Unsafe.Add(ref c, 1) = s1; Unsafe.Add(ref c, 2) = s2; Unsafe.Add(ref c, 3) = s3;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot1x1<TWidth, TVector>(ref float a0, ref float b0, int k)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        TVector acc = TWidth.Zero;
        int lanes = TWidth.Count;
        nuint p = 0, end = (nuint)(k - k % lanes);
        for (; p < end; p += (nuint)lanes)
            acc = TWidth.MultiplyAdd(TWidth.Load(ref a0, p), TWidth.Load(ref b0, p), acc);
        float s = TWidth.Sum(acc);
        for (int q = (int)end; q < k; q++) s += Unsafe.Add(ref a0, q) * Unsafe.Add(ref b0, q);
        return s;
    }

    /// <summary>
    /// C[i, j] (+)= Σₚ A[i, p]·B[p, j] for A [m, kk] read as A[i, p] = a[i·rowStride + p·colStride], row-major B [kk, n] and C [m, n].
    /// With <paramref name="accumulate"/> false C is overwritten. The input gradient of a dense layer is
    /// (dY [batch, out], strides (out, 1)) · W [out, in]; its weight gradient is (dYᵀ: strides (1, out)) · X [batch, in].
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or stride is negative, or a matrix would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">A, B or C is shorter than the extent read or written.</exception>
    public static void MultiplyAccumulate(ReadOnlySpan<float> a, int rowStride, int colStride, ReadOnlySpan<float> b, Span<float> c, int m, int n, int kk, bool accumulate)
        => MultiplyAccumulate(a, rowStride, colStride, b, n, default, c, m, n, kk, accumulate);

    /// <summary>
    /// As <see cref="MultiplyAccumulate(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, Span{float}, int, int, int, bool)"/>,
    /// with B's rows <paramref name="ldb"/> ≥ n floats apart; and when C is overwritten, each row starts from
    /// <paramref name="bias"/> [n] (if not empty) instead of zero, so that C = A·B + bias costs no pass of its own.
    /// A row stride of B that is a multiple of 256 bytes maps a 16-column block of B's rows to a few of L1's sets,
    /// which then cannot hold the block while C's rows pass; a caller that lays B out itself pads its rows (see
    /// <see cref="PaddedStride"/>). Any size may be zero: nothing is read, and only the m·n entries of C are written.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or stride is negative, <paramref name="ldb"/> is less than n, or a matrix would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">A, B, C or a non-empty bias is shorter than the extent read or written.</exception>
    public static void MultiplyAccumulate(ReadOnlySpan<float> a, int rowStride, int colStride, ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int kk, bool accumulate)
    {
        Sizes.NotNegative(m, nameof(m));
        Sizes.NotNegative(n, nameof(n));
        Sizes.NotNegative(kk, nameof(kk));
        Sizes.NotNegative(rowStride, nameof(rowStride));
        Sizes.NotNegative(colStride, nameof(colStride));
        if (ldb < n) ThrowStride(ldb, n);
        // A's last element is at (m − 1)·rowStride + (kk − 1)·colStride, B's last at (kk − 1)·ldb + n − 1: under 2⁶³ in long.
        Sizes.Need(a.Length, m == 0 || kk == 0 ? 0 : (long)(m - 1) * rowStride + (long)(kk - 1) * colStride + 1, nameof(a), "A [{0}, {1}] through its strides", m, kk);
        Sizes.Need(b.Length, kk == 0 || n == 0 ? 0 : (long)(kk - 1) * ldb + n, nameof(b), "B [{0}, {1}] with its rows ldb apart", kk, n);
        Sizes.Need(c.Length, Sizes.Product(m, nameof(m), n, nameof(n)), nameof(c), "C [{0}, {1}]", m, n);
        if (!bias.IsEmpty) Sizes.Need(bias.Length, n, nameof(bias), "a bias of n = {0}", n);

        MultiplyAccumulateChecked(a, rowStride, colStride, b, ldb, bias, c, m, n, kk, accumulate, reverse: false);
    }

    // The product, arguments checked. With `reverse` set, a single row's column blocks are taken from the right (the
    // result is the same to the bit): a recurrent step alternates it.
    internal static void MultiplyAccumulateChecked(ReadOnlySpan<float> a, int rowStride, int colStride, ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> bias,
        Span<float> c, int m, int n, int kk, bool accumulate, bool reverse)
    {
        // Deep products (a weight gradient dYᵀ·X over a batch of positions) through packed panels, every column of C. The
        // bits are the same either way, so rows of C split across threads may take different paths.
        if (kk >= PackedMinDepth && m >= PackedRows)
        {
            if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count) { MultiplyPacked<Width512, Vector512<float>>(a, rowStride, colStride, b, ldb, bias, c, m, n, kk, accumulate); return; }
            if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count) { MultiplyPacked<Width256, Vector256<float>>(a, rowStride, colStride, b, ldb, bias, c, m, n, kk, accumulate); return; }
            if (n >= Vector128<float>.Count) { MultiplyPacked<Width128, Vector128<float>>(a, rowStride, colStride, b, ldb, bias, c, m, n, kk, accumulate); return; }
        }
        // The widest vectors take the columns they can; the narrower ones the rest, so that a width of 8 or 24 columns
        // does not fall to the scalar loop on a machine with 16-float registers.
        int j = 0;
        if (Vector512.IsHardwareAccelerated) j = MultiplyAccumulate<Width512, Vector512<float>>(a, rowStride, colStride, b, ldb, bias, c, m, n, kk, accumulate, j, reverse);
        if (Vector256.IsHardwareAccelerated) j = MultiplyAccumulate<Width256, Vector256<float>>(a, rowStride, colStride, b, ldb, bias, c, m, n, kk, accumulate, j, reverse);
        j = MultiplyAccumulate<Width128, Vector128<float>>(a, rowStride, colStride, b, ldb, bias, c, m, n, kk, accumulate, j, reverse);
        ScalarColumns(a, rowStride, colStride, b, ldb, bias, c, m, n, kk, accumulate, j);
    }

    // C's columns from `first` on at one width, as many as fill whole vectors; returns where it stopped. Sizes already
    // checked (the tests call each width, and the scalar loop for the rest).
    internal static int MultiplyAccumulate<TWidth, TVector>(ReadOnlySpan<float> a, int rowStride, int colStride, ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> bias,
        Span<float> c, int m, int n, int kk, bool accumulate, int first, bool reverse = false)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        // The accumulators' starting values: C itself, the bias, or zero.
        bool hasBias = !accumulate && !bias.IsEmpty;
        ref float rbias = ref MemoryMarshal.GetReference(bias);
        int lanes = TWidth.Count, j = first;
        if (m == 1)
        {
            // One row (a recurrent step of one sequence): eight vectors of columns at a time, each an FMA chain of its own,
            // then four, then pairs. Reversed, the chunks are taken from the right: a caller that alternates finds the
            // columns of B it read last still in L1 (a step of a 64-unit LSTM reads 64 KB of weights; L1 holds 48).
            int end = j + (n - j) / lanes * lanes, chunk = 8 * lanes, chunks = (end - j) / chunk;
            if (reverse)
            {
                int start = end - chunks * chunk;
                for (int q = chunks - 1; q >= 0; q--)
                    AxpyRow8<TWidth, TVector>(ref ra, colStride, ref Unsafe.Add(ref rb, start + q * chunk), ldb, ref Unsafe.Add(ref rc, start + q * chunk), kk, accumulate, hasBias,
                        ref Unsafe.Add(ref rbias, start + q * chunk));
                RowColumns<TWidth, TVector>(ref ra, colStride, ref rb, ldb, ref rc, kk, accumulate, hasBias, ref rbias, j, start);
            }
            else
            {
                for (int q = 0; q < chunks; q++)
                    AxpyRow8<TWidth, TVector>(ref ra, colStride, ref Unsafe.Add(ref rb, j + q * chunk), ldb, ref Unsafe.Add(ref rc, j + q * chunk), kk, accumulate, hasBias,
                        ref Unsafe.Add(ref rbias, j + q * chunk));
                RowColumns<TWidth, TVector>(ref ra, colStride, ref rb, ldb, ref rc, kk, accumulate, hasBias, ref rbias, j + chunks * chunk, end);
            }
            return end;
        }
        // A column block of B (kk rows of four vectors, or two) stays hot in L1 while every six rows of C pass: four
        // vectors (24 accumulators, for AVX-512's 32 registers) while that block takes at most 32 KB, then pairs. A
        // lone last vector is taken as a pair of two equal ones (the same values computed and stored twice).
        nint l = lanes;
        if ((long)kk * 4 * lanes <= Block4Floats)
            for (; j + 4 * lanes <= n; j += 4 * lanes)
                for (int i = 0; i < m; i += 6)
                {
                    int rows = Math.Min(6, m - i), last = rows - 1;
                    Axpy6x4Rows<TWidth, TVector>(ref Unsafe.Add(ref ra, i * rowStride), Math.Min(1, last) * rowStride, Math.Min(2, last) * rowStride, Math.Min(3, last) * rowStride,
                        Math.Min(4, last) * rowStride, Math.Min(5, last) * rowStride, colStride, ref Unsafe.Add(ref rb, j), ldb, l, 2 * l, 3 * l,
                        ref Unsafe.Add(ref rc, i * n + j), n, l, 2 * l, 3 * l, kk, rows, accumulate, hasBias, ref Unsafe.Add(ref rbias, j));
                }
        for (; j + lanes <= n; j += 2 * lanes)
        {
            nint second = j + 2 * lanes <= n ? lanes : 0;
            for (int i = 0; i < m; i += 6)
                Axpy6x2<TWidth, TVector>(ref ra, i, rowStride, colStride, ref Unsafe.Add(ref rb, j), ldb, second, ref Unsafe.Add(ref rc, i * n + j), n, second, kk, accumulate,
                    Math.Min(6, m - i), hasBias, ref Unsafe.Add(ref rbias, j), second);
            if (second == 0) return j + lanes;
        }
        return j;
    }

    // The columns from `first` on one at a time, each sum its start plus the products fused one at a time in order of
    // depth, as the vector kernels' lanes are (and unfused where they are), so that a column gets the same bits whichever
    // path takes it: the packed path takes every column, and which path a call takes can depend on its rows.
    private static void ScalarColumns(ReadOnlySpan<float> a, int rowStride, int colStride, ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> bias,
        Span<float> c, int m, int n, int kk, bool accumulate, int first)
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        bool hasBias = !accumulate && !bias.IsEmpty;
        for (int j = first; j < n; j++)
            for (int i = 0; i < m; i++)
            {
                float s = accumulate ? Unsafe.Add(ref rc, i * n + j) : hasBias ? bias[j] : 0f;
                for (int p = 0; p < kk; p++)
                    s = Fused(Unsafe.Add(ref ra, i * rowStride + p * colStride), Unsafe.Add(ref rb, p * ldb + j), s);
                Unsafe.Add(ref rc, i * n + j) = s;
            }
    }

    // x·y + s rounded once where Width128.MultiplyAdd is fused, else rounded twice as it is.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fused(float x, float y, float s) =>
        Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? MathF.FusedMultiplyAdd(x, y, s) : x * y + s;

    /// <summary>
    /// A row stride of at least <paramref name="width"/> floats for a matrix laid out to be B of <see cref="MultiplyAccumulate(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float}, int, int, int, bool)"/>:
    /// rounded up to whole cache lines (16 floats), so that no vector load of a row splits a line, plus one more line
    /// when that lands on a multiple of 256 bytes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> is negative, or too large for its padded stride to be an <see cref="int"/>.</exception>
    public static int PaddedStride(int width)
    {
        Sizes.NotNegative(width, nameof(width));
        long stride = ((long)width + CacheLine - 1) / CacheLine * CacheLine;
        if (stride % 64 == 0) stride += CacheLine;
        Sizes.Fits(stride, nameof(width), "A padded row stride");
        return (int)stride;
    }

    private const int CacheLine = 16; // floats in 64 bytes

    // Floats of B's column block up to which the four-vector kernel is taken (32 KB of L1's 48).
    private const int Block4Floats = 8 * 1024;

    // Six rows of C by two vectors of columns (the second `second` floats after the first in B, in C and in the bias):
    // twelve accumulators, two loads and six broadcasts per twelve FMAs. With 512-bit vectors that is 32 columns, or two
    // strips side by side. With fewer than six rows left, the missing ones repeat the last (equal values stored twice),
    // so every FMA chain stays independent.
    // The loop keeps two moving offsets and the rows' offsets in registers; C's row addresses are found again after it
    // (kept live across the loop, they made the JIT spill three pointers that every step reloaded: 74 → 83 GFLOP/s).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy6x2<TWidth, TVector>(ref float a, int i, int rowStride, int colStride, ref float b, int ldb, nint bSecond, ref float c, int ldc, nint cSecond,
        int kk, bool accumulate, int rows, bool hasBias, ref float bias, nint biasSecond)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int last = rows - 1;
        Axpy6x2Rows<TWidth, TVector>(ref Unsafe.Add(ref a, i * rowStride), Math.Min(1, last) * rowStride, Math.Min(2, last) * rowStride, Math.Min(3, last) * rowStride,
            Math.Min(4, last) * rowStride, Math.Min(5, last) * rowStride, colStride, ref b, ldb, bSecond, ref c, ldc, cSecond, kk, accumulate, rows, hasBias, ref bias, biasSecond);
    }

    // The same, with A's six rows at a0 and at offsets o1 to o5 from it (a missing row's offset is the last row's).
    // Not inlined: in the callers' loops the registers their variables hold would be spilled from this one's.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Axpy6x2Rows<TWidth, TVector>(ref float a0, nint o1, nint o2, nint o3, nint o4, nint o5, int colStride, ref float b, int ldb, nint bSecond,
        ref float c, int ldc, nint cSecond, int kk, bool accumulate, int rows, bool hasBias, ref float bias, nint biasSecond)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int last = rows - 1;
        nuint cs = (nuint)cSecond;
        TVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate)
        {
            c00 = TWidth.Load(ref c); c01 = TWidth.Load(ref c, cs);
            ref float r = ref Unsafe.Add(ref c, Math.Min(1, last) * ldc);
            c10 = TWidth.Load(ref r); c11 = TWidth.Load(ref r, cs);
            r = ref Unsafe.Add(ref c, Math.Min(2, last) * ldc);
            c20 = TWidth.Load(ref r); c21 = TWidth.Load(ref r, cs);
            r = ref Unsafe.Add(ref c, Math.Min(3, last) * ldc);
            c30 = TWidth.Load(ref r); c31 = TWidth.Load(ref r, cs);
            r = ref Unsafe.Add(ref c, Math.Min(4, last) * ldc);
            c40 = TWidth.Load(ref r); c41 = TWidth.Load(ref r, cs);
            r = ref Unsafe.Add(ref c, Math.Min(5, last) * ldc);
            c50 = TWidth.Load(ref r); c51 = TWidth.Load(ref r, cs);
        }
        else if (hasBias)
        {
            c00 = c10 = c20 = c30 = c40 = c50 = TWidth.Load(ref bias);
            c01 = c11 = c21 = c31 = c41 = c51 = TWidth.Load(ref bias, (nuint)biasSecond);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = TWidth.Zero;
        }
        // The references move after the loop's test, never past the last step: moved once more they could point
        // beyond the array (A read transposed steps a whole row), which a managed reference must not.
        nint step = colStride, ldbn = ldb;
        nuint bs = (nuint)bSecond;
        ref float ap = ref a0;
        ref float bp = ref b;
        for (int p = kk; p > 0;)
        {
            var w0 = TWidth.Load(ref bp);
            var w1 = TWidth.Load(ref bp, bs);
            var x = TWidth.Broadcast(ap); c00 = TWidth.MultiplyAdd(x, w0, c00); c01 = TWidth.MultiplyAdd(x, w1, c01);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o1)); c10 = TWidth.MultiplyAdd(x, w0, c10); c11 = TWidth.MultiplyAdd(x, w1, c11);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o2)); c20 = TWidth.MultiplyAdd(x, w0, c20); c21 = TWidth.MultiplyAdd(x, w1, c21);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o3)); c30 = TWidth.MultiplyAdd(x, w0, c30); c31 = TWidth.MultiplyAdd(x, w1, c31);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o4)); c40 = TWidth.MultiplyAdd(x, w0, c40); c41 = TWidth.MultiplyAdd(x, w1, c41);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o5)); c50 = TWidth.MultiplyAdd(x, w0, c50); c51 = TWidth.MultiplyAdd(x, w1, c51);
            if (--p == 0) break;
            ap = ref Unsafe.Add(ref ap, step);
            bp = ref Unsafe.Add(ref bp, ldbn);
        }
        // The missing rows alias the last, so the rows are stored last first: row `last` gets its own values last. The
        // second vector is stored before the first, which it equals when it is the first (cSecond 0).
        ref float row = ref Unsafe.Add(ref c, Math.Min(5, last) * ldc);
        TWidth.Store(c51, ref row, cs); TWidth.Store(c50, ref row);
        row = ref Unsafe.Add(ref c, Math.Min(4, last) * ldc);
        TWidth.Store(c41, ref row, cs); TWidth.Store(c40, ref row);
        row = ref Unsafe.Add(ref c, Math.Min(3, last) * ldc);
        TWidth.Store(c31, ref row, cs); TWidth.Store(c30, ref row);
        row = ref Unsafe.Add(ref c, Math.Min(2, last) * ldc);
        TWidth.Store(c21, ref row, cs); TWidth.Store(c20, ref row);
        row = ref Unsafe.Add(ref c, Math.Min(1, last) * ldc);
        TWidth.Store(c11, ref row, cs); TWidth.Store(c10, ref row);
        TWidth.Store(c01, ref c, cs); TWidth.Store(c00, ref c);
    }

    // One row's columns from `from` to `to` (whole vectors): four vectors at a time, then pairs (a lone last vector twice).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowColumns<TWidth, TVector>(ref float ra, int colStride, ref float rb, int ldb, ref float rc, int kk, bool accumulate, bool hasBias, ref float rbias,
        int from, int to)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count, j = from;
        for (; j + 4 * lanes <= to; j += 4 * lanes)
            AxpyRow4<TWidth, TVector>(ref ra, colStride, ref Unsafe.Add(ref rb, j), ldb, ref Unsafe.Add(ref rc, j), kk, accumulate, hasBias, ref Unsafe.Add(ref rbias, j));
        for (; j < to; j += 2 * lanes)
        {
            nint second = j + 2 * lanes <= to ? lanes : 0;
            Axpy6x2<TWidth, TVector>(ref ra, 0, 0, colStride, ref Unsafe.Add(ref rb, j), ldb, second, ref Unsafe.Add(ref rc, j), 0, second, kk, accumulate, 1, hasBias,
                ref Unsafe.Add(ref rbias, j), second);
            if (second == 0) break;
        }
    }

    // One row of C by four vectors of columns, as AxpyRow8.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AxpyRow4<TWidth, TVector>(ref float a, int colStride, ref float b, int ldb, ref float c, int kk, bool accumulate, bool hasBias, ref float bias)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint l = (nuint)TWidth.Count;
        TVector s0, s1, s2, s3;
        if (accumulate || hasBias)
        {
            ref float start = ref accumulate ? ref c : ref bias;
            s0 = TWidth.Load(ref start); s1 = TWidth.Load(ref start, l); s2 = TWidth.Load(ref start, 2 * l); s3 = TWidth.Load(ref start, 3 * l);
        }
        else
        {
            s0 = s1 = s2 = s3 = TWidth.Zero;
        }
        nint step = colStride, ldbn = ldb;
        ref float ap = ref a;
        ref float bp = ref b;
        for (int p = kk; p > 0;)
        {
            var x = TWidth.Broadcast(ap);
            s0 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp), s0);
            s1 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, l), s1);
            s2 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, 2 * l), s2);
            s3 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, 3 * l), s3);
            if (--p == 0) break;
            ap = ref Unsafe.Add(ref ap, step);
            bp = ref Unsafe.Add(ref bp, ldbn);
        }
        TWidth.Store(s0, ref c); TWidth.Store(s1, ref c, l); TWidth.Store(s2, ref c, 2 * l); TWidth.Store(s3, ref c, 3 * l);
    }

    // One row of C by eight vectors of columns: eight FMA chains, eight loads and one broadcast per eight FMAs. Each
    // output is its start plus the products in order of p, as in Axpy6x2, so a row gets the same bits either way.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AxpyRow8<TWidth, TVector>(ref float a, int colStride, ref float b, int ldb, ref float c, int kk, bool accumulate, bool hasBias, ref float bias)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint l = (nuint)TWidth.Count;
        TVector s0, s1, s2, s3, s4, s5, s6, s7;
        if (accumulate || hasBias)
        {
            ref float start = ref accumulate ? ref c : ref bias;
            s0 = TWidth.Load(ref start); s1 = TWidth.Load(ref start, l); s2 = TWidth.Load(ref start, 2 * l); s3 = TWidth.Load(ref start, 3 * l);
            s4 = TWidth.Load(ref start, 4 * l); s5 = TWidth.Load(ref start, 5 * l); s6 = TWidth.Load(ref start, 6 * l); s7 = TWidth.Load(ref start, 7 * l);
        }
        else
        {
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = TWidth.Zero;
        }
        nint step = colStride, ldbn = ldb;
        ref float ap = ref a;
        ref float bp = ref b;
        for (int p = kk; p > 0;)
        {
            var x = TWidth.Broadcast(ap);
            s0 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp), s0);
            s1 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, l), s1);
            s2 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, 2 * l), s2);
            s3 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, 3 * l), s3);
            s4 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, 4 * l), s4);
            s5 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, 5 * l), s5);
            s6 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, 6 * l), s6);
            s7 = TWidth.MultiplyAdd(x, TWidth.Load(ref bp, 7 * l), s7);
            if (--p == 0) break;
            ap = ref Unsafe.Add(ref ap, step);
            bp = ref Unsafe.Add(ref bp, ldbn);
        }
        TWidth.Store(s0, ref c); TWidth.Store(s1, ref c, l); TWidth.Store(s2, ref c, 2 * l); TWidth.Store(s3, ref c, 3 * l);
        TWidth.Store(s4, ref c, 4 * l); TWidth.Store(s5, ref c, 5 * l); TWidth.Store(s6, ref c, 6 * l); TWidth.Store(s7, ref c, 7 * l);
    }

    /// <summary>sums[j] = Σᵢ A[i, j] for row-major A [rows, cols]: the bias gradient of a dense layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or A would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">A or the sums are shorter than they must be.</exception>
    public static void ColumnSums(ReadOnlySpan<float> a, Span<float> sums, int rows, int cols) => ColumnSums(a, sums, rows, cols, cols);

    /// <summary>
    /// sums[j] = Σᵢ A[i·stride + j] for j &lt; cols: the column sums of a block of columns of a wider matrix. With
    /// <paramref name="accumulate"/> set, sums[j] += Σᵢ A[i·stride + j] instead.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or the stride is negative.</exception>
    /// <exception cref="ArgumentException">A is shorter than its rows reach, or the sums are shorter than <paramref name="cols"/>.</exception>
    public static void ColumnSums(ReadOnlySpan<float> a, Span<float> sums, int rows, int cols, int stride, bool accumulate = false)
    {
        Sizes.NotNegative(rows, nameof(rows));
        Sizes.NotNegative(cols, nameof(cols));
        Sizes.NotNegative(stride, nameof(stride));
        Sizes.Need(a.Length, rows == 0 ? 0 : (long)(rows - 1) * stride + cols, nameof(a), "{0} rows of {1} columns, stride apart", rows, cols);
        Sizes.Need(sums.Length, cols, nameof(sums), "{0} columns", cols);
        if (!accumulate) sums.Slice(0, cols).Clear();
        for (int i = 0; i < rows; i++)
            System.Numerics.Tensors.TensorPrimitives.Add(sums.Slice(0, cols), a.Slice(i * stride, cols), sums.Slice(0, cols));
    }

    // How far rows of `width` (checked not negative) floats starting at the offsets reach: the largest offset plus the
    // width (nothing for no rows or no width). A loop over the offsets, which the kernels read anyway; a negative offset
    // is refused.
    private static long Reach(ReadOnlySpan<int> offsets, int width)
    {
        if (offsets.IsEmpty || width == 0) return 0;
        int furthest = 0, nearest = 0;
        foreach (int o in offsets)
        {
            furthest = Math.Max(furthest, o);
            nearest = Math.Min(nearest, o);
        }
        if (nearest < 0)
            throw new ArgumentOutOfRangeException(nameof(offsets), nearest, $"An offset of the shifted rows is {nearest}; offsets must not be negative.");
        return (long)furthest + width;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowStride(int ldb, int n) =>
        throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"B's rows are {ldb} floats apart, fewer than its n = {n} columns.");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNotStrips(int n) =>
        throw new ArgumentOutOfRangeException(nameof(n), n, $"n must be a multiple of {StripWidth}, but is {n}.");
}
