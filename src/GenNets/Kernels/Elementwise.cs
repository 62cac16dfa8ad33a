using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GenNets.Kernels;

/// <summary>
/// In-place updates of long spans (a network's parameters, its gradients), at the widest vector width, with ordinary
/// stores. <c>TensorPrimitives</c> writes spans of more than a few hundred KB with non-temporal stores, which send the
/// result to memory past the caches: right for a buffer nobody reads soon, wrong for parameters and gradients that
/// the next pass reads again. On 235,146 parameters (the MLP's 940 KB), y += x took 111 µs through
/// <c>TensorPrimitives.Add(y, x, y)</c> and 20 µs here (2 vCPUs of an Intel Xeon, family 6 model 207, AVX-512).
/// Each element is computed as the scalar expression would be (<c>y + a·x</c> with the product rounded first, as
/// <c>TensorPrimitives.MultiplyAdd</c> does), so how a span is cut into parts changes no bit.
/// </summary>
public static class Elementwise
{
    /// <summary>y[i] += x[i].</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Add(ReadOnlySpan<float> x, Span<float> y)
    {
        SameLength(x.Length, y.Length);
        if (Vector512.IsHardwareAccelerated) MultiplyAdd<Width512, Vector512<float>>(x, 1f, y, scaled: false);
        else if (Vector256.IsHardwareAccelerated) MultiplyAdd<Width256, Vector256<float>>(x, 1f, y, scaled: false);
        else MultiplyAdd<Width128, Vector128<float>>(x, 1f, y, scaled: false);
    }

    /// <summary>destination[i] = x[i] + y[i] (destination may be x or y).</summary>
    /// <exception cref="ArgumentException">The spans differ in length, or the destination overlaps x or y without being it.</exception>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination) => Add(x, y, destination, relu: false);

    /// <summary>
    /// destination[i] = x[i] + y[i], then max(·, 0) with <paramref name="relu"/> (NaN passes, −0 becomes +0, as
    /// <see cref="Activations.ReLU"/>): a residual sum and the ReLU after it in one pass over memory instead of three
    /// (the sum's copy, its add, the ReLU). The destination may be x or y.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length, or the destination overlaps x or y without being it.</exception>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination, bool relu)
    {
        SameLength(x.Length, y.Length);
        SameLength(x.Length, destination.Length);
        ref float rd = ref MemoryMarshal.GetReference(destination);
        if ((destination.Overlaps(x) && !Unsafe.AreSame(ref rd, ref MemoryMarshal.GetReference(x)))
            || (destination.Overlaps(y) && !Unsafe.AreSame(ref rd, ref MemoryMarshal.GetReference(y))))
            throw new ArgumentException("The destination may be x or y, but not overlap either otherwise.", nameof(destination));
        if (Vector512.IsHardwareAccelerated) Sum<Width512, Vector512<float>>(x, y, destination, relu);
        else if (Vector256.IsHardwareAccelerated) Sum<Width256, Vector256<float>>(x, y, destination, relu);
        else Sum<Width128, Vector128<float>>(x, y, destination, relu);
    }

