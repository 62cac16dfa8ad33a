using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GenNets.Kernels;

// The products of a stride-1 convolution, forward and weight gradients: one operand's rows are shifted views of the
// padded input, so the unfolded input (im2col) is never built.
public static partial class Gemm
{
    /// <summary>
    /// C [m, n] = bias + A [m, k] · B (bias[i] on row i), or C += A·B when <paramref name="bias"/> is empty, where row p
    /// of B is the n floats starting at b[offsets[p]]: rows that are shifted views of one buffer. A stride-1 convolution
    /// is this product with A its weights and b its zero-padded input, so the unfolded input (im2col) is never built.
    /// n must be a multiple of 16.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, n is not a multiple of 16, an offset is negative, or a matrix would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">A, the offsets, C or a non-empty bias is shorter than it must be, or B is shorter than its furthest row reaches.</exception>
    public static void MultiplyIndirect(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<int> offsets, ReadOnlySpan<float> bias, Span<float> c, int m, int n, int k)
    {
        if (n % StripWidth != 0) ThrowNotStrips(n);
        Sizes.Need(a.Length, Sizes.Product(m, nameof(m), k, nameof(k)), nameof(a), "A [{0}, {1}]", m, k);
        Sizes.Need(offsets.Length, k, nameof(offsets), "B's k = {0} rows", k);
        Sizes.Need(c.Length, Sizes.Product(m, nameof(m), n, nameof(n)), nameof(c), "C [{0}, {1}]", m, n);
        if (!bias.IsEmpty) Sizes.Need(bias.Length, m, nameof(bias), "a bias of m = {0}", m);
        Sizes.Need(b.Length, Reach(offsets.Slice(0, k), n), nameof(b), "B's rows, by the offsets, with n = {0}", n);
        if (Vector512.IsHardwareAccelerated) MultiplyIndirect<Width512, Vector512<float>>(a, b, offsets, bias, c, m, n, k);
        else if (Vector256.IsHardwareAccelerated) MultiplyIndirect<Width256, Vector256<float>>(a, b, offsets, bias, c, m, n, k);
        else MultiplyIndirect<Width128, Vector128<float>>(a, b, offsets, bias, c, m, n, k);
    }

