using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
                // The common case: two input rows give one output row, a vector of outputs at a time without a branch
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

    // line[o] = max(top[2o], top[2o + 1], bottom[2o], bottom[2o + 1]) for o < count, through max(0, ·) with relu. A
    // vector of outputs at a time, at the widest accelerated width whose vector the row fills (16, 8 or 4 outputs); a
    // row's last outputs are done by a vector that overlaps the previous one (writing the same values again), so a row
    // of 14 or 7 outputs has no scalar tail.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MaxPairs(ref float top, ref float bottom, ref float line, int count, bool relu = false)
    {
        if (Vector512.IsHardwareAccelerated && count >= Vector512<float>.Count) MaxPairs<Width512, Vector512<float>>(ref top, ref bottom, ref line, count, relu);
        else if (Vector256.IsHardwareAccelerated && count >= Vector256<float>.Count) MaxPairs<Width256, Vector256<float>>(ref top, ref bottom, ref line, count, relu);
        else if (Vector128.IsHardwareAccelerated && count >= Vector128<float>.Count) MaxPairs<Width128, Vector128<float>>(ref top, ref bottom, ref line, count, relu);
        else
            for (int o = 0; o < count; o++)
            {
                float a = MathF.Max(Unsafe.Add(ref top, 2 * o), Unsafe.Add(ref top, 2 * o + 1));
                float b = MathF.Max(Unsafe.Add(ref bottom, 2 * o), Unsafe.Add(ref bottom, 2 * o + 1));
                Unsafe.Add(ref line, o) = relu ? MathF.Max(MathF.Max(a, b), 0f) : MathF.Max(a, b);
            }
    }

    // MaxPairs at one width, for at least a vector of outputs (the tests call each width): the column maxima of the two
    // rows, then the maxima of their even and odd columns. No branch on the data (random data would mispredict the
    // comparisons of a scalar loop about half the time).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MaxPairs<TWidth, TVector>(ref float top, ref float bottom, ref float line, int count, bool relu)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count;
        for (int o = 0; ; o += lanes)
        {
            if (o + lanes > count) o = count - lanes;
            nuint at = (nuint)(2 * o), next = at + (nuint)lanes;
            var v0 = TWidth.Max(TWidth.Load(ref top, at), TWidth.Load(ref bottom, at));
            var v1 = TWidth.Max(TWidth.Load(ref top, next), TWidth.Load(ref bottom, next));
            var pairs = TWidth.Max(TWidth.Even(v0, v1), TWidth.Odd(v0, v1));
            if (relu) pairs = TWidth.Max(TWidth.Zero, pairs); // max(0, NaN) is the NaN: the second operand
            TWidth.Store(pairs, ref line, (nuint)o);
            if (o + lanes == count) return;
        }
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
    // to the kept maximum, the other three get zero. A vector of outputs at a time, the last vector overlapping the one
    // before (writing the same values again), as in MaxPairs; the conditional moves of the scalar rest were branches to
    // the JIT, mispredicted on real data (15 ns an output).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RoutePairs(ref float top, ref float bottom, ref float kept, ref float incoming, ref float topGradient, ref float bottomGradient, int count,
        bool relu)
    {
        if (Vector512.IsHardwareAccelerated && count >= Vector512<float>.Count)
            RoutePairs<Width512, Vector512<float>>(ref top, ref bottom, ref kept, ref incoming, ref topGradient, ref bottomGradient, count, relu);
        else if (Vector256.IsHardwareAccelerated && count >= Vector256<float>.Count)
            RoutePairs<Width256, Vector256<float>>(ref top, ref bottom, ref kept, ref incoming, ref topGradient, ref bottomGradient, count, relu);
        else if (Vector128.IsHardwareAccelerated && count >= Vector128<float>.Count)
            RoutePairs<Width128, Vector128<float>>(ref top, ref bottom, ref kept, ref incoming, ref topGradient, ref bottomGradient, count, relu);
        else
            for (int o = 0; o < count; o++)
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

    // RoutePairs at one width, for at least a vector of outputs (the tests call each width): the window's four inputs
    // gathered as even and odd columns, the gradient taken by the first that equals the maximum (what is left going on
    // to the next), and the four gradients interleaved back into the two rows.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RoutePairs<TWidth, TVector>(ref float top, ref float bottom, ref float kept, ref float incoming, ref float topGradient, ref float bottomGradient,
        int count, bool relu)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count;
        var zero = TWidth.Zero;
        for (int o = 0; ; o += lanes)
        {
            if (o + lanes > count) o = count - lanes;
            nuint at = (nuint)(2 * o), next = at + (nuint)lanes;
            var t0 = TWidth.Load(ref top, at); var t1 = TWidth.Load(ref top, next);
            var b0 = TWidth.Load(ref bottom, at); var b1 = TWidth.Load(ref bottom, next);
            var m = TWidth.Load(ref kept, (nuint)o);
            var g = TWidth.Load(ref incoming, (nuint)o);
            if (relu) g = TWidth.And(g, TWidth.GreaterThan(m, zero));
            var hit = TWidth.Equal(TWidth.Even(t0, t1), m);
            var a = TWidth.And(g, hit);
            g = TWidth.Select(hit, zero, g);
            hit = TWidth.Equal(TWidth.Odd(t0, t1), m);
            var b = TWidth.And(g, hit);
            g = TWidth.Select(hit, zero, g);
            hit = TWidth.Equal(TWidth.Even(b0, b1), m);
            var c = TWidth.And(g, hit);
            var d = TWidth.Select(hit, zero, g);
            TWidth.Store(TWidth.ZipLower(a, b), ref topGradient, at); TWidth.Store(TWidth.ZipUpper(a, b), ref topGradient, next);
            TWidth.Store(TWidth.ZipLower(c, d), ref bottomGradient, at); TWidth.Store(TWidth.ZipUpper(c, d), ref bottomGradient, next);
            if (o + lanes == count) return;
        }
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

    /// <summary>
    /// dX = dY[p] / area over every element of plane p. With <paramref name="reluOutput"/> (X's size: the output of the
    /// ReLU that X is), dX is taken through that ReLU as it is written, zero where the output is not above 0: the bits of
    /// <see cref="Activations.ReLUBackward"/> over dX afterwards, without a pass of its own.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="planes"/> is negative, <paramref name="area"/> less than 1, or the planes would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">dX (or the ReLU's output, when given) is shorter than its planes, or dY than one value a plane.</exception>
    public static void GlobalAverageBackward(ReadOnlySpan<float> dy, Span<float> dx, int planes, int area, ReadOnlySpan<float> reluOutput = default)
    {
        Sizes.Positive(area, nameof(area));
        Sizes.Need(dx.Length, Sizes.Product(planes, nameof(planes), area, nameof(area)), nameof(dx), "{0} planes of {1}", planes, area);
        Sizes.Need(dy.Length, planes, nameof(dy), "{0} planes", planes);
        bool relu = !reluOutput.IsEmpty;
        if (relu) Sizes.Need(reluOutput.Length, planes * area, nameof(reluOutput), "{0} planes of {1}", planes, area);
        for (int p = 0; p < planes; p++)
        {
            var plane = dx.Slice(p * area, area);
            plane.Fill(dy[p] / area);
            if (relu) Activations.ReLUBackward(reluOutput.Slice(p * area, area), plane, plane); // while the plane is in cache
        }
    }

    /// <summary>
    /// Y[n, j] = the mean over the <paramref name="positions"/> rows of sample n's X [positions, features], column j: a
    /// sequence pooled into one vector (a transformer classifier's mean pooling). Rows are added in order, then scaled.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, a size less than 1, or the batch would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">X or Y is shorter than the batch needs.</exception>
    public static void MeanOverPositions(ReadOnlySpan<float> x, Span<float> y, int batch, int positions, int features)
    {
        Sizes.Positive(positions, nameof(positions));
        Sizes.Positive(features, nameof(features));
        int sample = (int)Sizes.Product(positions, nameof(positions), features, nameof(features));
        Sizes.Need(x.Length, Sizes.Product(batch, nameof(batch), sample, "a sample"), nameof(x), "a batch of {0} samples of [{1}, {2}]", batch, positions, features);
        Sizes.Need(y.Length, Sizes.Product(batch, nameof(batch), features, nameof(features)), nameof(y), "a batch of {0} vectors of {1}", batch, features);
        for (int n = 0; n < batch; n++)
        {
            var mean = y.Slice(n * features, features);
            var rows = x.Slice(n * sample, sample);
            rows.Slice(0, features).CopyTo(mean);
            for (int t = 1; t < positions; t++) TensorPrimitives.Add(mean, rows.Slice(t * features, features), mean);
            TensorPrimitives.Multiply(mean, 1f / positions, mean);
        }
    }

    /// <summary>dX[n, t, j] = dY[n, j] / positions: the gradient of <see cref="MeanOverPositions"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, a size less than 1, or the batch would hold more than <see cref="int.MaxValue"/> floats.</exception>
    /// <exception cref="ArgumentException">dX or dY is shorter than the batch needs.</exception>
    public static void MeanOverPositionsBackward(ReadOnlySpan<float> dy, Span<float> dx, int batch, int positions, int features)
    {
        Sizes.Positive(positions, nameof(positions));
        Sizes.Positive(features, nameof(features));
        int sample = (int)Sizes.Product(positions, nameof(positions), features, nameof(features));
        Sizes.Need(dx.Length, Sizes.Product(batch, nameof(batch), sample, "a sample"), nameof(dx), "a batch of {0} samples of [{1}, {2}]", batch, positions, features);
        Sizes.Need(dy.Length, Sizes.Product(batch, nameof(batch), features, nameof(features)), nameof(dy), "a batch of {0} vectors of {1}", batch, features);
        for (int n = 0; n < batch; n++)
        {
            var first = dx.Slice(n * sample, features);
            TensorPrimitives.Multiply(dy.Slice(n * features, features), 1f / positions, first);
            for (int t = 1; t < positions; t++) first.CopyTo(dx.Slice(n * sample + t * features, features));
        }
    }

    // MaxPairs that also writes which of each window's four inputs was the maximum (0 top left, 1 top right, 2 bottom
    // left, 3 bottom right; the first of equals, as MaxBackward finds it) to `choice`, for MaxBackwardChosen.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MaxPairsChosen(ref float top, ref float bottom, ref float line, ref float choice, int count, bool relu)
    {
        if (Vector512.IsHardwareAccelerated && count >= Vector512<float>.Count) MaxPairsChosen<Width512, Vector512<float>>(ref top, ref bottom, ref line, ref choice, count, relu);
        else if (Vector256.IsHardwareAccelerated && count >= Vector256<float>.Count) MaxPairsChosen<Width256, Vector256<float>>(ref top, ref bottom, ref line, ref choice, count, relu);
        else if (Vector128.IsHardwareAccelerated && count >= Vector128<float>.Count) MaxPairsChosen<Width128, Vector128<float>>(ref top, ref bottom, ref line, ref choice, count, relu);
        else
            for (int o = 0; o < count; o++)
            {
                float a = Unsafe.Add(ref top, 2 * o), b = Unsafe.Add(ref top, 2 * o + 1), c = Unsafe.Add(ref bottom, 2 * o), d = Unsafe.Add(ref bottom, 2 * o + 1);
                float m = MathF.Max(MathF.Max(a, c), MathF.Max(b, d));
                Unsafe.Add(ref choice, o) = a == m ? 0f : b == m ? 1f : c == m ? 2f : 3f;
                Unsafe.Add(ref line, o) = relu ? MathF.Max(m, 0f) : m;
            }
    }

    // MaxPairsChosen at one width, for at least a vector of outputs (the tests call each width); the maximum as MaxPairs
    // takes it, a vector of outputs at a time, the last overlapping the one before.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MaxPairsChosen<TWidth, TVector>(ref float top, ref float bottom, ref float line, ref float choice, int count, bool relu)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count;
        for (int o = 0; ; o += lanes)
        {
            if (o + lanes > count) o = count - lanes;
            nuint at = (nuint)(2 * o), next = at + (nuint)lanes;
            var t0 = TWidth.Load(ref top, at); var t1 = TWidth.Load(ref top, next);
            var b0 = TWidth.Load(ref bottom, at); var b1 = TWidth.Load(ref bottom, next);
            var topEven = TWidth.Even(t0, t1); var topOdd = TWidth.Odd(t0, t1);
            var bottomEven = TWidth.Even(b0, b1); var bottomOdd = TWidth.Odd(b0, b1);
            var m = TWidth.Max(TWidth.Max(topEven, bottomEven), TWidth.Max(topOdd, bottomOdd));
            var chosen = TWidth.Select(TWidth.Equal(bottomEven, m), TWidth.Broadcast(2f), TWidth.Broadcast(3f));
            chosen = TWidth.Select(TWidth.Equal(topOdd, m), TWidth.Broadcast(1f), chosen);
            chosen = TWidth.Select(TWidth.Equal(topEven, m), TWidth.Zero, chosen);
            if (relu) m = TWidth.Max(TWidth.Zero, m);
            TWidth.Store(m, ref line, (nuint)o);
            TWidth.Store(chosen, ref choice, (nuint)o);
            if (o + lanes == count) return;
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

    // One row of windows: output o's gradient to column 2o or 2o + 1 of the upper or lower row, as argmax says. A vector
    // of outputs at a time, the last overlapping the one before, as in RoutePairs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ChosenPairs(ref float chosen, ref float incoming, ref float kept, ref float upper, ref float lower, int count, bool relu)
    {
        if (Vector512.IsHardwareAccelerated && count >= Vector512<float>.Count) ChosenPairs<Width512, Vector512<float>>(ref chosen, ref incoming, ref kept, ref upper, ref lower, count, relu);
        else if (Vector256.IsHardwareAccelerated && count >= Vector256<float>.Count) ChosenPairs<Width256, Vector256<float>>(ref chosen, ref incoming, ref kept, ref upper, ref lower, count, relu);
        else if (Vector128.IsHardwareAccelerated && count >= Vector128<float>.Count) ChosenPairs<Width128, Vector128<float>>(ref chosen, ref incoming, ref kept, ref upper, ref lower, count, relu);
        else
            for (int o = 0; o < count; o++)
            {
                float c = Unsafe.Add(ref chosen, o), g = !relu || Unsafe.Add(ref kept, o) > 0 ? Unsafe.Add(ref incoming, o) : 0f;
                Unsafe.Add(ref upper, 2 * o) = c == 0f ? g : 0f;
                Unsafe.Add(ref upper, 2 * o + 1) = c == 1f ? g : 0f;
                Unsafe.Add(ref lower, 2 * o) = c == 2f ? g : 0f;
                Unsafe.Add(ref lower, 2 * o + 1) = c == 3f ? g : 0f;
            }
    }

    // ChosenPairs at one width, for at least a vector of outputs (the tests call each width).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ChosenPairs<TWidth, TVector>(ref float chosen, ref float incoming, ref float kept, ref float upper, ref float lower, int count, bool relu)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        int lanes = TWidth.Count;
        for (int o = 0; ; o += lanes)
        {
            if (o + lanes > count) o = count - lanes;
            var c = TWidth.Load(ref chosen, (nuint)o);
            var g = TWidth.Load(ref incoming, (nuint)o);
            if (relu) g = TWidth.And(g, TWidth.GreaterThan(TWidth.Load(ref kept, (nuint)o), TWidth.Zero));
            nuint at = (nuint)(2 * o), next = at + (nuint)lanes;
            var a = TWidth.And(g, TWidth.Equal(c, TWidth.Zero));
            var b = TWidth.And(g, TWidth.Equal(c, TWidth.Broadcast(1f)));
            TWidth.Store(TWidth.ZipLower(a, b), ref upper, at); TWidth.Store(TWidth.ZipUpper(a, b), ref upper, next);
            a = TWidth.And(g, TWidth.Equal(c, TWidth.Broadcast(2f)));
            b = TWidth.And(g, TWidth.Equal(c, TWidth.Broadcast(3f)));
            TWidth.Store(TWidth.ZipLower(a, b), ref lower, at); TWidth.Store(TWidth.ZipUpper(a, b), ref lower, next);
            if (o + lanes == count) return;
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