    // destination = x + y, then the ReLU if asked, at one width (checked by the caller). max(0, s) + 0: the hardware's
    // maximum returns its second operand for a NaN (so NaN passes) and for a tie (so −0 stays −0, which the + 0 turns to +0).
    internal static void Sum<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination, bool relu)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rd = ref MemoryMarshal.GetReference(destination);
        nuint l = (nuint)TWidth.Count, n = (nuint)destination.Length, i = 0;
        for (; i + l <= n; i += l)
        {
            var v = TWidth.Add(TWidth.Load(ref rx, i), TWidth.Load(ref ry, i));
            TWidth.Store(relu ? TWidth.Add(TWidth.Max(TWidth.Zero, v), TWidth.Zero) : v, ref rd, i);
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref rx, i) + Unsafe.Add(ref ry, i);
            Unsafe.Add(ref rd, i) = relu ? (float.IsNaN(v) ? v : MathF.Max(v, 0f) + 0f) : v;
        }
    }

    /// <summary>
    /// dy[i] = dy[i] + x[i] where y[i] &gt; 0, else 0: a residual skip's gradient joining the block's at a layer whose
    /// ReLU output y both paths read, and that ReLU's gradient, in one pass; bit for bit <see cref="Add(ReadOnlySpan{float}, Span{float})"/>
    /// then <see cref="Activations.ReLUBackward"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void AddThroughReLU(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dy)
    {
        SameLength(x.Length, dy.Length);
        SameLength(y.Length, dy.Length);
        if (Vector512.IsHardwareAccelerated) AddThroughReLU<Width512, Vector512<float>>(x, y, dy);
        else if (Vector256.IsHardwareAccelerated) AddThroughReLU<Width256, Vector256<float>>(x, y, dy);
        else AddThroughReLU<Width128, Vector128<float>>(x, y, dy);
    }

    internal static void AddThroughReLU<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dy)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rd = ref MemoryMarshal.GetReference(dy);
        nuint l = (nuint)TWidth.Count, n = (nuint)dy.Length, i = 0;
        for (; i + l <= n; i += l)
        {
            var sum = TWidth.Add(TWidth.Load(ref rd, i), TWidth.Load(ref rx, i));
            TWidth.Store(TWidth.And(sum, TWidth.GreaterThan(TWidth.Load(ref ry, i), TWidth.Zero)), ref rd, i);
        }
        for (; i < n; i++)
        {
            float sum = Unsafe.Add(ref rd, i) + Unsafe.Add(ref rx, i);
            Unsafe.Add(ref rd, i) = Unsafe.Add(ref ry, i) > 0f ? sum : 0f;
        }
    }

    /// <summary>y[i] += a·x[i], the product rounded before the sum (as <c>TensorPrimitives.MultiplyAdd(x, a, y, y)</c>).</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void MultiplyAdd(ReadOnlySpan<float> x, float a, Span<float> y)
    {
        SameLength(x.Length, y.Length);
        if (Vector512.IsHardwareAccelerated) MultiplyAdd<Width512, Vector512<float>>(x, a, y, scaled: true);
        else if (Vector256.IsHardwareAccelerated) MultiplyAdd<Width256, Vector256<float>>(x, a, y, scaled: true);
        else MultiplyAdd<Width128, Vector128<float>>(x, a, y, scaled: true);
    }

    /// <summary>y[i] ·= a.</summary>
    public static void Scale(Span<float> y, float a)
    {
        if (Vector512.IsHardwareAccelerated) Scale<Width512, Vector512<float>>(y, a);
        else if (Vector256.IsHardwareAccelerated) Scale<Width256, Vector256<float>>(y, a);
        else Scale<Width128, Vector128<float>>(y, a);
    }

    /// <summary>Whether every value is finite (no NaN, no infinity): one pass, four independent chains of x·0 sums.</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        if (Vector512.IsHardwareAccelerated) return AllFinite<Width512, Vector512<float>>(values);
        if (Vector256.IsHardwareAccelerated) return AllFinite<Width256, Vector256<float>>(values);
        return AllFinite<Width128, Vector128<float>>(values);
    }

    /// <summary>
    /// Sets the subnormal values (0 &lt; |y| &lt; 2⁻¹²⁶) to zero (and −0 to +0); every other value, NaN and infinities too,
    /// passes unchanged. A gradient that
    /// vanishes over many recurrent steps ends among them, where x86 CPUs compute a hundred times more slowly
    /// (measured here: a 64×32 by 32×32 product 0.97 µs with normal values, 186 µs with subnormal ones); PyTorch
    /// offers the same trade as <c>torch.set_flush_denormal(True)</c>.
    /// </summary>
    public static void FlushSubnormals(Span<float> y)
    {
        if (Vector512.IsHardwareAccelerated) FlushSubnormals<Width512, Vector512<float>>(y);
        else if (Vector256.IsHardwareAccelerated) FlushSubnormals<Width256, Vector256<float>>(y);
        else FlushSubnormals<Width128, Vector128<float>>(y);
    }

    private const float SmallestNormal = 1.17549435e-38f; // 2⁻¹²⁶

    internal static void FlushSubnormals<TWidth, TVector>(Span<float> y)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        nuint l = (nuint)TWidth.Count, n = (nuint)y.Length, i = 0;
        var smallest = TWidth.Broadcast(SmallestNormal);
        for (; i + l <= n; i += l)
        {
            var v = TWidth.Load(ref ry, i);
            // |v| < 2⁻¹²⁶ is false for a NaN, so a NaN stays.
            TWidth.Store(TWidth.Select(TWidth.LessThan(TWidth.Abs(v), smallest), TWidth.Zero, v), ref ry, i);
        }
        for (; i < n; i++)
            if (MathF.Abs(Unsafe.Add(ref ry, i)) < SmallestNormal) Unsafe.Add(ref ry, i) = 0f;
    }

    // y += a·x (or y += x when not scaled) at one width, lengths checked; four vectors a step.
    internal static void MultiplyAdd<TWidth, TVector>(ReadOnlySpan<float> x, float a, Span<float> y, bool scaled)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        nuint l = (nuint)TWidth.Count, n = (nuint)y.Length, i = 0;
        var va = TWidth.Broadcast(a);
        for (; i + 4 * l <= n; i += 4 * l)
        {
            TWidth.Store(TWidth.Add(TWidth.Load(ref ry, i), Term(TWidth.Load(ref rx, i))), ref ry, i);
            TWidth.Store(TWidth.Add(TWidth.Load(ref ry, i + l), Term(TWidth.Load(ref rx, i + l))), ref ry, i + l);
            TWidth.Store(TWidth.Add(TWidth.Load(ref ry, i + 2 * l), Term(TWidth.Load(ref rx, i + 2 * l))), ref ry, i + 2 * l);
            TWidth.Store(TWidth.Add(TWidth.Load(ref ry, i + 3 * l), Term(TWidth.Load(ref rx, i + 3 * l))), ref ry, i + 3 * l);
        }
        for (; i + l <= n; i += l)
            TWidth.Store(TWidth.Add(TWidth.Load(ref ry, i), Term(TWidth.Load(ref rx, i))), ref ry, i);
        for (; i < n; i++)
            Unsafe.Add(ref ry, i) += scaled ? a * Unsafe.Add(ref rx, i) : Unsafe.Add(ref rx, i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        TVector Term(TVector v) => scaled ? TWidth.Multiply(va, v) : v;
    }

    // y ·= a at one width.
    internal static void Scale<TWidth, TVector>(Span<float> y, float a)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        nuint l = (nuint)TWidth.Count, n = (nuint)y.Length, i = 0;
        var va = TWidth.Broadcast(a);
        for (; i + 4 * l <= n; i += 4 * l)
        {
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref ry, i), va), ref ry, i);
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref ry, i + l), va), ref ry, i + l);
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref ry, i + 2 * l), va), ref ry, i + 2 * l);
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref ry, i + 3 * l), va), ref ry, i + 3 * l);
        }
        for (; i + l <= n; i += l)
            TWidth.Store(TWidth.Multiply(TWidth.Load(ref ry, i), va), ref ry, i);
        for (; i < n; i++)
            Unsafe.Add(ref ry, i) *= a;
    }

    // x·0 is 0 for a finite x and NaN for a NaN or an infinity; a sum of them is 0 or NaN.
    internal static bool AllFinite<TWidth, TVector>(ReadOnlySpan<float> values)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        ref float r = ref MemoryMarshal.GetReference(values);
        nuint l = (nuint)TWidth.Count, n = (nuint)values.Length, i = 0;
        TVector s0 = TWidth.Zero, s1 = TWidth.Zero, s2 = TWidth.Zero, s3 = TWidth.Zero, zero = TWidth.Zero;
        for (; i + 4 * l <= n; i += 4 * l)
        {
            s0 = TWidth.Add(s0, TWidth.Multiply(TWidth.Load(ref r, i), zero));
            s1 = TWidth.Add(s1, TWidth.Multiply(TWidth.Load(ref r, i + l), zero));
            s2 = TWidth.Add(s2, TWidth.Multiply(TWidth.Load(ref r, i + 2 * l), zero));
            s3 = TWidth.Add(s3, TWidth.Multiply(TWidth.Load(ref r, i + 3 * l), zero));
        }
        float s = TWidth.Sum(TWidth.Add(TWidth.Add(s0, s1), TWidth.Add(s2, s3)));
        for (; i < n; i++) s += Unsafe.Add(ref r, i) * 0f;
        return !float.IsNaN(s);
    }

    private static void SameLength(int x, int y)
    {
        if (x != y) throw new ArgumentException($"x has {x} elements but y has {y}; they must be the same length.", nameof(y));
    }
}
