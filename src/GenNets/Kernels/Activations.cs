using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GenNets.Kernels;

/// <summary>
/// Activation functions over spans, forward and backward side by side. Forward may run in place
/// (<c>z</c> and <c>y</c> the same span). Backward takes the activation's output <c>y</c> where that
/// determines the derivative (ReLU, LeakyReLU, Sigmoid, Tanh, Softmax) and the input <c>z</c> where
/// it does not (GELU), and writes dz = dy·f′; it may run in place over dy.
/// </summary>
/// <remarks>
/// The kernels written here run at the widest vector width the CPU accelerates (<see cref="VectorWidths"/>). The elements
/// past the last whole vector go through the same vector code, on a zero-padded copy, so that every element is computed
/// the same way wherever it falls: a span split into parts (over threads, say) gives the bits of the whole.
/// </remarks>
public static class Activations
{
    /// <summary>PyTorch's default negative slope for LeakyReLU.</summary>
    public const float LeakySlope = 0.01f;

    /// <summary>Floats in the widest register (Vector512): the size of each operand's copy for a partial last vector.</summary>
    internal const int WidestLanes = 16;

    /// <summary>y = max(0, z).</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="z"/>.</exception>
    public static void ReLU(ReadOnlySpan<float> z, Span<float> y)
    {
        Forward(z, y);
        TensorPrimitives.Max(z, 0f, y);
    }