    // The same at one width, sizes already checked (the tests call each width). Two vectors of columns at a time: 16
    // columns with 256-bit vectors, 8 with 128-bit ones, and 32 (two 16-column blocks of n) with 512-bit ones, a lone
    // last block of 16 taken as a pair of two equal ones (the same values computed and stored twice).
    internal static void MultiplyIndirect<TWidth, TVector>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<int> offsets, ReadOnlySpan<float> bias, Span<float> c,
        int m, int n, int k)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref int ro = ref MemoryMarshal.GetReference(offsets);
        ref float rc = ref MemoryMarshal.GetReference(c);
        bool fromBias = !bias.IsEmpty;
        ref float rbias = ref MemoryMarshal.GetReference(bias);
        int lanes = TWidth.Count;
        // Blocks of six rows, but the last four or eight go in blocks of four (8, 16, 20, 32, 64 filters): no row is
        // computed twice, and most rows go through the six-row kernel, which does more FMAs per load. Each output is its
        // bias plus the products in order of k in either kernel and at any width, so the blocking does not change a bit.
        for (int j = 0; j < n; j += 2 * lanes)
        {
            nint second = j + 2 * lanes <= n ? lanes : 0;
            for (int i = 0; i < m;)
            {
                int left = m - i;
                if (left == 4 || left == 8)
                {
                    Indirect4x2<TWidth, TVector>(ref Unsafe.Add(ref ra, i * k), k, ref Unsafe.Add(ref rb, j), second, ref ro, ref Unsafe.Add(ref rc, i * n + j), n, fromBias,
                        ref Unsafe.Add(ref rbias, fromBias ? i : 0));
                    i += 4;
                }
                else
                {
                    Indirect6x2<TWidth, TVector>(ref Unsafe.Add(ref ra, i * k), k, ref Unsafe.Add(ref rb, j), second, ref ro, ref Unsafe.Add(ref rc, i * n + j), n,
                        Math.Min(6, left), fromBias, ref Unsafe.Add(ref rbias, fromBias ? i : 0));
                    i += 6;
                }
            }
            if (second == 0) break;
        }
    }

    // Six rows of A against two vectors of columns of the shifted rows of B (the second `second` floats after the first,
    // in B and in C); missing rows repeat the last, as in Axpy6x2. Not inlined, with two moving pointers (A's column, the
    // offset table) and C's rows found again after the loop, for the reason Axpy6x2Rows gives (inlined, two of A's row
    // pointers were reloaded from the stack at every step).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Indirect6x2<TWidth, TVector>(ref float a, int k, ref float b, nint second, ref int offsets, ref float c, int ldc, int rows, bool fromBias, ref float bias)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int last = rows - 1;
        nuint cs = (nuint)second;
        TVector s00, s01, s10, s11, s20, s21, s30, s31, s40, s41, s50, s51;
        if (fromBias)
        {
            s00 = s01 = TWidth.Broadcast(bias);
            s10 = s11 = TWidth.Broadcast(Unsafe.Add(ref bias, Math.Min(1, last)));
            s20 = s21 = TWidth.Broadcast(Unsafe.Add(ref bias, Math.Min(2, last)));
            s30 = s31 = TWidth.Broadcast(Unsafe.Add(ref bias, Math.Min(3, last)));
            s40 = s41 = TWidth.Broadcast(Unsafe.Add(ref bias, Math.Min(4, last)));
            s50 = s51 = TWidth.Broadcast(Unsafe.Add(ref bias, Math.Min(5, last)));
        }
        else
        {
            s00 = TWidth.Load(ref c); s01 = TWidth.Load(ref c, cs);
            ref float r = ref Unsafe.Add(ref c, Math.Min(1, last) * ldc);
            s10 = TWidth.Load(ref r); s11 = TWidth.Load(ref r, cs);
            r = ref Unsafe.Add(ref c, Math.Min(2, last) * ldc);
            s20 = TWidth.Load(ref r); s21 = TWidth.Load(ref r, cs);
            r = ref Unsafe.Add(ref c, Math.Min(3, last) * ldc);
            s30 = TWidth.Load(ref r); s31 = TWidth.Load(ref r, cs);
            r = ref Unsafe.Add(ref c, Math.Min(4, last) * ldc);
            s40 = TWidth.Load(ref r); s41 = TWidth.Load(ref r, cs);
            r = ref Unsafe.Add(ref c, Math.Min(5, last) * ldc);
            s50 = TWidth.Load(ref r); s51 = TWidth.Load(ref r, cs);
        }
        nint o1 = Math.Min(1, last) * k, o2 = Math.Min(2, last) * k, o3 = Math.Min(3, last) * k, o4 = Math.Min(4, last) * k, o5 = Math.Min(5, last) * k;
        ref float ap = ref a;
        ref int op = ref offsets;
        for (int p = k; p > 0; p--)
        {
            ref float row = ref Unsafe.Add(ref b, op);
            var b0 = TWidth.Load(ref row);
            var b1 = TWidth.Load(ref row, cs);
            var x = TWidth.Broadcast(ap); s00 = TWidth.MultiplyAdd(x, b0, s00); s01 = TWidth.MultiplyAdd(x, b1, s01);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o1)); s10 = TWidth.MultiplyAdd(x, b0, s10); s11 = TWidth.MultiplyAdd(x, b1, s11);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o2)); s20 = TWidth.MultiplyAdd(x, b0, s20); s21 = TWidth.MultiplyAdd(x, b1, s21);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o3)); s30 = TWidth.MultiplyAdd(x, b0, s30); s31 = TWidth.MultiplyAdd(x, b1, s31);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o4)); s40 = TWidth.MultiplyAdd(x, b0, s40); s41 = TWidth.MultiplyAdd(x, b1, s41);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o5)); s50 = TWidth.MultiplyAdd(x, b0, s50); s51 = TWidth.MultiplyAdd(x, b1, s51);
            ap = ref Unsafe.Add(ref ap, 1);
            op = ref Unsafe.Add(ref op, 1);
        }
        // Missing rows alias the last: stored last first, so row `last` ends with its own values. The second vector is
        // stored before the first, which it equals when it is the first (second 0).
        ref float line = ref Unsafe.Add(ref c, Math.Min(5, last) * ldc);
        TWidth.Store(s51, ref line, cs); TWidth.Store(s50, ref line);
        line = ref Unsafe.Add(ref c, Math.Min(4, last) * ldc);
        TWidth.Store(s41, ref line, cs); TWidth.Store(s40, ref line);
        line = ref Unsafe.Add(ref c, Math.Min(3, last) * ldc);
        TWidth.Store(s31, ref line, cs); TWidth.Store(s30, ref line);
        line = ref Unsafe.Add(ref c, Math.Min(2, last) * ldc);
        TWidth.Store(s21, ref line, cs); TWidth.Store(s20, ref line);
        line = ref Unsafe.Add(ref c, Math.Min(1, last) * ldc);
        TWidth.Store(s11, ref line, cs); TWidth.Store(s10, ref line);
        TWidth.Store(s01, ref c, cs); TWidth.Store(s00, ref c);
    }

    // Four rows of A against two vectors of columns of the shifted rows of B: eight accumulators, two loads and four
    // broadcasts per eight FMAs.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Indirect4x2<TWidth, TVector>(ref float a, int k, ref float b, nint second, ref int offsets, ref float c, int ldc, bool fromBias, ref float bias)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint cs = (nuint)second, l1 = (nuint)ldc, l2 = (nuint)(2 * ldc), l3 = (nuint)(3 * ldc);
        TVector s00, s01, s10, s11, s20, s21, s30, s31;
        if (fromBias)
        {
            s00 = s01 = TWidth.Broadcast(bias);
            s10 = s11 = TWidth.Broadcast(Unsafe.Add(ref bias, 1));
            s20 = s21 = TWidth.Broadcast(Unsafe.Add(ref bias, 2));
            s30 = s31 = TWidth.Broadcast(Unsafe.Add(ref bias, 3));
        }
        else
        {
            s00 = TWidth.Load(ref c); s01 = TWidth.Load(ref c, cs);
            s10 = TWidth.Load(ref c, l1); s11 = TWidth.Load(ref c, l1 + cs);
            s20 = TWidth.Load(ref c, l2); s21 = TWidth.Load(ref c, l2 + cs);
            s30 = TWidth.Load(ref c, l3); s31 = TWidth.Load(ref c, l3 + cs);
        }
        nint o1 = k, o2 = 2 * k, o3 = 3 * k;
        ref float ap = ref a;
        ref int op = ref offsets;
        for (int p = k; p > 0; p--)
        {
            ref float row = ref Unsafe.Add(ref b, op);
            var b0 = TWidth.Load(ref row);
            var b1 = TWidth.Load(ref row, cs);
            var x = TWidth.Broadcast(ap); s00 = TWidth.MultiplyAdd(x, b0, s00); s01 = TWidth.MultiplyAdd(x, b1, s01);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o1)); s10 = TWidth.MultiplyAdd(x, b0, s10); s11 = TWidth.MultiplyAdd(x, b1, s11);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o2)); s20 = TWidth.MultiplyAdd(x, b0, s20); s21 = TWidth.MultiplyAdd(x, b1, s21);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o3)); s30 = TWidth.MultiplyAdd(x, b0, s30); s31 = TWidth.MultiplyAdd(x, b1, s31);
            ap = ref Unsafe.Add(ref ap, 1);
            op = ref Unsafe.Add(ref op, 1);
        }
        TWidth.Store(s01, ref c, cs); TWidth.Store(s00, ref c);
        TWidth.Store(s11, ref c, l1 + cs); TWidth.Store(s10, ref c, l1);
        TWidth.Store(s21, ref c, l2 + cs); TWidth.Store(s20, ref c, l2);
        TWidth.Store(s31, ref c, l3 + cs); TWidth.Store(s30, ref c, l3);
    }

    /// <summary>
    /// C [m, k] (+)= A [m, n] · Bᵀ, where row p of B is the n floats starting at b[offsets[p]]: the weight gradient of a
    /// stride-1 convolution, dW = dY · (shifted rows of the padded input)ᵀ, without building the unfolded input.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, an offset is negative, or a matrix would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">A, the offsets or C is shorter than it must be, or B is shorter than its furthest row reaches.</exception>
    public static void MultiplyTransposedIndirect(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<int> offsets, Span<float> c, int m, int k, int n, bool accumulate)
    {
        Sizes.Need(a.Length, Sizes.Product(m, nameof(m), n, nameof(n)), nameof(a), "A [{0}, {1}]", m, n);
        Sizes.Need(offsets.Length, k, nameof(offsets), "B's k = {0} rows", k);
        Sizes.Need(c.Length, Sizes.Product(m, nameof(m), k, nameof(k)), nameof(c), "C [{0}, {1}]", m, k);
        Sizes.Need(b.Length, Reach(offsets.Slice(0, k), n), nameof(b), "B's rows, by the offsets, with n = {0}", n);
        if (Vector512.IsHardwareAccelerated) MultiplyTransposedIndirect<Width512, Vector512<float>>(a, b, offsets, c, m, k, n, accumulate);
        else if (Vector256.IsHardwareAccelerated) MultiplyTransposedIndirect<Width256, Vector256<float>>(a, b, offsets, c, m, k, n, accumulate);
        else MultiplyTransposedIndirect<Width128, Vector128<float>>(a, b, offsets, c, m, k, n, accumulate);
    }

    // The same at one width, sizes already checked.
    internal static void MultiplyTransposedIndirect<TWidth, TVector>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<int> offsets, Span<float> c, int m, int k, int n, bool accumulate)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        int p0 = 0;
        for (; p0 + 4 <= k; p0 += 4)
        {
            ref float b0 = ref Unsafe.Add(ref rb, offsets[p0]);
            ref float b1 = ref Unsafe.Add(ref rb, offsets[p0 + 1]);
            ref float b2 = ref Unsafe.Add(ref rb, offsets[p0 + 2]);
            ref float b3 = ref Unsafe.Add(ref rb, offsets[p0 + 3]);
            int i = 0;
            for (; i + 2 <= m; i += 2)
                Dot2x4<TWidth, TVector>(ref Unsafe.Add(ref ra, i * n), ref Unsafe.Add(ref ra, (i + 1) * n), ref b0, ref b1, ref b2, ref b3, n, ref Unsafe.Add(ref rc, i * k + p0), k, accumulate);
            if (i < m)
                Dot1x4<TWidth, TVector>(ref Unsafe.Add(ref ra, i * n), ref b0, ref b1, ref b2, ref b3, n, ref Unsafe.Add(ref rc, i * k + p0), accumulate);
        }
        for (; p0 < k; p0++)
            for (int i = 0; i < m; i++)
            {
                float dot = Dot1x1<TWidth, TVector>(ref Unsafe.Add(ref ra, i * n), ref Unsafe.Add(ref rb, offsets[p0]), n);
                Unsafe.Add(ref rc, i * k + p0) = accumulate ? Unsafe.Add(ref rc, i * k + p0) + dot : dot;
            }
    }

    /// <summary>
    /// C [m, n] (+)= A · B where row i of A is the kk floats starting at a[offsets[i]] and B [kk, n] has its rows
    /// <paramref name="ldb"/> ≥ n floats apart, n a multiple of 16: the weight gradient of a stride-1 convolution turned
    /// around, dWᵀ [patch, outC] = (shifted rows of the padded input) · dYᵀ. Unlike <see cref="MultiplyTransposedIndirect"/>,
    /// whose dots end in horizontal sums and load the shifted rows unaligned, it broadcasts A's elements and loads B's rows whole.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, n is not a multiple of 16, <paramref name="ldb"/> is less than n, an offset is negative, or C would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">The offsets, B or C is shorter than it must be, or A is shorter than its furthest row reaches.</exception>
    public static void MultiplyShiftedRows(ReadOnlySpan<float> a, ReadOnlySpan<int> offsets, ReadOnlySpan<float> b, int ldb, Span<float> c, int m, int n, int kk, bool accumulate)
    {
        Sizes.NotNegative(m, nameof(m));
        Sizes.NotNegative(kk, nameof(kk));
        if (n % StripWidth != 0) ThrowNotStrips(n);
        Sizes.NotNegative(n, nameof(n));
        if (ldb < n) ThrowStride(ldb, n);
        Sizes.Need(offsets.Length, m, nameof(offsets), "A's m = {0} rows", m);
        Sizes.Need(b.Length, kk == 0 || n == 0 ? 0 : (long)(kk - 1) * ldb + n, nameof(b), "B [{0}, {1}] with its rows ldb apart", kk, n);
        Sizes.Need(c.Length, Sizes.Product(m, nameof(m), n, nameof(n)), nameof(c), "C [{0}, {1}]", m, n);
        Sizes.Need(a.Length, Reach(offsets.Slice(0, m), kk), nameof(a), "A's rows, by the offsets, with kk = {0}", kk);
        if (Vector512.IsHardwareAccelerated) MultiplyShiftedRows<Width512, Vector512<float>>(a, offsets, b, ldb, c, m, n, kk, accumulate);
        else if (Vector256.IsHardwareAccelerated) MultiplyShiftedRows<Width256, Vector256<float>>(a, offsets, b, ldb, c, m, n, kk, accumulate);
        else MultiplyShiftedRows<Width128, Vector128<float>>(a, offsets, b, ldb, c, m, n, kk, accumulate);
    }

    // The same at one width, sizes already checked: six rows by two vectors of columns at a time (n is a multiple of
    // 16; with 512-bit vectors a lone last one is taken twice).
    internal static void MultiplyShiftedRows<TWidth, TVector>(ReadOnlySpan<float> a, ReadOnlySpan<int> offsets, ReadOnlySpan<float> b, int ldb, Span<float> c, int m, int n, int kk, bool accumulate)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        int lanes = TWidth.Count;
        for (int j = 0; j < n; j += 2 * lanes)
        {
            nint second = j + 2 * lanes <= n ? lanes : 0;
            for (int i = 0; i < m; i += 6)
            {
                int rows = Math.Min(6, m - i), last = rows - 1, at = offsets[i];
                Axpy6x2Rows<TWidth, TVector>(ref Unsafe.Add(ref ra, at), offsets[i + Math.Min(1, last)] - at, offsets[i + Math.Min(2, last)] - at, offsets[i + Math.Min(3, last)] - at,
                    offsets[i + Math.Min(4, last)] - at, offsets[i + Math.Min(5, last)] - at, 1, ref Unsafe.Add(ref rb, j), ldb, second, ref Unsafe.Add(ref rc, i * n + j), n, second, kk,
                    accumulate, rows, false, ref Unsafe.NullRef<float>(), 0);
            }
            if (second == 0) break;
        }
    }
}
