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
public static class Activations
{
    /// <summary>PyTorch's default negative slope for LeakyReLU.</summary>
    public const float LeakySlope = 0.01f;

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
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        int n = y.Length, i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var mask = Vector256.GreaterThan(Vector256.LoadUnsafe(ref ry, (nuint)i), Vector256<float>.Zero);
            (Vector256.LoadUnsafe(ref rdy, (nuint)i) & mask).StoreUnsafe(ref rdz, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref rdz, i) = Unsafe.Add(ref ry, i) > 0f ? Unsafe.Add(ref rdy, i) : 0f;
    }

    /// <summary>y = z for z &gt; 0, 0.01·z otherwise.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="z"/>.</exception>
    public static void LeakyReLU(ReadOnlySpan<float> z, Span<float> y)
    {
        Forward(z, y);
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int n = z.Length, i = 0;
        var slope = Vector256.Create(LeakySlope);
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.LoadUnsafe(ref rz, (nuint)i);
            Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, v * slope).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < n; i++) { float v = Unsafe.Add(ref rz, i); Unsafe.Add(ref ry, i) = v > 0f ? v : LeakySlope * v; }
    }

    /// <summary>dz = dy where y &gt; 0, 0.01·dy otherwise (y and z share their sign).</summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="y"/>.</exception>
    public static void LeakyReLUBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(y.Length, nameof(y), dy, dz);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        int n = y.Length, i = 0;
        var slope = Vector256.Create(LeakySlope);
        for (; i + 8 <= n; i += 8)
        {
            var g = Vector256.LoadUnsafe(ref rdy, (nuint)i);
            Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.LoadUnsafe(ref ry, (nuint)i), Vector256<float>.Zero), g, g * slope).StoreUnsafe(ref rdz, (nuint)i);
        }
        for (; i < n; i++) { float g = Unsafe.Add(ref rdy, i); Unsafe.Add(ref rdz, i) = Unsafe.Add(ref ry, i) > 0f ? g : LeakySlope * g; }
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
    /// x ← 1 / (1 + e^(−x)) in place, in one Vector256 pass: e^(−x) from Cephes' degree-5 polynomial on the argument reduced
    /// by ln 2, scaled by 2^n through the exponent bits, the argument clamped so that nothing overflows. Within 2e-7 of the
    /// exact value everywhere (tested); several times faster than a general exponential, which is what a recurrent
    /// layer's every step waits on.
    /// </summary>
    public static void SigmoidInPlace(Span<float> x) => SigmoidInPlace(x, 1f);

    /// <summary>
    /// x ← σ(scale·x) in place, as <see cref="SigmoidInPlace(Span{float})"/>. With a scale of 2 it gives the tanh of a
    /// recurrent layer's candidate gates as tanh(x) = 2σ(2x) − 1, and the doubling is exact: σ(2·x) here has the bits of
    /// σ applied to a doubled x.
    /// </summary>
    public static void SigmoidInPlace(Span<float> x, float scale)
    {
        ref float r = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var minus = Vector256.Create(-scale);
            for (; i + 8 <= n; i += 8)
                SigmoidOfMinus(Vector256.LoadUnsafe(ref r, (nuint)i) * minus).StoreUnsafe(ref r, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref r, i) = 1f / (1f + MathF.Exp(-scale * Unsafe.Add(ref r, i)));
    }

    // 1 / (1 + e^t) for t = −x: σ(x).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SigmoidOfMinus(Vector256<float> t)
    {
        // t in [−87.3, 87.3]: e^t stays a normal float, and so does the result.
        t = Vector256.Min(Vector256.Max(t, Vector256.Create(-87.3f)), Vector256.Create(87.3f));
        var k = Vector256.Round(t * Vector256.Create(1.44269504088896341f)); // t / ln 2, to the nearest integer
        var f = Vector256.FusedMultiplyAdd(k, Vector256.Create(-0.693359375f), t);    // t − k·ln 2, in two parts
        f = Vector256.FusedMultiplyAdd(k, Vector256.Create(2.12194440e-4f), f);
        var p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, f * f, f + Vector256<float>.One);              // e^f
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(k) + Vector256.Create(127), 23).AsSingle(); // 2^k
        return Vector256<float>.One / (Vector256<float>.One + p * scale);
    }

    /// <summary>dz = dy·y·(1 − y).</summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="y"/>.</exception>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(y.Length, nameof(y), dy, dz);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        int n = y.Length, i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.LoadUnsafe(ref ry, (nuint)i);
            (Vector256.LoadUnsafe(ref rdy, (nuint)i) * v * (Vector256<float>.One - v)).StoreUnsafe(ref rdz, (nuint)i);
        }
        for (; i < n; i++) { float v = Unsafe.Add(ref ry, i); Unsafe.Add(ref rdz, i) = Unsafe.Add(ref rdy, i) * v * (1f - v); }
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

    // Where |z| < 0.25, y = z + z·s·(c3 + s·(c5 + s·(c7 + s·(c9 + s·c11)))) with s = z².
    private static void TanhNearZero(ReadOnlySpan<float> z, Span<float> y)
    {
        const float C3 = -1f / 3, C5 = 2f / 15, C7 = -17f / 315, C9 = 62f / 2835, C11 = -1382f / 155925, Limit = 0.25f;
        ref float rz = ref MemoryMarshal.GetReference(z);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int n = z.Length, i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.LoadUnsafe(ref rz, (nuint)i);
            var s = v * v;
            var p = Vector256.FusedMultiplyAdd(Vector256.Create(C11), s, Vector256.Create(C9));
            p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(C7));
            p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(C5));
            p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(C3));
            var series = Vector256.FusedMultiplyAdd(v * s, p, v);
            var near = Vector256.LessThan(Vector256.Abs(v), Vector256.Create(Limit));
            Vector256.ConditionalSelect(near, series, Vector256.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref rz, i);
            if (!(MathF.Abs(v) < Limit)) continue;
            float s = v * v;
            Unsafe.Add(ref ry, i) = MathF.FusedMultiplyAdd(v * s, (((C11 * s + C9) * s + C7) * s + C5) * s + C3, v);
        }
    }

    /// <summary>dz = dy·(1 − y²).</summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="y"/>.</exception>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(y.Length, nameof(y), dy, dz);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rdy = ref MemoryMarshal.GetReference(dy);
        ref float rdz = ref MemoryMarshal.GetReference(dz);
        int n = y.Length, i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.LoadUnsafe(ref ry, (nuint)i);
            (Vector256.LoadUnsafe(ref rdy, (nuint)i) * (Vector256<float>.One - v * v)).StoreUnsafe(ref rdz, (nuint)i);
        }
        for (; i < n; i++) { float v = Unsafe.Add(ref ry, i); Unsafe.Add(ref rdz, i) = Unsafe.Add(ref rdy, i) * (1f - v * v); }
    }

    /// <summary>y = z·Φ(z) with the exact normal CDF Φ (PyTorch's default GELU). Must not run in place: backward needs z.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="z"/>.</exception>
    public static void GELU(ReadOnlySpan<float> z, Span<float> y)
    {
        Forward(z, y);
        for (int i = 0; i < z.Length; i++)
        {
            double v = z[i];
            y[i] = (float)(v * 0.5 * (1.0 + SpecialFunctions.Erf(v * 0.70710678118654752440)));
        }
    }

    /// <summary>dz = dy·(Φ(z) + z·φ(z)).</summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dz"/> is shorter than <paramref name="z"/>.</exception>
    public static void GELUBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz)
    {
        Backward(z.Length, nameof(z), dy, dz);
        for (int i = 0; i < z.Length; i++)
        {
            double v = z[i];
            double cdf = 0.5 * (1.0 + SpecialFunctions.Erf(v * 0.70710678118654752440));
            double pdf = 0.39894228040143267794 * Math.Exp(-0.5 * v * v);
            dz[i] = (float)(dy[i] * (cdf + v * pdf));
        }
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
