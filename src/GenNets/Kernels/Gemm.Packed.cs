using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GenNets.Kernels;

public static partial class Gemm
{
    // Depth from which MultiplyAccumulateChecked takes the packed path (with m ≥ PackedRows and n ≥ one vector). Below
    // it the unpacked kernels' column block of B stays in L1 anyway; measured (Xeon, AVX-512, one thread, A read
    // transposed) the packed path was level with them at kk = 192 and ahead from 256 on.
    private const int PackedMinDepth = 256;

    // Depth of one chunk (KC): a constant, so the chunks' bounds depend on kk alone. 192, 256, 384 and 512 measured
    // within the noise of each other; 256 keeps an A panel (6 KB) in L1 and a block of B (kc·NC) in L2.
    private const int PackedDepth = 256;

    // Columns of B packed at once (NC, rounded down to whole panels): 1 MB of B at KC = 256, held in L2 while every
    // row panel of A passes.
    private const int PackedColumns = 1024;

    // Rows of A packed at once (MC, whole panels of six): bounds the scratch for tall products.
    private const int PackedBlockRows = 384;

    // Rows of C in the micro-kernel's register block.
    private const int PackedRows = 6;

    [ThreadStatic] private static float[]? packedScratch;

    // C (+)= A·B (+ bias) as MultiplyAccumulateChecked, every column of C, through packed panels (GotoBLAS's scheme).
    // For each chunk of KC steps of depth, a block of B's columns is copied into panels of nr = 4 or 2 vectors of columns
    // laid [kc][nr] (zeros past n), and A's rows into panels of six laid [kc][6] (zeros past m); the micro-kernel then
    // takes each A panel, kept in L1, against each B panel, streamed from L2, both read sequentially: no stride of B that
    // could fold its rows onto a few of L1's sets (rows 1 KB apart fall into 4 of 64), and A read transposed (a step's
    // six values side by side, the next step a row of dY further) read from its rows once. C's tile is loaded at the
    // start of a chunk and stored at its end. A is read in place where packing it does not pay: a row-major A (its rows
    // are sequential already), and a product whose columns fit one B panel (each A panel would be read once; measured,
    // packing it cost 15–20 % of 256×64 and 192×64 products).
    //
    // Each element of C is its start (C, the bias, or zero) plus the products, one FMA at a time in order of depth, as on
    // the unpacked path: a chunk only stores and reloads the running sum. So the result is the same to the bit whatever
    // the chunk size, whichever rows of C a call covers, and whichever path takes it. Tiles past m or n are computed in
    // a scratch tile and their valid part copied out.
    //
    // Measured (Xeon, AVX-512, one thread, on a shared machine: medians of 11 alternating runs, the unpacked path before
    // → this one), dense weight gradients dW = dYᵀ·X over kk = 2,048 rows: 256→64 (m 64, n 256) 1,942 → 612 µs (35 → 110
    // GFLOP/s, best run 142), 64→256 (m 256, n 64) 1,026 → 540 µs (65 → 124), 64→192 (m 192, n 64) 538 → 375 µs (94 →
    // 134). An MLP's 784→256 at batch 64 (kk 64) stays on the unpacked path (184 and 194 µs, the same kernels).
    internal static void MultiplyPacked<TWidth, TVector>(ReadOnlySpan<float> a, int rowStride, int colStride, ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> bias,
        Span<float> c, int m, int n, int kk, bool accumulate)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        if (m == 0 || n == 0) return;
        bool hasBias = !accumulate && !bias.IsEmpty;
        if (kk == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++)
                    if (hasBias) bias.Slice(0, n).CopyTo(c.Slice(i * n, n));
                    else c.Slice(i * n, n).Clear();
            return;
        }

        int nr = PackedVectors<TWidth, TVector>() * TWidth.Count, kcMax = Math.Min(PackedDepth, kk);
        int panels = Math.Min((n + nr - 1) / nr, Math.Max(1, PackedColumns / nr));
        int rowPanels = Math.Min((m + PackedRows - 1) / PackedRows, PackedBlockRows / PackedRows);
        bool packA = colStride != 1 && n > nr;
        // B's panels; A's panels, each with room for an eight-float store past its end; a tile of C; a row of zeros.
        int aPanel = PackedRows * kcMax + 8;
        int bLength = panels * nr * kcMax, aLength = packA ? rowPanels * aPanel : 0;
        Span<float> scratch = Scratch.Get(ref packedScratch, bLength + aLength + (PackedRows + 1) * nr);
        scratch.Slice(bLength + aLength + PackedRows * nr, nr).Clear();
        ref float bPack = ref MemoryMarshal.GetReference(scratch);
        ref float aPack = ref Unsafe.Add(ref bPack, bLength);
        ref float tile = ref Unsafe.Add(ref aPack, aLength);
        ref float zeros = ref Unsafe.Add(ref tile, PackedRows * nr);

        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        ref float rbias = ref MemoryMarshal.GetReference(bias);
        for (int pc = 0; pc < kk; pc += PackedDepth)
        {
            int kc = Math.Min(PackedDepth, kk - pc);
            bool fromC = accumulate || pc > 0;
            for (int jc = 0; jc < n; jc += panels * nr)
            {
                int nc = Math.Min(panels * nr, n - jc);
                PackPanelsB<TWidth, TVector>(ref Unsafe.Add(ref rb, (nint)pc * ldb + jc), ldb, kc, nc, nr, ref bPack);
                for (int ic = 0; ic < m; ic += rowPanels * PackedRows)
                {
                    int mc = Math.Min(rowPanels * PackedRows, m - ic);
                    ref float a0 = ref Unsafe.Add(ref ra, (nint)ic * rowStride + (nint)pc * colStride);
                    if (packA) PackPanelsA(ref a0, rowStride, colStride, kc, mc, m - ic, aPanel, ref aPack);
                    for (int i = 0; i < mc; i += PackedRows)
                    {
                        ref float ap = ref packA ? ref Unsafe.Add(ref aPack, (nint)(i / PackedRows) * aPanel) : ref Unsafe.Add(ref a0, (nint)i * rowStride);
                        for (int j = jc; j < jc + nc; j += nr)
                            Tile<TWidth, TVector>(ref ap, packA, rowStride, colStride, Math.Min(PackedRows, mc - i), j, n, nr, ref Unsafe.Add(ref bPack, (nint)(j - jc) * kc), kc,
                                ref Unsafe.Add(ref rc, (nint)(ic + i) * n + j), fromC, hasBias, ref rbias, ref zeros, ref tile);
                    }
                }
            }
        }
    }

    // One tile of C: `rows` rows from A's panel (packed [kc][6], or A's own rows rowStride apart) by the B panel's
    // columns from j. A tile past m or n is computed in `tile` and its valid part copied out.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TWidth, TVector>(ref float a0, bool packed, int rowStride, int colStride, int rows, int j, int n, int nr, ref float bp, int kc,
        ref float ct, bool fromC, bool hasBias, ref float rbias, ref float zeros, ref float tile)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int last = rows - 1, cols = Math.Min(nr, n - j);
        nint o1 = 1, o2 = 2, o3 = 3, o4 = 4, o5 = 5, step = PackedRows;
        if (!packed)
        {
            // Missing rows repeat the last; their sums are never stored.
            o1 = Math.Min(1, last) * rowStride; o2 = Math.Min(2, last) * rowStride; o3 = Math.Min(3, last) * rowStride;
            o4 = Math.Min(4, last) * rowStride; o5 = Math.Min(5, last) * rowStride; step = colStride;
        }
        if (rows == PackedRows && cols == nr)
        {
            ref float start = ref fromC ? ref ct : ref (hasBias ? ref Unsafe.Add(ref rbias, j) : ref zeros);
            PackedKernel<TWidth, TVector>(ref a0, o1, o2, o3, o4, o5, step, ref bp, kc, ref start, fromC ? n : 0, ref ct, n);
            return;
        }
        // The tile's unused places start at zero (never a stale subnormal that would slow every FMA).
        for (int r = 0; r < PackedRows; r++)
        {
            Span<float> row = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref tile, r * nr), nr);
            row.Clear();
            if (r >= rows) continue;
            if (fromC) MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref ct, (nint)r * n), cols).CopyTo(row);
            else if (hasBias) MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref rbias, j), cols).CopyTo(row);
        }
        PackedKernel<TWidth, TVector>(ref a0, o1, o2, o3, o4, o5, step, ref bp, kc, ref tile, nr, ref tile, nr);
        for (int r = 0; r < rows; r++)
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref tile, r * nr), cols).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref ct, (nint)r * n), cols));
    }

    // Vectors of columns in the micro-kernel: four with AVX-512's 32 registers (24 accumulators), else two (12).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PackedVectors<TWidth, TVector>() where TWidth : struct, IVectorWidth<TVector> where TVector : struct => TWidth.Count == 16 ? 4 : 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackedKernel<TWidth, TVector>(ref float a, nint o1, nint o2, nint o3, nint o4, nint o5, nint aStep, ref float b, int kc,
        ref float start, nint ldStart, ref float c, nint ldc)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        if (PackedVectors<TWidth, TVector>() == 4) Packed6x4<TWidth, TVector>(ref a, o1, o2, o3, o4, o5, aStep, ref b, kc, ref start, ldStart, ref c, ldc);
        else Packed6x2<TWidth, TVector>(ref a, o1, o2, o3, o4, o5, aStep, ref b, kc, ref start, ldStart, ref c, ldc);
    }

    // Rows [pc, pc + kc) of B, columns [0, nc), into panels of nr columns: panel q holds row p's columns q·nr to
    // q·nr + nr at q·nr·kc + p·nr, zeros past nc. B is read row by row, sequentially.
    private static void PackPanelsB<TWidth, TVector>(ref float b, int ldb, int kc, int nc, int nr, ref float dst)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count, whole = nc / nr, rest = nc - whole * nr;
        nint panel = (nint)nr * kc;
        for (int p = 0; p < kc; p++)
        {
            ref float src = ref Unsafe.Add(ref b, (nint)p * ldb);
            ref float d = ref Unsafe.Add(ref dst, (nint)p * nr);
            for (int q = 0; q < whole; q++)
            {
                ref float s = ref Unsafe.Add(ref src, q * nr);
                ref float t = ref Unsafe.Add(ref d, q * panel);
                for (int v = 0; v < nr; v += lanes) TWidth.Store(TWidth.Load(ref s, (nuint)v), ref t, (nuint)v);
            }
            if (rest > 0)
            {
                ref float s = ref Unsafe.Add(ref src, whole * nr);
                ref float t = ref Unsafe.Add(ref d, whole * panel);
                int v = 0;
                for (; v + lanes <= rest; v += lanes) TWidth.Store(TWidth.Load(ref s, (nuint)v), ref t, (nuint)v);
                for (; v < rest; v++) Unsafe.Add(ref t, v) = Unsafe.Add(ref s, v);
                for (; v < nr; v++) Unsafe.Add(ref t, v) = 0f;
            }
        }
    }

    // A's `mc` rows from a, kc steps deep, into panels of six rows [kc][6], `panel` floats apart, zeros for missing
    // rows; `readable` rows from a on may be read. With rowStride 1 (A read transposed: a step's six values side by
    // side) and two more values readable after them, a step is one eight-float copy whose last two are overwritten by
    // the next step's (and land in the room after the panel at the last). Sixteen steps at a time for every panel: A's
    // rows, whose stride may be a multiple of 256 bytes, are each read from L2 once, their lines kept in L1 meanwhile.
    private static void PackPanelsA(ref float a, int rowStride, int colStride, int kc, int mc, int readable, int panel, ref float dst)
    {
        nint step = colStride;
        for (int p0 = 0; p0 < kc; p0 += 16)
        {
            int p1 = Math.Min(kc, p0 + 16);
            for (int i = 0; i < mc; i += PackedRows)
            {
                int rows = Math.Min(PackedRows, mc - i);
                ref float src = ref Unsafe.Add(ref a, (nint)i * rowStride);
                ref float d = ref Unsafe.Add(ref dst, (nint)(i / PackedRows) * panel);
                if (rowStride == 1 && rows == PackedRows && i + 8 <= readable && Vector256.IsHardwareAccelerated)
                {
                    for (int p = p0; p < p1; p++)
                        Vector256.LoadUnsafe(ref Unsafe.Add(ref src, p * step)).StoreUnsafe(ref d, (nuint)(p * PackedRows));
                    continue;
                }
                for (int p = p0; p < p1; p++)
                {
                    ref float s = ref Unsafe.Add(ref src, p * step);
                    for (int r = 0; r < PackedRows; r++)
                        Unsafe.Add(ref d, p * PackedRows + r) = r < rows ? Unsafe.Add(ref s, (nint)r * rowStride) : 0f;
                }
            }
        }
    }

    // Six rows of C by four vectors: A's rows at a and o1 to o5 from it, aStep apart in depth; B's panel [kc][4 vectors].
    // The accumulators start from `start` (rows ldStart apart: C's tile, or the bias or zeros with ldStart 0) and end
    // in c (rows ldc apart), which may be the same tile. 24 accumulators, four loads and six broadcasts per 24 FMAs.
    // Axpy6x4Rows does the same sums on any strides; called here instead (the panels' strides passed in registers), the
    // Transformer's training step ran 5–10 % slower in eleven alternating runs: here B's offsets are constants.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Packed6x4<TWidth, TVector>(ref float a, nint o1, nint o2, nint o3, nint o4, nint o5, nint aStep, ref float b, int kc,
        ref float start, nint ldStart, ref float c, nint ldc)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint l = (nuint)TWidth.Count;
        ref float q = ref start;
        TVector s00 = TWidth.Load(ref q), s01 = TWidth.Load(ref q, l), s02 = TWidth.Load(ref q, 2 * l), s03 = TWidth.Load(ref q, 3 * l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s10 = TWidth.Load(ref q), s11 = TWidth.Load(ref q, l), s12 = TWidth.Load(ref q, 2 * l), s13 = TWidth.Load(ref q, 3 * l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s20 = TWidth.Load(ref q), s21 = TWidth.Load(ref q, l), s22 = TWidth.Load(ref q, 2 * l), s23 = TWidth.Load(ref q, 3 * l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s30 = TWidth.Load(ref q), s31 = TWidth.Load(ref q, l), s32 = TWidth.Load(ref q, 2 * l), s33 = TWidth.Load(ref q, 3 * l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s40 = TWidth.Load(ref q), s41 = TWidth.Load(ref q, l), s42 = TWidth.Load(ref q, 2 * l), s43 = TWidth.Load(ref q, 3 * l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s50 = TWidth.Load(ref q), s51 = TWidth.Load(ref q, l), s52 = TWidth.Load(ref q, 2 * l), s53 = TWidth.Load(ref q, 3 * l);
        nint bStep = 4 * TWidth.Count;
        ref float ap = ref a;
        ref float bp = ref b;
        // The references move after the loop's test, never past the last step (see Axpy6x2Rows).
        for (int p = kc; p > 0;)
        {
            var w0 = TWidth.Load(ref bp);
            var w1 = TWidth.Load(ref bp, l);
            var w2 = TWidth.Load(ref bp, 2 * l);
            var w3 = TWidth.Load(ref bp, 3 * l);
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
            ap = ref Unsafe.Add(ref ap, aStep);
            bp = ref Unsafe.Add(ref bp, bStep);
        }
        ref float r = ref c;
        TWidth.Store(s00, ref r); TWidth.Store(s01, ref r, l); TWidth.Store(s02, ref r, 2 * l); TWidth.Store(s03, ref r, 3 * l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s10, ref r); TWidth.Store(s11, ref r, l); TWidth.Store(s12, ref r, 2 * l); TWidth.Store(s13, ref r, 3 * l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s20, ref r); TWidth.Store(s21, ref r, l); TWidth.Store(s22, ref r, 2 * l); TWidth.Store(s23, ref r, 3 * l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s30, ref r); TWidth.Store(s31, ref r, l); TWidth.Store(s32, ref r, 2 * l); TWidth.Store(s33, ref r, 3 * l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s40, ref r); TWidth.Store(s41, ref r, l); TWidth.Store(s42, ref r, 2 * l); TWidth.Store(s43, ref r, 3 * l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s50, ref r); TWidth.Store(s51, ref r, l); TWidth.Store(s52, ref r, 2 * l); TWidth.Store(s53, ref r, 3 * l);
    }

    // Six rows of C by two vectors, as Packed6x4, for 16 registers: 12 accumulators, two loads and six broadcasts per 12 FMAs.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Packed6x2<TWidth, TVector>(ref float a, nint o1, nint o2, nint o3, nint o4, nint o5, nint aStep, ref float b, int kc,
        ref float start, nint ldStart, ref float c, nint ldc)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint l = (nuint)TWidth.Count;
        ref float q = ref start;
        TVector s00 = TWidth.Load(ref q), s01 = TWidth.Load(ref q, l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s10 = TWidth.Load(ref q), s11 = TWidth.Load(ref q, l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s20 = TWidth.Load(ref q), s21 = TWidth.Load(ref q, l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s30 = TWidth.Load(ref q), s31 = TWidth.Load(ref q, l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s40 = TWidth.Load(ref q), s41 = TWidth.Load(ref q, l);
        q = ref Unsafe.Add(ref q, ldStart);
        TVector s50 = TWidth.Load(ref q), s51 = TWidth.Load(ref q, l);
        nint bStep = 2 * TWidth.Count;
        ref float ap = ref a;
        ref float bp = ref b;
        for (int p = kc; p > 0;)
        {
            var w0 = TWidth.Load(ref bp);
            var w1 = TWidth.Load(ref bp, l);
            var x = TWidth.Broadcast(ap); s00 = TWidth.MultiplyAdd(x, w0, s00); s01 = TWidth.MultiplyAdd(x, w1, s01);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o1)); s10 = TWidth.MultiplyAdd(x, w0, s10); s11 = TWidth.MultiplyAdd(x, w1, s11);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o2)); s20 = TWidth.MultiplyAdd(x, w0, s20); s21 = TWidth.MultiplyAdd(x, w1, s21);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o3)); s30 = TWidth.MultiplyAdd(x, w0, s30); s31 = TWidth.MultiplyAdd(x, w1, s31);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o4)); s40 = TWidth.MultiplyAdd(x, w0, s40); s41 = TWidth.MultiplyAdd(x, w1, s41);
            x = TWidth.Broadcast(Unsafe.Add(ref ap, o5)); s50 = TWidth.MultiplyAdd(x, w0, s50); s51 = TWidth.MultiplyAdd(x, w1, s51);
            if (--p == 0) break;
            ap = ref Unsafe.Add(ref ap, aStep);
            bp = ref Unsafe.Add(ref bp, bStep);
        }
        ref float r = ref c;
        TWidth.Store(s00, ref r); TWidth.Store(s01, ref r, l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s10, ref r); TWidth.Store(s11, ref r, l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s20, ref r); TWidth.Store(s21, ref r, l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s30, ref r); TWidth.Store(s31, ref r, l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s40, ref r); TWidth.Store(s41, ref r, l);
        r = ref Unsafe.Add(ref r, ldc);
        TWidth.Store(s50, ref r); TWidth.Store(s51, ref r, l);
    }
}
