using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenNets.Kernels;

/// <summary>
/// Pooling over the planes of CHW samples. A batch of N samples of C channels is N·C planes one after another,
/// so every kernel here takes a plane count. Windows are <c>size</c>×<c>size</c>, <c>stride</c> apart, with no
/// padding (as PyTorch's <c>MaxPool2d</c> and <c>AvgPool2d</c> with their defaults); the output is
/// (H − size) / stride + 1 per axis. The naive twins are in <see cref="Reference"/>.
/// </summary>
public static class Pooling
{
    /// <summary>Y = the maximum of each window. The first maximum in row-major order wins a tie, as in PyTorch.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, the window size or stride is less than 1, the windows reach past the input, or the planes would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">X or Y is shorter than its planes.</exception>
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, int planes, int height, int width, int size, int stride, int outHeight, int outWidth)
    {
        Check(x.Length, nameof(x), y.Length, nameof(y), planes, height, width, size, stride, outHeight, outWidth);
        for (int p = 0; p < planes; p++)
        {
            var plane = x.Slice(p * height * width, height * width);
            var output = y.Slice(p * outHeight * outWidth, outHeight * outWidth);
            if (size == 2 && stride == 2)
            {
                // The common case: two input rows give one output row, eight outputs at a time without a branch
                // (random data would mispredict the comparisons of a scalar loop about half the time).
                ref float source = ref MemoryMarshal.GetReference(plane);
                ref float target = ref MemoryMarshal.GetReference(output);
                for (int oy = 0; oy < outHeight; oy++)
                    MaxPairs(ref Unsafe.Add(ref source, 2 * oy * width), ref Unsafe.Add(ref source, (2 * oy + 1) * width), ref Unsafe.Add(ref target, oy * outWidth), outWidth);
                continue;
            }
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                {
                    float m = float.NegativeInfinity;
                    bool first = true;
                    for (int i = 0; i < size; i++)
                        for (int j = 0; j < size; j++)
                        {
                            float v = plane[(oy * stride + i) * width + ox * stride + j];
                            if (first || v > m) m = v;
                            first = false;
                        }
                    output[oy * outWidth + ox] = m;
                }
        }
    }

    // line[o] = max(top[2o], top[2o + 1], bottom[2o], bottom[2o + 1]) for o < count. Eight outputs at a time, then four;
    // a row's last outputs are done by a vector that overlaps the previous one (writing the same values again), so a
    // row of 14 or 7 outputs has no scalar tail.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MaxPairs(ref float top, ref float bottom, ref float line, int count, bool relu = false)
    {
        int o = 0;
        if (Avx2.IsSupported && count >= 8)
        {
            for (; ; o += 8)
            {
                if (o + 8 > count) o = count - 8;
                MaxPairs8(ref top, ref bottom, ref line, o, relu);
                if (o + 8 == count) return;
            }
        }
        if (Sse.IsSupported && count >= 4)
        {
            for (; ; o += 4)
            {
                if (o + 4 > count) o = count - 4;
                MaxPairs4(ref top, ref bottom, ref line, o, relu);
                if (o + 4 == count) return;
            }
        }
        for (; o < count; o++)
        {
            float a = MathF.Max(Unsafe.Add(ref top, 2 * o), Unsafe.Add(ref top, 2 * o + 1));
            float b = MathF.Max(Unsafe.Add(ref bottom, 2 * o), Unsafe.Add(ref bottom, 2 * o + 1));
            Unsafe.Add(ref line, o) = relu ? MathF.Max(MathF.Max(a, b), 0f) : MathF.Max(a, b);
        }
    }

    // Outputs o to o + 7: vertical maxima of 16 columns, then the maxima of adjacent pairs: Shuffle gathers the even
    // and the odd columns (in 128-bit lanes), and Permute4x64 puts the four pairs of results back in order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxPairs8(ref float top, ref float bottom, ref float line, int o, bool relu)
    {
        var v0 = Avx.Max(Vector256.LoadUnsafe(ref top, (nuint)(2 * o)), Vector256.LoadUnsafe(ref bottom, (nuint)(2 * o)));
        var v1 = Avx.Max(Vector256.LoadUnsafe(ref top, (nuint)(2 * o + 8)), Vector256.LoadUnsafe(ref bottom, (nuint)(2 * o + 8)));
        var pairs = Avx.Max(Avx.Shuffle(v0, v1, 0b10_00_10_00), Avx.Shuffle(v0, v1, 0b11_01_11_01));
        if (relu) pairs = Avx.Max(Vector256<float>.Zero, pairs); // max(0, NaN) is the NaN: the second operand
        Avx2.Permute4x64(pairs.AsDouble(), 0b11_01_10_00).AsSingle().StoreUnsafe(ref line, (nuint)o);
    }

    // Outputs o to o + 3, the same with 128-bit vectors (whose shuffle leaves the outputs in order).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxPairs4(ref float top, ref float bottom, ref float line, int o, bool relu)
    {
        var v0 = Sse.Max(Vector128.LoadUnsafe(ref top, (nuint)(2 * o)), Vector128.LoadUnsafe(ref bottom, (nuint)(2 * o)));
        var v1 = Sse.Max(Vector128.LoadUnsafe(ref top, (nuint)(2 * o + 4)), Vector128.LoadUnsafe(ref bottom, (nuint)(2 * o + 4)));
        var pairs = Sse.Max(Sse.Shuffle(v0, v1, 0b10_00_10_00), Sse.Shuffle(v0, v1, 0b11_01_11_01));
        (relu ? Sse.Max(Vector128<float>.Zero, pairs) : pairs).StoreUnsafe(ref line, (nuint)o);
    }

    /// <summary>
    /// Adds each output gradient to the input element that was the window's maximum (found again by comparing the
    /// input with the kept output, first match in row-major order, as the forward pass chose it). Overwrites dX.
    /// With <paramref name="relu"/> set, X is the output of a ReLU and dX is the gradient before it: the ReLU passes
    /// the gradient only where its output is positive, so a window whose maximum is not positive routes nothing (the
    /// same values as a ReLU's backward after this one, without a pass of its own).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, the window size or stride is less than 1, the windows reach past the input, or the planes would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">X or dX is shorter than the input planes, or Y or dY than the output planes.</exception>
    public static void MaxBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int planes, int height, int width, int size, int stride, int outHeight, int outWidth, bool relu = false)
    {
        Check(x.Length, nameof(x), y.Length, nameof(y), planes, height, width, size, stride, outHeight, outWidth);
        Check(dx.Length, nameof(dx), dy.Length, nameof(dy), planes, height, width, size, stride, outHeight, outWidth);
        // A 2×2 window of stride 2 writes each of its four gradients (the routed one or zero), so only the inputs no
        // window covers (an odd last row or column) need clearing; any other window adds into a cleared dX.
        bool pairs = size == 2 && stride == 2;
        if (!pairs || height != 2 * outHeight || width != 2 * outWidth) dx.Slice(0, planes * height * width).Clear();
        for (int p = 0; p < planes; p++)
        {
            var plane = x.Slice(p * height * width, height * width);
            var gradient = dx.Slice(p * height * width, height * width);
            if (pairs)
            {
                // The same first-maximum rule as the forward pass: the first of the four equal to the kept output.
                ref float source = ref MemoryMarshal.GetReference(plane);
                ref float target = ref MemoryMarshal.GetReference(gradient);
                ref float kept = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), p * outHeight * outWidth);
                ref float incoming = ref Unsafe.Add(ref MemoryMarshal.GetReference(dy), p * outHeight * outWidth);
                for (int oy = 0; oy < outHeight; oy++)
                    RoutePairs(ref Unsafe.Add(ref source, 2 * oy * width), ref Unsafe.Add(ref source, (2 * oy + 1) * width),
                        ref Unsafe.Add(ref kept, oy * outWidth), ref Unsafe.Add(ref incoming, oy * outWidth),
                        ref Unsafe.Add(ref target, 2 * oy * width), ref Unsafe.Add(ref target, (2 * oy + 1) * width), outWidth, relu);
                continue;
            }
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int o = p * outHeight * outWidth + oy * outWidth + ox;
                    float m = y[o];
                    int at = -1;
                    for (int i = 0; i < size && at < 0; i++)
                        for (int j = 0; j < size; j++)
                        {
                            int index = (oy * stride + i) * width + ox * stride + j;
                            if (plane[index] == m)
                            {
                                at = index;
                                break;
                            }
                        }
                    // A NaN window has no equal element; its gradient goes to the window's first element (the trainer's NaN guard stops training anyway).
                    if (at < 0) at = oy * stride * width + ox * stride;
                    if (!relu || m > 0) gradient[at] += dy[o];
                }
        }
    }

    // MaxBackward for one row of 2×2 windows, stride 2: each output's gradient goes to the first of its four inputs equal
    // to the kept maximum, the other three get zero. Eight outputs at a time, then four, the last vector overlapping the
    // one before (writing the same values again), as in MaxPairs; the conditional moves of the scalar rest were branches
    // to the JIT, mispredicted on real data (15 ns an output).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RoutePairs(ref float top, ref float bottom, ref float kept, ref float incoming, ref float topGradient, ref float bottomGradient, int count,
        bool relu)
    {
        int o = 0;
        if (Avx2.IsSupported && count >= 8)
        {
            for (; ; o += 8)
            {
                if (o + 8 > count) o = count - 8;
                Route8(ref top, ref bottom, ref kept, ref incoming, ref topGradient, ref bottomGradient, o, relu);
                if (o + 8 == count) return;
            }
        }
        if (Sse.IsSupported && count >= 4)
        {
            for (; ; o += 4)
            {
                if (o + 4 > count) o = count - 4;
                Route4(ref top, ref bottom, ref kept, ref incoming, ref topGradient, ref bottomGradient, o, relu);
                if (o + 4 == count) return;
            }
        }
        for (; o < count; o++)
        {
            int at = 2 * o;
            float m = Unsafe.Add(ref kept, o), g = !relu || m > 0 ? Unsafe.Add(ref incoming, o) : 0f;
            bool a = Unsafe.Add(ref top, at) == m, b = !a && Unsafe.Add(ref top, at + 1) == m;
            bool c = !(a || b) && Unsafe.Add(ref bottom, at) == m, d = !(a || b || c);
            Unsafe.Add(ref topGradient, at) = a ? g : 0f;
            Unsafe.Add(ref topGradient, at + 1) = b ? g : 0f;
            Unsafe.Add(ref bottomGradient, at) = c ? g : 0f;
            Unsafe.Add(ref bottomGradient, at + 1) = d ? g : 0f;
        }
    }

    // Outputs o to o + 7 of a row of 2×2 windows.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Route8(ref float top, ref float bottom, ref float kept, ref float incoming, ref float topGradient, ref float bottomGradient, int o,
        bool relu)
    {
        nuint at = (nuint)(2 * o);
        var t0 = Vector256.LoadUnsafe(ref top, at); var t1 = Vector256.LoadUnsafe(ref top, at + 8);
        var b0 = Vector256.LoadUnsafe(ref bottom, at); var b1 = Vector256.LoadUnsafe(ref bottom, at + 8);
        // Even and odd columns, in the order Shuffle leaves them: outputs 0, 1, 4, 5 | 2, 3, 6, 7.
        var topEven = Avx.Shuffle(t0, t1, 0b10_00_10_00); var topOdd = Avx.Shuffle(t0, t1, 0b11_01_11_01);
        var bottomEven = Avx.Shuffle(b0, b1, 0b10_00_10_00);
        var m = Shuffled(Vector256.LoadUnsafe(ref kept, (nuint)o));
        var g = Shuffled(Vector256.LoadUnsafe(ref incoming, (nuint)o));
        if (relu) g &= Vector256.GreaterThan(m, Vector256<float>.Zero);
        var a = Vector256.Equals(topEven, m);
        var b = Vector256.AndNot(Vector256.Equals(topOdd, m), a);
        var taken = a | b;
        var c = Vector256.AndNot(Vector256.Equals(bottomEven, m), taken);
        var d = ~(taken | c);
        Interleave(ref topGradient, at, Shuffled(g & a), Shuffled(g & b));
        Interleave(ref bottomGradient, at, Shuffled(g & c), Shuffled(g & d));
    }

    // Outputs o to o + 3, with 128-bit vectors (in order after the shuffle; UnpackLow/High interleave them back).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Route4(ref float top, ref float bottom, ref float kept, ref float incoming, ref float topGradient, ref float bottomGradient, int o,
        bool relu)
    {
        nuint at = (nuint)(2 * o);
        var t0 = Vector128.LoadUnsafe(ref top, at); var t1 = Vector128.LoadUnsafe(ref top, at + 4);
        var b0 = Vector128.LoadUnsafe(ref bottom, at); var b1 = Vector128.LoadUnsafe(ref bottom, at + 4);
        var m = Vector128.LoadUnsafe(ref kept, (nuint)o);
        var g = Vector128.LoadUnsafe(ref incoming, (nuint)o);
        if (relu) g &= Vector128.GreaterThan(m, Vector128<float>.Zero);
        var a = Vector128.Equals(Sse.Shuffle(t0, t1, 0b10_00_10_00), m);
        var b = Vector128.AndNot(Vector128.Equals(Sse.Shuffle(t0, t1, 0b11_01_11_01), m), a);
        var taken = a | b;
        var c = Vector128.AndNot(Vector128.Equals(Sse.Shuffle(b0, b1, 0b10_00_10_00), m), taken);
        var d = ~(taken | c);
        Sse.UnpackLow(g & a, g & b).StoreUnsafe(ref topGradient, at);
        Sse.UnpackHigh(g & a, g & b).StoreUnsafe(ref topGradient, at + 4);
        Sse.UnpackLow(g & c, g & d).StoreUnsafe(ref bottomGradient, at);
        Sse.UnpackHigh(g & c, g & d).StoreUnsafe(ref bottomGradient, at + 4);
    }

    // Swaps the middle two 64-bit blocks: natural order ↔ the order of Shuffle's even and odd columns (its own inverse).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Shuffled(Vector256<float> v) => Avx2.Permute4x64(v.AsDouble(), 0b11_01_10_00).AsSingle();

    // Writes 16 columns: even[i] to column 2i and odd[i] to column 2i + 1.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(ref float row, nuint at, Vector256<float> even, Vector256<float> odd)
    {
        var low = Avx.UnpackLow(even, odd);   // columns 0-3 | 8-11
        var high = Avx.UnpackHigh(even, odd); // columns 4-7 | 12-15
        Avx.Permute2x128(low, high, 0x20).StoreUnsafe(ref row, at);
        Avx.Permute2x128(low, high, 0x31).StoreUnsafe(ref row, at + 8);
    }

    /// <summary>Y = the mean of each window.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, the window size or stride is less than 1, the windows reach past the input, or the planes would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">X or Y is shorter than its planes.</exception>
    public static void AverageForward(ReadOnlySpan<float> x, Span<float> y, int planes, int height, int width, int size, int stride, int outHeight, int outWidth)
    {
        Check(x.Length, nameof(x), y.Length, nameof(y), planes, height, width, size, stride, outHeight, outWidth);
        float scale = 1f / (size * size);
        for (int p = 0; p < planes; p++)
        {
            var plane = x.Slice(p * height * width, height * width);
            var output = y.Slice(p * outHeight * outWidth, outHeight * outWidth);
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                {
                    float s = 0;
                    for (int i = 0; i < size; i++)
                        s += TensorPrimitives.Sum(plane.Slice((oy * stride + i) * width + ox * stride, size));
                    output[oy * outWidth + ox] = s * scale;
                }
        }
    }

    /// <summary>Spreads each output gradient evenly over its window. Overwrites dX.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, the window size or stride is less than 1, the windows reach past the input, or the planes would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">dX is shorter than the input planes, or dY than the output planes.</exception>
    public static void AverageBackward(ReadOnlySpan<float> dy, Span<float> dx, int planes, int height, int width, int size, int stride, int outHeight, int outWidth)
    {
        Check(dx.Length, nameof(dx), dy.Length, nameof(dy), planes, height, width, size, stride, outHeight, outWidth);
        dx.Slice(0, planes * height * width).Clear();
        float scale = 1f / (size * size);
        for (int p = 0; p < planes; p++)
        {
            var gradient = dx.Slice(p * height * width, height * width);
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                {
                    float g = dy[p * outHeight * outWidth + oy * outWidth + ox] * scale;
                    for (int i = 0; i < size; i++)
                    {
                        var row = gradient.Slice((oy * stride + i) * width + ox * stride, size);
                        TensorPrimitives.Add(row, g, row);
                    }
                }
        }
    }

    /// <summary>Y[p] = the mean of plane p: [C, H, W] → [C] per sample.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="planes"/> is negative, <paramref name="area"/> less than 1 (a mean of nothing), or the planes would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">X is shorter than its planes, or Y than one value a plane.</exception>
    public static void GlobalAverageForward(ReadOnlySpan<float> x, Span<float> y, int planes, int area)
    {
        Sizes.Positive(area, nameof(area));
        Sizes.Need(x.Length, Sizes.Product(planes, nameof(planes), area, nameof(area)), nameof(x), "{0} planes of {1}", planes, area);
        Sizes.Need(y.Length, planes, nameof(y), "{0} planes", planes);
        for (int p = 0; p < planes; p++)
            y[p] = TensorPrimitives.Sum(x.Slice(p * area, area)) / area;
    }

    /// <summary>dX = dY[p] / area over every element of plane p.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="planes"/> is negative, <paramref name="area"/> less than 1, or the planes would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">dX is shorter than its planes, or dY than one value a plane.</exception>
    public static void GlobalAverageBackward(ReadOnlySpan<float> dy, Span<float> dx, int planes, int area)
    {
        Sizes.Positive(area, nameof(area));
        Sizes.Need(dx.Length, Sizes.Product(planes, nameof(planes), area, nameof(area)), nameof(dx), "{0} planes of {1}", planes, area);
        Sizes.Need(dy.Length, planes, nameof(dy), "{0} planes", planes);
        for (int p = 0; p < planes; p++)
            dx.Slice(p * area, area).Fill(dy[p] / area);
    }

    // MaxPairs that also writes which of each window's four inputs was the maximum (0 top left, 1 top right, 2 bottom
    // left, 3 bottom right; the first of equals, as MaxBackward finds it) to `choice`, for MaxBackwardChosen.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MaxPairsChosen(ref float top, ref float bottom, ref float line, ref float choice, int count, bool relu)
    {
        int o = 0;
        if (Avx2.IsSupported && count >= 8)
        {
            for (; ; o += 8)
            {
                if (o + 8 > count) o = count - 8;
                nuint at = (nuint)(2 * o);
                var t0 = Vector256.LoadUnsafe(ref top, at); var t1 = Vector256.LoadUnsafe(ref top, at + 8);
                var b0 = Vector256.LoadUnsafe(ref bottom, at); var b1 = Vector256.LoadUnsafe(ref bottom, at + 8);
                // Outputs in Shuffle's order (0, 1, 4, 5 | 2, 3, 6, 7), put back in order by Shuffled; the maximum as MaxPairs8 takes it.
                var topEven = Avx.Shuffle(t0, t1, 0b10_00_10_00); var topOdd = Avx.Shuffle(t0, t1, 0b11_01_11_01);
                var bottomEven = Avx.Shuffle(b0, b1, 0b10_00_10_00); var bottomOdd = Avx.Shuffle(b0, b1, 0b11_01_11_01);
                var m = Avx.Max(Avx.Max(topEven, bottomEven), Avx.Max(topOdd, bottomOdd));
                var chosen = Vector256.ConditionalSelect(Vector256.Equals(bottomEven, m), Vector256.Create(2f), Vector256.Create(3f));
                chosen = Vector256.ConditionalSelect(Vector256.Equals(topOdd, m), Vector256.Create(1f), chosen);
                chosen = Vector256.ConditionalSelect(Vector256.Equals(topEven, m), Vector256<float>.Zero, chosen);
                if (relu) m = Avx.Max(Vector256<float>.Zero, m);
                Shuffled(m).StoreUnsafe(ref line, (nuint)o);
                Shuffled(chosen).StoreUnsafe(ref choice, (nuint)o);
                if (o + 8 == count) return;
            }
        }
        if (Sse41.IsSupported && count >= 4)
        {
            for (; ; o += 4)
            {
                if (o + 4 > count) o = count - 4;
                nuint at = (nuint)(2 * o);
                var t0 = Vector128.LoadUnsafe(ref top, at); var t1 = Vector128.LoadUnsafe(ref top, at + 4);
                var b0 = Vector128.LoadUnsafe(ref bottom, at); var b1 = Vector128.LoadUnsafe(ref bottom, at + 4);
                var topEven = Sse.Shuffle(t0, t1, 0b10_00_10_00); var topOdd = Sse.Shuffle(t0, t1, 0b11_01_11_01);
                var bottomEven = Sse.Shuffle(b0, b1, 0b10_00_10_00); var bottomOdd = Sse.Shuffle(b0, b1, 0b11_01_11_01);
                var m = Sse.Max(Sse.Max(topEven, bottomEven), Sse.Max(topOdd, bottomOdd));
                var chosen = Vector128.ConditionalSelect(Vector128.Equals(bottomEven, m), Vector128.Create(2f), Vector128.Create(3f));
                chosen = Vector128.ConditionalSelect(Vector128.Equals(topOdd, m), Vector128.Create(1f), chosen);
                chosen = Vector128.ConditionalSelect(Vector128.Equals(topEven, m), Vector128<float>.Zero, chosen);
                (relu ? Sse.Max(Vector128<float>.Zero, m) : m).StoreUnsafe(ref line, (nuint)o);
                chosen.StoreUnsafe(ref choice, (nuint)o);
                if (o + 4 == count) return;
            }
        }
        for (; o < count; o++)
        {
            float a = Unsafe.Add(ref top, 2 * o), b = Unsafe.Add(ref top, 2 * o + 1), c = Unsafe.Add(ref bottom, 2 * o), d = Unsafe.Add(ref bottom, 2 * o + 1);
            float m = MathF.Max(MathF.Max(a, c), MathF.Max(b, d));
            Unsafe.Add(ref choice, o) = a == m ? 0f : b == m ? 1f : c == m ? 2f : 3f;
            Unsafe.Add(ref line, o) = relu ? MathF.Max(m, 0f) : m;
        }
    }

    /// <summary>
    /// The backward pass of a 2×2, stride-2 max pooling from the window maxima's positions, as
    /// <see cref="Convolution.ForwardPooled"/> records them in <paramref name="argmax"/> (0 to 3, row-major): each output
    /// gradient goes to its window's chosen input, the other three get zero; the input itself is not needed. With
    /// <paramref name="relu"/> set, <paramref name="y"/> (the pooled output) is that of a ReLU below the pooling, whose
    /// gradient passes only where it is positive. The same dX as <see cref="MaxBackward"/>. Overwrites dX.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, the 2×2 windows reach past the input, or the planes would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">dX is shorter than the input planes, or dY, argmax or (with <paramref name="relu"/>) Y than the output planes.</exception>
    public static void MaxBackwardChosen(ReadOnlySpan<float> dy, ReadOnlySpan<float> argmax, ReadOnlySpan<float> y, Span<float> dx,
        int planes, int height, int width, int outHeight, int outWidth, bool relu = false)
    {
        long outputs = Check(dx.Length, nameof(dx), dy.Length, nameof(dy), planes, height, width, 2, 2, outHeight, outWidth);
        Sizes.Need(argmax.Length, outputs, nameof(argmax), "{0} planes of {1}×{2} outputs", planes, outHeight, outWidth);
        if (relu) Sizes.Need(y.Length, outputs, nameof(y), "{0} planes of {1}×{2} outputs", planes, outHeight, outWidth);
        if (height != 2 * outHeight || width != 2 * outWidth) dx.Slice(0, planes * height * width).Clear(); // inputs no window covers
        ref float incoming = ref MemoryMarshal.GetReference(dy);
        ref float chosen = ref MemoryMarshal.GetReference(argmax);
        ref float kept = ref MemoryMarshal.GetReference(y);
        ref float target = ref MemoryMarshal.GetReference(dx);
        for (int r = 0; r < planes * outHeight; r++) // rows of windows, plane after plane
        {
            int p = r / outHeight, oy = r % outHeight;
            ref float upper = ref Unsafe.Add(ref target, (p * height + 2 * oy) * width);
            ChosenPairs(ref Unsafe.Add(ref chosen, r * outWidth), ref Unsafe.Add(ref incoming, r * outWidth), ref Unsafe.Add(ref kept, relu ? r * outWidth : 0),
                ref upper, ref Unsafe.Add(ref upper, width), outWidth, relu);
        }
    }

    // One row of windows: output o's gradient to column 2o or 2o + 1 of the upper or lower row, as argmax says. Eight
    // outputs at a time, then four, the last vector overlapping the one before, as in RoutePairs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ChosenPairs(ref float chosen, ref float incoming, ref float kept, ref float upper, ref float lower, int count, bool relu)
    {
        int o = 0;
        if (Avx.IsSupported && count >= 8)
        {
            for (; ; o += 8)
            {
                if (o + 8 > count) o = count - 8;
                var c = Vector256.LoadUnsafe(ref chosen, (nuint)o);
                var g = Vector256.LoadUnsafe(ref incoming, (nuint)o);
                if (relu) g &= Vector256.GreaterThan(Vector256.LoadUnsafe(ref kept, (nuint)o), Vector256<float>.Zero);
                nuint at = (nuint)(2 * o);
                Interleave(ref upper, at, g & Vector256.Equals(c, Vector256<float>.Zero), g & Vector256.Equals(c, Vector256.Create(1f)));
                Interleave(ref lower, at, g & Vector256.Equals(c, Vector256.Create(2f)), g & Vector256.Equals(c, Vector256.Create(3f)));
                if (o + 8 == count) return;
            }
        }
        if (Sse.IsSupported && count >= 4)
        {
            for (; ; o += 4)
            {
                if (o + 4 > count) o = count - 4;
                var c = Vector128.LoadUnsafe(ref chosen, (nuint)o);
                var g = Vector128.LoadUnsafe(ref incoming, (nuint)o);
                if (relu) g &= Vector128.GreaterThan(Vector128.LoadUnsafe(ref kept, (nuint)o), Vector128<float>.Zero);
                nuint at = (nuint)(2 * o);
                var a = g & Vector128.Equals(c, Vector128<float>.Zero);
                var b = g & Vector128.Equals(c, Vector128.Create(1f));
                Sse.UnpackLow(a, b).StoreUnsafe(ref upper, at);
                Sse.UnpackHigh(a, b).StoreUnsafe(ref upper, at + 4);
                a = g & Vector128.Equals(c, Vector128.Create(2f));
                b = g & Vector128.Equals(c, Vector128.Create(3f));
                Sse.UnpackLow(a, b).StoreUnsafe(ref lower, at);
                Sse.UnpackHigh(a, b).StoreUnsafe(ref lower, at + 4);
                if (o + 4 == count) return;
            }
        }
        for (; o < count; o++)
        {
            float c = Unsafe.Add(ref chosen, o), g = !relu || Unsafe.Add(ref kept, o) > 0 ? Unsafe.Add(ref incoming, o) : 0f;
            Unsafe.Add(ref upper, 2 * o) = c == 0f ? g : 0f;
            Unsafe.Add(ref upper, 2 * o + 1) = c == 1f ? g : 0f;
            Unsafe.Add(ref lower, 2 * o) = c == 2f ? g : 0f;
            Unsafe.Add(ref lower, 2 * o + 1) = c == 3f ? g : 0f;
        }
    }

    // The sizes, that the windows fit the input (the kernels read every window's rows and columns unchecked), and the
    // input and output spans; returns the output's length.
    private static long Check(int x, string xName, int y, string yName, int planes, int height, int width, int size, int stride, int outHeight, int outWidth)
    {
        Sizes.Positive(size, nameof(size));
        Sizes.Positive(stride, nameof(stride));
        Sizes.NotNegative(outHeight, nameof(outHeight));
        Sizes.NotNegative(outWidth, nameof(outWidth));
        long input = Sizes.Product(planes, nameof(planes), height, nameof(height), width, nameof(width));
        long output = Sizes.Product(planes, nameof(planes), outHeight, nameof(outHeight), outWidth, nameof(outWidth));
        if (outHeight > 0 && (long)(outHeight - 1) * stride + size > height) ThrowWindows(nameof(outHeight), outHeight, size, stride, height, "rows");
        if (outWidth > 0 && (long)(outWidth - 1) * stride + size > width) ThrowWindows(nameof(outWidth), outWidth, size, stride, width, "columns");
        Sizes.Need(x, input, xName, "{0} planes of {1}×{2}", planes, height, width);
        Sizes.Need(y, output, yName, "{0} planes of {1}×{2} outputs", planes, outHeight, outWidth);
        return output;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowWindows(string name, int outputs, int size, int stride, int inputs, string what) =>
        throw new ArgumentOutOfRangeException(name, outputs,
            $"{outputs} windows of {size}, {stride} apart, reach {(long)(outputs - 1) * stride + size} {what}, but the input has {inputs}.");
}
