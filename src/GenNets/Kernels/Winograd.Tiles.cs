using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenNets.Kernels;

// The transforms of F(2×2, 3×3) and F(4×4, 3×3) that Winograd's kernels are generic over, and the block sizes of its
// products.

/// <summary>The transforms of one F(m×m, 3×3): each maps vectors `stride` apart from `source` to vectors `step` apart from `target`.</summary>
internal interface ITile
{
    /// <summary>Outputs a tile side.</summary>
    static abstract int M { get; }
    /// <summary>Bᵀ: m + 2 inputs to m + 2.</summary>
    static abstract void Input<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct;
    /// <summary>Aᵀ: m + 2 products to m outputs.</summary>
    static abstract void Output<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct;
    /// <summary>G: 3 taps to m + 2.</summary>
    static abstract void Kernel<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct;
    /// <summary>A, the transpose of <see cref="Output"/>: m output gradients to m + 2 (the weight gradient's dY).</summary>
    static abstract void OutputTransposed<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct;
    /// <summary>Gᵀ, the transpose of <see cref="Kernel"/>: m + 2 sums to 3 taps' gradients.</summary>
    static abstract void KernelTransposed<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct;
}

/// <summary>F(2×2, 3×3): Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].</summary>
internal readonly struct Tile2 : ITile
{
    public static int M => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var d0 = TWidth.Load(ref source); var d1 = TWidth.Load(ref source, stride);
        var d2 = TWidth.Load(ref source, 2 * stride); var d3 = TWidth.Load(ref source, 3 * stride);
        TWidth.Store(TWidth.Subtract(d0, d2), ref target);
        TWidth.Store(TWidth.Add(d1, d2), ref target, step);
        TWidth.Store(TWidth.Subtract(d2, d1), ref target, 2 * step);
        TWidth.Store(TWidth.Subtract(d1, d3), ref target, 3 * step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var m0 = TWidth.Load(ref source); var m1 = TWidth.Load(ref source, stride);
        var m2 = TWidth.Load(ref source, 2 * stride); var m3 = TWidth.Load(ref source, 3 * stride);
        TWidth.Store(TWidth.Add(TWidth.Add(m0, m1), m2), ref target);
        TWidth.Store(TWidth.Subtract(TWidth.Subtract(m1, m2), m3), ref target, step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Kernel<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var g0 = TWidth.Load(ref source); var g1 = TWidth.Load(ref source, stride); var g2 = TWidth.Load(ref source, 2 * stride);
        var half = TWidth.Multiply(TWidth.Add(g0, g2), TWidth.Broadcast(0.5f));
        TWidth.Store(g0, ref target);
        TWidth.Store(TWidth.MultiplyAdd(g1, TWidth.Broadcast(0.5f), half), ref target, step);
        TWidth.Store(TWidth.MultiplyAdd(g1, TWidth.Broadcast(-0.5f), half), ref target, 2 * step);
        TWidth.Store(g2, ref target, 3 * step);
    }

    // A = [1 0; 1 1; 1 −1; 0 −1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputTransposed<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var y0 = TWidth.Load(ref source); var y1 = TWidth.Load(ref source, stride);
        TWidth.Store(y0, ref target);
        TWidth.Store(TWidth.Add(y0, y1), ref target, step);
        TWidth.Store(TWidth.Subtract(y0, y1), ref target, 2 * step);
        TWidth.Store(TWidth.Subtract(TWidth.Zero, y1), ref target, 3 * step);
    }

    // Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void KernelTransposed<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var d0 = TWidth.Load(ref source); var d1 = TWidth.Load(ref source, stride);
        var d2 = TWidth.Load(ref source, 2 * stride); var d3 = TWidth.Load(ref source, 3 * stride);
        var half = TWidth.Multiply(TWidth.Add(d1, d2), TWidth.Broadcast(0.5f));
        TWidth.Store(TWidth.Add(d0, half), ref target);
        TWidth.Store(TWidth.Multiply(TWidth.Subtract(d1, d2), TWidth.Broadcast(0.5f)), ref target, step);
        TWidth.Store(TWidth.Add(half, d3), ref target, 2 * step);
    }
}