    /// <summary>dz = dy where y &gt; 0, else 0.</summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="y"/>.</exception>
    public static void ReLUBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(y.Length, nameof(y), dy, dz);
        if (Vector512.IsHardwareAccelerated) ReLUBackward<Width512, Vector512<float>>(y, dy, dz);
        else if (Vector256.IsHardwareAccelerated) ReLUBackward<Width256, Vector256<float>>(y, dy, dz);
        else ReLUBackward<Width128, Vector128<float>>(y, dy, dz);
    }

    /// <summary><see cref="ReLUBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> at one width, over y's length (unchecked).</summary>
    internal static void ReLUBackward<TWidth, TVector>(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = y.Length, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        for (; i + TWidth.Count <= n; i += TWidth.Count) ReLUBackwardBlock<TWidth, TVector>(ref ry, ref rdy, ref rdz, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[3 * L];
        y.Slice(i).CopyTo(t);
        dy.Slice(i, n - i).CopyTo(t.Slice(L));
        ReLUBackwardBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], 0);
        t.Slice(2 * L, n - i).CopyTo(dz.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ReLUBackwardBlock<TWidth, TVector>(ref float y, ref float dy, ref float dz, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var mask = TWidth.GreaterThan(TWidth.Load(ref y, i), TWidth.Zero);
        TWidth.Store(TWidth.And(TWidth.Load(ref dy, i), mask), ref dz, i);
    }

    /// <summary>y = z for z &gt; 0, 0.01·z otherwise.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="z"/>.</exception>
    public static void LeakyReLU(ReadOnlySpan<float> z, Span<float> y)
    {
        Forward(z, y);
        if (Vector512.IsHardwareAccelerated) LeakyReLU<Width512, Vector512<float>>(z, y);
        else if (Vector256.IsHardwareAccelerated) LeakyReLU<Width256, Vector256<float>>(z, y);
        else LeakyReLU<Width128, Vector128<float>>(z, y);
    }

    /// <summary><see cref="LeakyReLU(ReadOnlySpan{float}, Span{float})"/> at one width, over z's length (unchecked).</summary>
    internal static void LeakyReLU<TWidth, TVector>(ReadOnlySpan<float> z, Span<float> y)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = z.Length, i = 0;
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float ry = ref MemoryMarshal.GetReference(y);
        for (; i + TWidth.Count <= n; i += TWidth.Count) LeakyReLUBlock<TWidth, TVector>(ref rz, ref ry, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[2 * L];
        z.Slice(i).CopyTo(t);
        LeakyReLUBlock<TWidth, TVector>(ref t[0], ref t[L], 0);
        t.Slice(L, n - i).CopyTo(y.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LeakyReLUBlock<TWidth, TVector>(ref float z, ref float y, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var v = TWidth.Load(ref z, i);
        TWidth.Store(TWidth.Select(TWidth.GreaterThan(v, TWidth.Zero), v, TWidth.Multiply(v, TWidth.Broadcast(LeakySlope))), ref y, i);
    }

    /// <summary>dz = dy where y &gt; 0, 0.01·dy otherwise (y and z share their sign).</summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="y"/>.</exception>
    public static void LeakyReLUBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(y.Length, nameof(y), dy, dz);
        if (Vector512.IsHardwareAccelerated) LeakyReLUBackward<Width512, Vector512<float>>(y, dy, dz);
        else if (Vector256.IsHardwareAccelerated) LeakyReLUBackward<Width256, Vector256<float>>(y, dy, dz);
        else LeakyReLUBackward<Width128, Vector128<float>>(y, dy, dz);
    }

    /// <summary><see cref="LeakyReLUBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> at one width, over y's length (unchecked).</summary>
    internal static void LeakyReLUBackward<TWidth, TVector>(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = y.Length, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        for (; i + TWidth.Count <= n; i += TWidth.Count) LeakyReLUBackwardBlock<TWidth, TVector>(ref ry, ref rdy, ref rdz, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[3 * L];
        y.Slice(i).CopyTo(t);
        dy.Slice(i, n - i).CopyTo(t.Slice(L));
        LeakyReLUBackwardBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], 0);
        t.Slice(2 * L, n - i).CopyTo(dz.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LeakyReLUBackwardBlock<TWidth, TVector>(ref float y, ref float dy, ref float dz, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var g = TWidth.Load(ref dy, i);
        var positive = TWidth.GreaterThan(TWidth.Load(ref y, i), TWidth.Zero);
        TWidth.Store(TWidth.Select(positive, g, TWidth.Multiply(g, TWidth.Broadcast(LeakySlope))), ref dz, i);
    }

    /// <summary>y = 1 / (1 + e^(−z)); nothing for an empty z, as every element-wise activation here.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="z"/>.</exception>
    public static void Sigmoid(ReadOnlySpan<float> z, Span<float> y)
    {
        Forward(z, y);
        if (z.IsEmpty) return; // TensorPrimitives.Sigmoid refuses empty spans
        TensorPrimitives.Sigmoid(z, y);
    }

    /// <summary>
    /// x ← 1 / (1 + e^(−x)) in place, in one pass at the widest accelerated vector width: e^(−x) from Cephes' degree-5
    /// polynomial on the argument reduced by ln 2, scaled by 2^n through the exponent bits, the argument clamped so that
    /// nothing overflows. Within 2e-7 of the exact value everywhere (tested); several times faster than a general
    /// exponential, which is what a recurrent layer's every step waits on. Every element, the last few included, takes the
    /// same vector arithmetic, so a span's parts give the bits of the whole.
    /// </summary>
    public static void SigmoidInPlace(Span<float> x) => SigmoidInPlace(x, 1f);

    /// <summary>
    /// x ← σ(scale·x) in place, as <see cref="SigmoidInPlace(Span{float})"/>. With a scale of 2 it gives the tanh of a
    /// recurrent layer's candidate gates as tanh(x) = 2σ(2x) − 1, and the doubling is exact: σ(2·x) here has the bits of
    /// σ applied to a doubled x.
    /// </summary>
    public static void SigmoidInPlace(Span<float> x, float scale)
    {
        if (Vector512.IsHardwareAccelerated) SigmoidInPlace<Width512, Vector512<float>>(x, scale);
        else if (Vector256.IsHardwareAccelerated) SigmoidInPlace<Width256, Vector256<float>>(x, scale);
        else SigmoidInPlace<Width128, Vector128<float>>(x, scale);
    }

    /// <summary><see cref="SigmoidInPlace(Span{float}, float)"/> at one width.</summary>
    internal static void SigmoidInPlace<TWidth, TVector>(Span<float> x, float scale)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = x.Length, i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        var minus = TWidth.Broadcast(-scale);
        for (; i + TWidth.Count <= n; i += TWidth.Count)
            TWidth.Store(SigmoidOfMinus<TWidth, TVector>(TWidth.Multiply(TWidth.Load(ref r, (nuint)i), minus)), ref r, (nuint)i);
        if (i == n) return;
        Span<float> t = stackalloc float[WidestLanes];
        x.Slice(i).CopyTo(t);
        TWidth.Store(SigmoidOfMinus<TWidth, TVector>(TWidth.Multiply(TWidth.Load(ref t[0]), minus)), ref t[0]);
        t.Slice(0, n - i).CopyTo(x.Slice(i));
    }

    // 1 / (1 + e^t) for t = −x: σ(x).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector SigmoidOfMinus<TWidth, TVector>(TVector t)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
        => TWidth.Reciprocal(TWidth.Add(TWidth.Broadcast(1f), Exp<TWidth, TVector>(t))); // 1 + e^t is in [1, 2¹²⁷)

    // e^t with t clamped to [−87.3, 87.3], where e^t stays a normal float, to within a few units in the last place.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVector Exp<TWidth, TVector>(TVector t)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        // t second, so that a NaN passes through the hardware's min and max (which return their second operand then).
        t = TWidth.Min(TWidth.Broadcast(87.3f), TWidth.Max(TWidth.Broadcast(-87.3f), t));
        var k = TWidth.Round(TWidth.Multiply(t, TWidth.Broadcast(1.44269504088896341f))); // t / ln 2, to the nearest integer
        // t − k·ln 2, in two parts: k·0.693359375 is exact (|k| ≤ 126, nine significant bits), fused or not.
        var f = TWidth.MultiplyAdd(k, TWidth.Broadcast(-0.693359375f), t);
        f = TWidth.MultiplyAdd(k, TWidth.Broadcast(2.12194440e-4f), f);
        var p = TWidth.Broadcast(1.9875691500e-4f);
        p = TWidth.MultiplyAdd(p, f, TWidth.Broadcast(1.3981999507e-3f));
        p = TWidth.MultiplyAdd(p, f, TWidth.Broadcast(8.3334519073e-3f));
        p = TWidth.MultiplyAdd(p, f, TWidth.Broadcast(4.1665795894e-2f));
        p = TWidth.MultiplyAdd(p, f, TWidth.Broadcast(1.6666665459e-1f));
        p = TWidth.MultiplyAdd(p, f, TWidth.Broadcast(5.0000001201e-1f));
        p = TWidth.MultiplyAdd(p, TWidth.Multiply(f, f), TWidth.Add(f, TWidth.Broadcast(1f))); // e^f
        return TWidth.ScaleByPowerOfTwo(p, k); // e^t = e^f·2^k
    }

    /// <summary>dz = dy·y·(1 − y).</summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="y"/>.</exception>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(y.Length, nameof(y), dy, dz);
        if (Vector512.IsHardwareAccelerated) SigmoidBackward<Width512, Vector512<float>>(y, dy, dz);
        else if (Vector256.IsHardwareAccelerated) SigmoidBackward<Width256, Vector256<float>>(y, dy, dz);
        else SigmoidBackward<Width128, Vector128<float>>(y, dy, dz);
    }

    /// <summary><see cref="SigmoidBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> at one width, over y's length (unchecked).</summary>
    internal static void SigmoidBackward<TWidth, TVector>(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = y.Length, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        for (; i + TWidth.Count <= n; i += TWidth.Count) SigmoidBackwardBlock<TWidth, TVector>(ref ry, ref rdy, ref rdz, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[3 * L];
        y.Slice(i).CopyTo(t);
        dy.Slice(i, n - i).CopyTo(t.Slice(L));
        SigmoidBackwardBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], 0);
        t.Slice(2 * L, n - i).CopyTo(dz.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SigmoidBackwardBlock<TWidth, TVector>(ref float y, ref float dy, ref float dz, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var v = TWidth.Load(ref y, i);
        TWidth.Store(TWidth.Multiply(TWidth.Multiply(TWidth.Load(ref dy, i), v), TWidth.Subtract(TWidth.Broadcast(1f), v)), ref dz, i);
    }

    /// <summary>
    /// y = tanh(z), within 4e-7 of the exact value relative to it everywhere, 0 included. TensorPrimitives.Tanh alone
    /// loses its relative accuracy near 0 (tanh(0) = −6e-8, tanh(1e-6) 4.6% low: its form cancels there), so |z| &lt;
    /// 0.25 is taken again from tanh's odd Taylor series, z − z³/3 + 2z⁵/15 − …, to z¹¹ (the next term is under 1e-9 of
    /// the value). <paramref name="y"/> may be <paramref name="z"/>: each block of z is kept on the stack first.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="z"/>.</exception>
    public static void Tanh(ReadOnlySpan<float> z, Span<float> y)
    {
        Forward(z, y);
        const int Block = 256;
        Span<float> kept = stackalloc float[Block];
        for (int start = 0; start < z.Length; start += Block)
        {
            int count = Math.Min(Block, z.Length - start);
            var source = kept.Slice(0, count);
            z.Slice(start, count).CopyTo(source);
            var target = y.Slice(start, count);
            TensorPrimitives.Tanh(source, target);
            TanhNearZero(source, target);
        }
    }

    // Where |z| < 0.25, y = z + z·s·(c3 + s·(c5 + s·(c7 + s·(c9 + s·c11)))) with s = z², at the widest accelerated width.
    private static void TanhNearZero(ReadOnlySpan<float> z, Span<float> y)
    {
        if (Vector512.IsHardwareAccelerated) TanhNearZero<Width512, Vector512<float>>(z, y);
        else if (Vector256.IsHardwareAccelerated) TanhNearZero<Width256, Vector256<float>>(z, y);
        else TanhNearZero<Width128, Vector128<float>>(z, y);
    }

    /// <summary>The small-argument correction of <see cref="Tanh"/> at one width: y ← the series where |z| &lt; 0.25, over z's length (unchecked).</summary>
    internal static void TanhNearZero<TWidth, TVector>(ReadOnlySpan<float> z, Span<float> y)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = z.Length, i = 0;
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float ry = ref MemoryMarshal.GetReference(y);
        for (; i + TWidth.Count <= n; i += TWidth.Count) TanhNearZeroBlock<TWidth, TVector>(ref rz, ref ry, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[2 * L];
        z.Slice(i).CopyTo(t);
        y.Slice(i, n - i).CopyTo(t.Slice(L));
        TanhNearZeroBlock<TWidth, TVector>(ref t[0], ref t[L], 0);
        t.Slice(L, n - i).CopyTo(y.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TanhNearZeroBlock<TWidth, TVector>(ref float z, ref float y, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        const float C3 = -1f / 3, C5 = 2f / 15, C7 = -17f / 315, C9 = 62f / 2835, C11 = -1382f / 155925, Limit = 0.25f;
        var v = TWidth.Load(ref z, i);
        var s = TWidth.Multiply(v, v);
        var p = TWidth.MultiplyAdd(TWidth.Broadcast(C11), s, TWidth.Broadcast(C9));
        p = TWidth.MultiplyAdd(p, s, TWidth.Broadcast(C7));
        p = TWidth.MultiplyAdd(p, s, TWidth.Broadcast(C5));
        p = TWidth.MultiplyAdd(p, s, TWidth.Broadcast(C3));
        var series = TWidth.MultiplyAdd(TWidth.Multiply(v, s), p, v);
        var near = TWidth.LessThan(TWidth.Abs(v), TWidth.Broadcast(Limit));
        TWidth.Store(TWidth.Select(near, series, TWidth.Load(ref y, i)), ref y, i);
    }

    /// <summary>dz = dy·(1 − y²).</summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="y"/>.</exception>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(y.Length, nameof(y), dy, dz);
        if (Vector512.IsHardwareAccelerated) TanhBackward<Width512, Vector512<float>>(y, dy, dz);
        else if (Vector256.IsHardwareAccelerated) TanhBackward<Width256, Vector256<float>>(y, dy, dz);
        else TanhBackward<Width128, Vector128<float>>(y, dy, dz);
    }

    /// <summary><see cref="TanhBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> at one width, over y's length (unchecked).</summary>
    internal static void TanhBackward<TWidth, TVector>(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = y.Length, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        for (; i + TWidth.Count <= n; i += TWidth.Count) TanhBackwardBlock<TWidth, TVector>(ref ry, ref rdy, ref rdz, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[3 * L];
        y.Slice(i).CopyTo(t);
        dy.Slice(i, n - i).CopyTo(t.Slice(L));
        TanhBackwardBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], 0);
        t.Slice(2 * L, n - i).CopyTo(dz.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TanhBackwardBlock<TWidth, TVector>(ref float y, ref float dy, ref float dz, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var v = TWidth.Load(ref y, i);
        TWidth.Store(TWidth.Multiply(TWidth.Load(ref dy, i), TWidth.Subtract(TWidth.Broadcast(1f), TWidth.Multiply(v, v))), ref dz, i);
    }

    /// <summary>
    /// y = z·Φ(z) with the exact normal CDF Φ (PyTorch's default GELU), Φ(z) = ½·erfc(−z/√2) from the Chebyshev-fitted erfc
    /// of Numerical Recipes (fractional error below 1.2·10⁻⁷ everywhere) and the vector exponential. Backward needs z, so a
    /// network keeps it; the kernel itself may run in place.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="z"/>.</exception>
    public static void GELU(ReadOnlySpan<float> z, Span<float> y)
    {
        Forward(z, y);
        if (Vector512.IsHardwareAccelerated) GELU<Width512, Vector512<float>>(z, y);
        else if (Vector256.IsHardwareAccelerated) GELU<Width256, Vector256<float>>(z, y);
        else GELU<Width128, Vector128<float>>(z, y);
    }

    /// <summary><see cref="GELU(ReadOnlySpan{float}, Span{float})"/> at one width, over z's length (unchecked).</summary>
    internal static void GELU<TWidth, TVector>(ReadOnlySpan<float> z, Span<float> y)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = z.Length, i = 0;
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float ry = ref MemoryMarshal.GetReference(y);
        // Two vectors a turn: the CDF is one long chain of dependent steps, and two independent chains keep both vector
        // ports busy (65,536 values: 51.5 → 47.5 µs, Xeon, AVX-512, one thread).
        for (; i + 2 * TWidth.Count <= n; i += 2 * TWidth.Count)
        {
            var v0 = TWidth.Load(ref rz, (nuint)i);
            var v1 = TWidth.Load(ref rz, (nuint)(i + TWidth.Count));
            var c0 = NormalCdf<TWidth, TVector>(v0);
            var c1 = NormalCdf<TWidth, TVector>(v1);
            TWidth.Store(TWidth.Multiply(v0, c0), ref ry, (nuint)i);
            TWidth.Store(TWidth.Multiply(v1, c1), ref ry, (nuint)(i + TWidth.Count));
        }
        for (; i + TWidth.Count <= n; i += TWidth.Count)
        {
            var v = TWidth.Load(ref rz, (nuint)i);
            TWidth.Store(TWidth.Multiply(v, NormalCdf<TWidth, TVector>(v)), ref ry, (nuint)i);
        }
        if (i == n) return;
        Span<float> t = stackalloc float[WidestLanes];
        z.Slice(i).CopyTo(t);
        var last = TWidth.Load(ref t[0]);
        TWidth.Store(TWidth.Multiply(last, NormalCdf<TWidth, TVector>(last)), ref t[0]);
        t.Slice(0, n - i).CopyTo(y.Slice(i));
    }

    /// <summary>dz = dy·(Φ(z) + z·φ(z)). May run in place over dy.</summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="z"/>.</exception>
    public static void GELUBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(z.Length, nameof(z), dy, dz);
        if (Vector512.IsHardwareAccelerated) GELUBackward<Width512, Vector512<float>>(z, dy, dz);
        else if (Vector256.IsHardwareAccelerated) GELUBackward<Width256, Vector256<float>>(z, dy, dz);
        else GELUBackward<Width128, Vector128<float>>(z, dy, dz);
    }

    /// <summary><see cref="GELUBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> at one width, over z's length (unchecked).</summary>
    internal static void GELUBackward<TWidth, TVector>(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = z.Length, i = 0;
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        for (; i + TWidth.Count <= n; i += TWidth.Count) GELUBackwardBlock<TWidth, TVector>(ref rz, ref rdy, ref rdz, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[3 * L];
        z.Slice(i).CopyTo(t);
        dy.Slice(i, n - i).CopyTo(t.Slice(L));
        GELUBackwardBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], 0);
        t.Slice(2 * L, n - i).CopyTo(dz.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GELUBackwardBlock<TWidth, TVector>(ref float z, ref float dy, ref float dz, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var v = TWidth.Load(ref z, i);
        // φ(z) = e^(−z²/2)/√(2π)
        var density = TWidth.Multiply(Exp<TWidth, TVector>(TWidth.Multiply(TWidth.Multiply(v, v), TWidth.Broadcast(-0.5f))), TWidth.Broadcast(0.398942280401432678f));
        TWidth.Store(TWidth.Multiply(TWidth.Load(ref dy, i), TWidth.MultiplyAdd(v, density, NormalCdf<TWidth, TVector>(v))), ref dz, i);
    }

    /// <summary>
    /// dz = dy·(Φ(z) + z·φ(z)) as <see cref="GELUBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>, given
    /// the forward's output y = z·Φ(z) too, as a network keeps it: Φ(z) = y/z (½ where |z| &lt; 10⁻³⁰, where y would
    /// lose its digits), so one exponential a value instead of two and the erfc's polynomial (a transformer's
    /// feed-forward gradient over 524,288 values: 680 → 330 µs, Xeon, AVX-512, one thread). May run in place over dy.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="y"/>, <paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="z"/>.</exception>
    public static void GELUBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(z.Length, nameof(z), dy, dz);
        Sizes.AsLong(y.Length, z.Length, nameof(y), nameof(z));
        if (Vector512.IsHardwareAccelerated) GELUBackwardFromOutput<Width512, Vector512<float>>(z, y, dy, dz);
        else if (Vector256.IsHardwareAccelerated) GELUBackwardFromOutput<Width256, Vector256<float>>(z, y, dy, dz);
        else GELUBackwardFromOutput<Width128, Vector128<float>>(z, y, dy, dz);
    }

    /// <summary><see cref="GELUBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> at one width, over z's length (unchecked).</summary>
    internal static void GELUBackwardFromOutput<TWidth, TVector>(ReadOnlySpan<float> z, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = z.Length, i = 0;
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        for (; i + TWidth.Count <= n; i += TWidth.Count) GELUBackwardFromOutputBlock<TWidth, TVector>(ref rz, ref ry, ref rdy, ref rdz, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[4 * L];
        t.Clear(); // the lanes past the end: z = 0, y = 0, whatever they give is not copied out
        z.Slice(i).CopyTo(t);
        y.Slice(i, n - i).CopyTo(t.Slice(L));
        dy.Slice(i, n - i).CopyTo(t.Slice(2 * L));
        GELUBackwardFromOutputBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], ref t[3 * L], 0);
        t.Slice(3 * L, n - i).CopyTo(dz.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GELUBackwardFromOutputBlock<TWidth, TVector>(ref float z, ref float y, ref float dy, ref float dz, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var v = TWidth.Load(ref z, i);
        var tiny = TWidth.LessThan(TWidth.Abs(v), TWidth.Broadcast(1e-30f));
        // Φ = y/z; where z is tiny (or 0) the reciprocal is huge or infinite, and the select takes ½ instead.
        var cdf = TWidth.Select(tiny, TWidth.Broadcast(0.5f), TWidth.Multiply(TWidth.Load(ref y, i), TWidth.Reciprocal(v)));
        var density = TWidth.Multiply(Exp<TWidth, TVector>(TWidth.Multiply(TWidth.Multiply(v, v), TWidth.Broadcast(-0.5f))), TWidth.Broadcast(0.398942280401432678f));
        TWidth.Store(TWidth.Multiply(TWidth.Load(ref dy, i), TWidth.MultiplyAdd(v, density, cdf)), ref dz, i);
    }

    // Φ(v) = ½·erfc(−v/√2): with u = |v|/√2 and erfc(u) = t·e^(−u² + P(t)), t = 1/(1 + u/2) (Numerical Recipes' erfcc),
    // Φ = ½·erfc(u) below 0 and 1 − ½·erfc(u) above, so the small tail keeps its relative precision.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector NormalCdf<TWidth, TVector>(TVector v)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var u = TWidth.Multiply(TWidth.Abs(v), TWidth.Broadcast(0.707106781186547524f));
        var t = TWidth.Reciprocal(TWidth.MultiplyAdd(u, TWidth.Broadcast(0.5f), TWidth.Broadcast(1f)));
        var p = TWidth.Broadcast(0.17087277f);
        p = TWidth.MultiplyAdd(p, t, TWidth.Broadcast(-0.82215223f));
        p = TWidth.MultiplyAdd(p, t, TWidth.Broadcast(1.48851587f));
        p = TWidth.MultiplyAdd(p, t, TWidth.Broadcast(-1.13520398f));
        p = TWidth.MultiplyAdd(p, t, TWidth.Broadcast(0.27886807f));
        p = TWidth.MultiplyAdd(p, t, TWidth.Broadcast(-0.18628806f));
        p = TWidth.MultiplyAdd(p, t, TWidth.Broadcast(0.09678418f));
        p = TWidth.MultiplyAdd(p, t, TWidth.Broadcast(0.37409196f));
        p = TWidth.MultiplyAdd(p, t, TWidth.Broadcast(1.00002368f));
        p = TWidth.MultiplyAdd(p, t, TWidth.Broadcast(-1.26551223f));
        var half = TWidth.Multiply(TWidth.Multiply(t, Exp<TWidth, TVector>(TWidth.Subtract(p, TWidth.Multiply(u, u)))), TWidth.Broadcast(0.5f)); // ½·erfc(u)
        return TWidth.Select(TWidth.LessThan(v, TWidth.Zero), half, TWidth.Subtract(TWidth.Broadcast(1f), half));
    }

    /// <summary>
    /// y = ½·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))), the tanh approximation of GELU (PyTorch's approximate='tanh', GPT-2's),
    /// computed as z·σ(2u) with u the tanh's argument (the same function: ½(1 + tanh u) = σ(2u)), with
    /// <see cref="Sigmoid(ReadOnlySpan{float}, Span{float})"/>'s vector exponential. Backward needs z, so a network keeps it; the kernel
    /// itself may run in place.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="z"/>.</exception>
    public static void GELUTanh(ReadOnlySpan<float> z, Span<float> y)
    {
        Forward(z, y);
        if (Vector512.IsHardwareAccelerated) GELUTanh<Width512, Vector512<float>>(z, y);
        else if (Vector256.IsHardwareAccelerated) GELUTanh<Width256, Vector256<float>>(z, y);
        else GELUTanh<Width128, Vector128<float>>(z, y);
    }

    /// <summary><see cref="GELUTanh(ReadOnlySpan{float}, Span{float})"/> at one width, over z's length (unchecked).</summary>
    internal static void GELUTanh<TWidth, TVector>(ReadOnlySpan<float> z, Span<float> y)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = z.Length, i = 0;
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float ry = ref MemoryMarshal.GetReference(y);
        for (; i + TWidth.Count <= n; i += TWidth.Count) GELUTanhBlock<TWidth, TVector>(ref rz, ref ry, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[2 * L];
        z.Slice(i).CopyTo(t);
        GELUTanhBlock<TWidth, TVector>(ref t[0], ref t[L], 0);
        t.Slice(L, n - i).CopyTo(y.Slice(i));
    }

    // √(2/π) and the cubic's coefficient of GELU's tanh approximation.
    private const float GELUTanhScale = 0.797884560802865355f, GELUTanhCubic = 0.044715f;

    // σ(2u) for u = √(2/π)·(v + 0.044715·v³): 1 / (1 + e^(−2u)).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector GELUTanhGate<TWidth, TVector>(TVector v)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var inner = TWidth.MultiplyAdd(TWidth.Multiply(TWidth.Multiply(v, v), v), TWidth.Broadcast(GELUTanhCubic), v);
        return SigmoidOfMinus<TWidth, TVector>(TWidth.Multiply(inner, TWidth.Broadcast(-2 * GELUTanhScale)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GELUTanhBlock<TWidth, TVector>(ref float z, ref float y, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var v = TWidth.Load(ref z, i);
        TWidth.Store(TWidth.Multiply(v, GELUTanhGate<TWidth, TVector>(v)), ref y, i);
    }

    /// <summary>
    /// dz = dy·(s + 2·z·s·(1 − s)·u′) for s = σ(2u), u = √(2/π)·(z + 0.044715·z³) and u′ = √(2/π)·(1 + 3·0.044715·z²):
    /// the derivative of <see cref="GELUTanh"/>. May run in place over dy.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="z"/>.</exception>
    public static void GELUTanhBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(z.Length, nameof(z), dy, dz);
        if (Vector512.IsHardwareAccelerated) GELUTanhBackward<Width512, Vector512<float>>(z, dy, dz);
        else if (Vector256.IsHardwareAccelerated) GELUTanhBackward<Width256, Vector256<float>>(z, dy, dz);
        else GELUTanhBackward<Width128, Vector128<float>>(z, dy, dz);
    }

    /// <summary><see cref="GELUTanhBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> at one width, over z's length (unchecked).</summary>
    internal static void GELUTanhBackward<TWidth, TVector>(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int n = z.Length, i = 0;
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        for (; i + TWidth.Count <= n; i += TWidth.Count) GELUTanhBackwardBlock<TWidth, TVector>(ref rz, ref rdy, ref rdz, (nuint)i);
        if (i == n) return;
        const int L = WidestLanes;
        Span<float> t = stackalloc float[3 * L];
        z.Slice(i).CopyTo(t);
        dy.Slice(i, n - i).CopyTo(t.Slice(L));
        GELUTanhBackwardBlock<TWidth, TVector>(ref t[0], ref t[L], ref t[2 * L], 0);
        t.Slice(2 * L, n - i).CopyTo(dz.Slice(i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GELUTanhBackwardBlock<TWidth, TVector>(ref float z, ref float dy, ref float dz, nuint i)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        var v = TWidth.Load(ref z, i);
        var s = GELUTanhGate<TWidth, TVector>(v);
        var slope = TWidth.MultiplyAdd(TWidth.Multiply(v, v), TWidth.Broadcast(3 * GELUTanhCubic * 2 * GELUTanhScale), TWidth.Broadcast(2 * GELUTanhScale)); // 2u′
        var spread = TWidth.Multiply(TWidth.Multiply(v, s), TWidth.Subtract(TWidth.Broadcast(1f), s)); // z·s·(1 − s)
        TWidth.Store(TWidth.Multiply(TWidth.Load(ref dy, i), TWidth.MultiplyAdd(spread, slope, s)), ref dz, i);
    }

    /// <summary>Softmax of each of <paramref name="rows"/> rows of <paramref name="cols"/> values (no rows: nothing).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is negative, <paramref name="cols"/> less than 1, or the rows would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException"><paramref name="z"/> or <paramref name="y"/> is shorter than the rows.</exception>
    public static void Softmax(ReadOnlySpan<float> z, Span<float> y, int rows, int cols)
    {
        long length = Rows(rows, cols);
        Sizes.Need(z.Length, length, nameof(z), "{0} rows of {1}", rows, cols);
        Sizes.Need(y.Length, length, nameof(y), "{0} rows of {1}", rows, cols);
        for (int r = 0; r < rows; r++)
            TensorPrimitives.SoftMax(z.Slice(r * cols, cols), y.Slice(r * cols, cols));
    }

    /// <summary>dz = y ⊙ (dy − ⟨dy, y⟩) per row.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is negative, <paramref name="cols"/> less than 1, or the rows would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException"><paramref name="y"/>, <paramref name="dy"/> or <paramref name="dz"/> is shorter than the rows.</exception>
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz, int rows, int cols)
    {
        long length = Rows(rows, cols);
        Sizes.Need(y.Length, length, nameof(y), "{0} rows of {1}", rows, cols);
        Sizes.Need(dy.Length, length, nameof(dy), "{0} rows of {1}", rows, cols);
        Sizes.Need(dz.Length, length, nameof(dz), "{0} rows of {1}", rows, cols);
        for (int r = 0; r < rows; r++)
        {
            var yr = y.Slice(r * cols, cols);
            var dyr = dy.Slice(r * cols, cols);
            var dzr = dz.Slice(r * cols, cols);
            float dot = TensorPrimitives.Dot(dyr, yr);
            TensorPrimitives.Subtract(dyr, dot, dzr);
            TensorPrimitives.Multiply(dzr, yr, dzr);
        }
    }

    // An element-wise forward pass writes as many values as it reads.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Forward(ReadOnlySpan<float> z, Span<float> y) => Sizes.AsLong(y.Length, z.Length, nameof(y), "z");

    // An element-wise backward pass reads dy and writes dz for every value of y (or z).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Backward(int length, string name, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Sizes.AsLong(dy.Length, length, nameof(dy), name);
        Sizes.AsLong(dz.Length, length, nameof(dz), name);
    }

    // The values of rows × cols for softmax: a row of no values has no softmax.
    private static long Rows(int rows, int cols)
    {
        Sizes.Positive(cols, nameof(cols));
        return Sizes.Product(rows, nameof(rows), cols, nameof(cols));
    }
}

/// <summary>Special functions the kernels need and .NET does not provide.</summary>
public static class SpecialFunctions
{
    /// <summary>The error function, accurate to about 1e-15 absolute.</summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 3.0)
        {
            // Maclaurin series: erf x = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1)).
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 80; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            double r = 1.12837916709551257390 * sum;
            return x < 0 ? -r : r;
        }
        if (ax > 6.0) return x < 0 ? -1.0 : 1.0;
        // Continued fraction for erfc, evaluated from the tail: erfc x = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
        double f = ax;
        for (int n = 60; n >= 1; n--) f = ax + (n * 0.5) / f;
        double erfc = Math.Exp(-ax * ax) / (1.77245385090551602730 * f);
        return x < 0 ? erfc - 1.0 : 1.0 - erfc;
    }
}
