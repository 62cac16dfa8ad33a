using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, int planes, int height, int width, int size, int stride, int outHeight, int outWidth)
    {
        Check(x.Length, y.Length, planes, height, width, outHeight, outWidth, "MaxPool2D");
        for (int p = 0; p < planes; p++)
        {
            var plane = x.Slice(p * height * width, height * width);
            var output = y.Slice(p * outHeight * outWidth, outHeight * outWidth);
            if (size == 2 && stride == 2)
            {
                // The common case: two input rows give one output row.
                ref float source = ref MemoryMarshal.GetReference(plane);
                ref float target = ref MemoryMarshal.GetReference(output);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    ref float top = ref Unsafe.Add(ref source, 2 * oy * width);
                    ref float bottom = ref Unsafe.Add(ref top, width);
                    ref float line = ref Unsafe.Add(ref target, oy * outWidth);
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        float a = Unsafe.Add(ref top, 2 * ox), b = Unsafe.Add(ref top, 2 * ox + 1);
                        float c = Unsafe.Add(ref bottom, 2 * ox), d = Unsafe.Add(ref bottom, 2 * ox + 1);
                        float m = a;
                        if (b > m) m = b;
                        if (c > m) m = c;
                        if (d > m) m = d;
                        Unsafe.Add(ref line, ox) = m;
                    }
                }
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

    /// <summary>
    /// Adds each output gradient to the input element that was the window's maximum (found again by comparing the
    /// input with the kept output, first match in row-major order, as the forward pass chose it). Overwrites dX.
    /// </summary>
    public static void MaxBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int planes, int height, int width, int size, int stride, int outHeight, int outWidth)
    {
        Check(x.Length, y.Length, planes, height, width, outHeight, outWidth, "MaxPool2D");
        Check(dx.Length, dy.Length, planes, height, width, outHeight, outWidth, "MaxPool2D backward");
        dx.Slice(0, planes * height * width).Clear();
        for (int p = 0; p < planes; p++)
        {
            var plane = x.Slice(p * height * width, height * width);
            var gradient = dx.Slice(p * height * width, height * width);
            if (size == 2 && stride == 2)
            {
                // The same first-maximum rule as the forward pass: the first of the four equal to the kept output.
                ref float source = ref MemoryMarshal.GetReference(plane);
                ref float target = ref MemoryMarshal.GetReference(gradient);
                ref float kept = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), p * outHeight * outWidth);
                ref float incoming = ref Unsafe.Add(ref MemoryMarshal.GetReference(dy), p * outHeight * outWidth);
                for (int oy = 0; oy < outHeight; oy++)
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        int o = oy * outWidth + ox, at = 2 * oy * width + 2 * ox;
                        float m = Unsafe.Add(ref kept, o);
                        if (Unsafe.Add(ref source, at) != m)
                        {
                            if (Unsafe.Add(ref source, at + 1) == m) at += 1;
                            else if (Unsafe.Add(ref source, at + width) == m) at += width;
                            else if (Unsafe.Add(ref source, at + width + 1) == m) at += width + 1;
                        }
                        Unsafe.Add(ref target, at) += Unsafe.Add(ref incoming, o);
                    }
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
                    gradient[at] += dy[o];
                }
        }
    }

    /// <summary>Y = the mean of each window.</summary>
    public static void AverageForward(ReadOnlySpan<float> x, Span<float> y, int planes, int height, int width, int size, int stride, int outHeight, int outWidth)
    {
        Check(x.Length, y.Length, planes, height, width, outHeight, outWidth, "AvgPool2D");
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
    public static void AverageBackward(ReadOnlySpan<float> dy, Span<float> dx, int planes, int height, int width, int size, int stride, int outHeight, int outWidth)
    {
        Check(dx.Length, dy.Length, planes, height, width, outHeight, outWidth, "AvgPool2D backward");
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
    public static void GlobalAverageForward(ReadOnlySpan<float> x, Span<float> y, int planes, int area)
    {
        if (x.Length < planes * area || y.Length < planes)
            throw new ArgumentException($"GlobalAvgPool over {planes} planes of {area}: X holds {x.Length} floats (need {planes * area}), Y {y.Length} (need {planes}).");
        for (int p = 0; p < planes; p++)
            y[p] = TensorPrimitives.Sum(x.Slice(p * area, area)) / area;
    }

    /// <summary>dX = dY[p] / area over every element of plane p.</summary>
    public static void GlobalAverageBackward(ReadOnlySpan<float> dy, Span<float> dx, int planes, int area)
    {
        if (dx.Length < planes * area || dy.Length < planes)
            throw new ArgumentException($"GlobalAvgPool backward over {planes} planes of {area}: dX holds {dx.Length} floats (need {planes * area}), dY {dy.Length} (need {planes}).");
        for (int p = 0; p < planes; p++)
            dx.Slice(p * area, area).Fill(dy[p] / area);
    }

    private static void Check(int x, int y, int planes, int height, int width, int outHeight, int outWidth, string what)
    {
        if (x < planes * height * width || y < planes * outHeight * outWidth)
            throw new ArgumentException($"{what} over {planes} planes of {height}×{width} → {outHeight}×{outWidth}: the input holds {x} floats (need {planes * height * width}), the output {y} (need {planes * outHeight * outWidth}).");
    }
}