/// <summary>
/// F(4×4, 3×3) at the points 0, ±1, ±2 (Lavin and Gray): Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0;
/// 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1], G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
/// </summary>
internal readonly struct Tile4 : ITile
{
    public static int M => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var d0 = TWidth.Load(ref source); var d1 = TWidth.Load(ref source, stride); var d2 = TWidth.Load(ref source, 2 * stride);
        var d3 = TWidth.Load(ref source, 3 * stride); var d4 = TWidth.Load(ref source, 4 * stride); var d5 = TWidth.Load(ref source, 5 * stride);
        var four = TWidth.Broadcast(4f);
        var a = TWidth.MultiplyAdd(d2, TWidth.Broadcast(-4f), d4); // d4 − 4d2
        var b = TWidth.MultiplyAdd(d1, TWidth.Broadcast(-4f), d3); // d3 − 4d1
        var c = TWidth.Subtract(d4, d2);
        var e = TWidth.Subtract(d3, d1);
        e = TWidth.Add(e, e); // 2(d3 − d1)
        TWidth.Store(TWidth.MultiplyAdd(d0, four, TWidth.MultiplyAdd(d2, TWidth.Broadcast(-5f), d4)), ref target);
        TWidth.Store(TWidth.Add(a, b), ref target, step);
        TWidth.Store(TWidth.Subtract(a, b), ref target, 2 * step);
        TWidth.Store(TWidth.Add(c, e), ref target, 3 * step);
        TWidth.Store(TWidth.Subtract(c, e), ref target, 4 * step);
        TWidth.Store(TWidth.MultiplyAdd(d1, four, TWidth.MultiplyAdd(d3, TWidth.Broadcast(-5f), d5)), ref target, 5 * step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var m0 = TWidth.Load(ref source); var m1 = TWidth.Load(ref source, stride); var m2 = TWidth.Load(ref source, 2 * stride);
        var m3 = TWidth.Load(ref source, 3 * stride); var m4 = TWidth.Load(ref source, 4 * stride); var m5 = TWidth.Load(ref source, 5 * stride);
        var p = TWidth.Add(m1, m2);
        var q = TWidth.Subtract(m1, m2);
        var r = TWidth.Add(m3, m4);
        var s = TWidth.Subtract(m3, m4);
        TWidth.Store(TWidth.Add(TWidth.Add(m0, p), r), ref target);
        TWidth.Store(TWidth.MultiplyAdd(s, TWidth.Broadcast(2f), q), ref target, step);
        TWidth.Store(TWidth.MultiplyAdd(r, TWidth.Broadcast(4f), p), ref target, 2 * step);
        TWidth.Store(TWidth.MultiplyAdd(s, TWidth.Broadcast(8f), TWidth.Add(q, m5)), ref target, 3 * step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Kernel<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var g0 = TWidth.Load(ref source); var g1 = TWidth.Load(ref source, stride); var g2 = TWidth.Load(ref source, 2 * stride);
        var sum = TWidth.Add(g0, g2);
        var sixth = TWidth.Broadcast(-1f / 6f);
        var t = TWidth.MultiplyAdd(g0, TWidth.Broadcast(1f / 24f), TWidth.Multiply(g2, TWidth.Broadcast(1f / 6f)));
        TWidth.Store(TWidth.Multiply(g0, TWidth.Broadcast(0.25f)), ref target);
        TWidth.Store(TWidth.Multiply(TWidth.Add(sum, g1), sixth), ref target, step);
        TWidth.Store(TWidth.Multiply(TWidth.Subtract(sum, g1), sixth), ref target, 2 * step);
        TWidth.Store(TWidth.MultiplyAdd(g1, TWidth.Broadcast(1f / 12f), t), ref target, 3 * step);
        TWidth.Store(TWidth.MultiplyAdd(g1, TWidth.Broadcast(-1f / 12f), t), ref target, 4 * step);
        TWidth.Store(g2, ref target, 5 * step);
    }

    // A = [1 0 0 0; 1 1 1 1; 1 −1 1 −1; 1 2 4 8; 1 −2 4 −8; 0 0 0 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputTransposed<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var y0 = TWidth.Load(ref source); var y1 = TWidth.Load(ref source, stride);
        var y2 = TWidth.Load(ref source, 2 * stride); var y3 = TWidth.Load(ref source, 3 * stride);
        var even = TWidth.Add(y0, y2);
        var odd = TWidth.Add(y1, y3);
        var even4 = TWidth.MultiplyAdd(y2, TWidth.Broadcast(4f), y0); // y0 + 4y2
        var odd8 = TWidth.MultiplyAdd(y3, TWidth.Broadcast(8f), TWidth.Add(y1, y1)); // 2y1 + 8y3
        TWidth.Store(y0, ref target);
        TWidth.Store(TWidth.Add(even, odd), ref target, step);
        TWidth.Store(TWidth.Subtract(even, odd), ref target, 2 * step);
        TWidth.Store(TWidth.Add(even4, odd8), ref target, 3 * step);
        TWidth.Store(TWidth.Subtract(even4, odd8), ref target, 4 * step);
        TWidth.Store(y3, ref target, 5 * step);
    }

    // Gᵀ = [¼ −⅙ −⅙ 1/24 1/24 0; 0 −⅙ ⅙ 1/12 −1/12 0; 0 −⅙ −⅙ ⅙ ⅙ 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void KernelTransposed<TWidth, TVector>(ref float source, nuint stride, ref float target, nuint step) where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var d0 = TWidth.Load(ref source); var d1 = TWidth.Load(ref source, stride); var d2 = TWidth.Load(ref source, 2 * stride);
        var d3 = TWidth.Load(ref source, 3 * stride); var d4 = TWidth.Load(ref source, 4 * stride); var d5 = TWidth.Load(ref source, 5 * stride);
        var p = TWidth.Add(d1, d2);
        var q = TWidth.Subtract(d2, d1);
        var r = TWidth.Add(d3, d4);
        var s = TWidth.Subtract(d3, d4);
        var sixth = TWidth.Broadcast(1f / 6f);
        TWidth.Store(TWidth.MultiplyAdd(d0, TWidth.Broadcast(0.25f), TWidth.MultiplyAdd(r, TWidth.Broadcast(1f / 24f), TWidth.Multiply(p, TWidth.Broadcast(-1f / 6f)))), ref target);
        TWidth.Store(TWidth.MultiplyAdd(s, TWidth.Broadcast(1f / 12f), TWidth.Multiply(q, sixth)), ref target, step);
        TWidth.Store(TWidth.MultiplyAdd(TWidth.Subtract(r, p), sixth, d5), ref target, 2 * step);
    }
}

/// <summary>Tiles in one block of <see cref="Winograd"/>'s product: a constant to the JIT, so the unused accumulators vanish.</summary>
internal interface IRows { static abstract int Count { get; } }
internal readonly struct Rows1 : IRows { public static int Count => 1; }
internal readonly struct Rows2 : IRows { public static int Count => 2; }
internal readonly struct Rows3 : IRows { public static int Count => 3; }
internal readonly struct Rows4 : IRows { public static int Count => 4; }
internal readonly struct Rows5 : IRows { public static int Count => 5; }
internal readonly struct Rows6 : IRows { public static int Count => 6; }
internal readonly struct Rows7 : IRows { public static int Count => 7; }
internal readonly struct Rows8 : IRows { public static int Count => 8; }
