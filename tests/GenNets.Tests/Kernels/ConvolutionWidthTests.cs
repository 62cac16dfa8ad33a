using System;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// Every vector width's instantiation of the convolution and pooling kernels against the plain reference, on this
/// machine whatever width it would choose (a width it lacks runs in software). Shapes leave tails at every width: rows
/// of windows one more than a vector and one less than two, a lone last block of 16 columns for 512-bit pairs, and 1
/// to 5 rows left for a block of six.
/// </summary>
public class ConvolutionWidthTests
{
    private static readonly int[] Widths = [128, 256, 512];

    public static TheoryData<int, int, int, int> IndirectShapes()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (int bits in Widths)
            foreach (var (m, n, k) in new[] { (1, 16, 1), (4, 16, 9), (5, 48, 27), (7, 32, 3), (8, 48, 13), (10, 64, 8), (13, 80, 20), (3, 16, 0) })
                data.Add(bits, m, n, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(IndirectShapes))]
    public void MultiplyIndirect_AtEveryWidth_IsTheStartPlusTheProductsInOrder(int bits, int m, int n, int k)
    {
        // Row p of B is the n floats at offsets[p] of one buffer, overlapping as a convolution's rows do. Each output must
        // be its start (the bias, or C's old value) plus the products in order of k, fused or not as the width's
        // multiply-add is, whatever block of rows and columns it fell in: the float sums computed here both ways.
        float[] buffer = Check.Random(3 * n + 7 * k + 16, 60), a = Check.Random(m * k, 61), bias = Check.Random(m, 62), old = Check.Random(m * n, 63);
        int[] offsets = Enumerable.Range(0, k).Select(p => (p * 7) % (2 * n + 5)).ToArray();
        foreach (bool fromBias in new[] { true, false })
        {
            var c = (float[])old.Clone();
            Indirect(bits, a, buffer, offsets, fromBias ? bias : default, c, m, n, k);
            float[] fused = new float[m * n], separate = new float[m * n];
            var exact = new double[m * n];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    float start = fromBias ? bias[i] : old[i * n + j], f = start, s = start;
                    double e = start;
                    for (int p = 0; p < k; p++)
                    {
                        float x = a[i * k + p], w = buffer[offsets[p] + j];
                        f = MathF.FusedMultiplyAdd(x, w, f);
                        s = x * w + s;
                        e += (double)x * w;
                    }
                    fused[i * n + j] = f;
                    separate[i * n + j] = s;
                    exact[i * n + j] = e;
                }
            Check.Close(exact, c, 1e-5, 1e-5 * (k + 1), $"C at {bits} bits");
            Assert.True(c.AsSpan().SequenceEqual(fused) || c.AsSpan().SequenceEqual(separate),
                $"C at {bits} bits{(fromBias ? " from the bias" : "")} is not its start plus the products in order of k");
        }
    }

    private static void Indirect(int bits, float[] a, float[] b, int[] offsets, float[]? bias, float[] c, int m, int n, int k)
    {
        switch (bits)
        {
            case 512: Gemm.MultiplyIndirect<Width512, Vector512<float>>(a, b, offsets, bias, c, m, n, k); break;
            case 256: Gemm.MultiplyIndirect<Width256, Vector256<float>>(a, b, offsets, bias, c, m, n, k); break;
            default: Gemm.MultiplyIndirect<Width128, Vector128<float>>(a, b, offsets, bias, c, m, n, k); break;
        }
    }

    public static TheoryData<int, int> PoolingCounts()
    {
        var data = new TheoryData<int, int>();
        foreach (int bits in Widths)
        {
            int lanes = bits / 32;
            foreach (int count in new[] { lanes, lanes + 1, 2 * lanes - 1, 2 * lanes + 3, 3 * lanes + 5 })
                data.Add(bits, count);
        }
        return data;
    }

    // Two rows of 2·count inputs with ties: equal pairs in a row, the maximum repeated across the rows, and all-zero
    // windows (a ReLU's output), and negative windows.
    private static (float[] Top, float[] Bottom) Rows(int count, ulong seed)
    {
        float[] top = Check.Random(2 * count, seed), bottom = Check.Random(2 * count, seed + 1);
        for (int o = 0; o < count; o++)
        {
            if (o % 3 == 0) top[2 * o + 1] = top[2 * o];
            if (o % 5 == 1) bottom[2 * o] = bottom[2 * o + 1] = Math.Max(top[2 * o], top[2 * o + 1]);
            if (o % 7 == 2) top[2 * o] = top[2 * o + 1] = bottom[2 * o] = bottom[2 * o + 1] = 0f;
            if (o % 4 == 3) { top[2 * o] = -Math.Abs(top[2 * o]); top[2 * o + 1] = -1f; bottom[2 * o] = -0.5f; bottom[2 * o + 1] = -Math.Abs(bottom[2 * o + 1]); }
        }
        return (top, bottom);
    }

    // The window's maximum and the first of its four (row-major) equal to it.
    private static (float Maximum, int Choice) Window(float[] top, float[] bottom, int o)
    {
        float[] four = [top[2 * o], top[2 * o + 1], bottom[2 * o], bottom[2 * o + 1]];
        float maximum = four.Max();
        return (maximum, Array.IndexOf(four, maximum));
    }

    // `count` values then a vector's worth of sentinels, which a kernel must leave alone.
    private static float[] WithSentinels(int count) => Enumerable.Repeat(-99f, count + 16).ToArray();

    private static void AssertSentinels(float[] values, int count, string what)
    {
        for (int i = count; i < values.Length; i++) Assert.True(values[i] == -99f, $"{what}: written past the row at {i}");
    }

    [Theory]
    [MemberData(nameof(PoolingCounts))]
    public void MaxPairs_AtEveryWidth_TakeEachWindowsMaximumAndItsPlace(int bits, int count)
    {
        var (top, bottom) = Rows(count, 70);
        foreach (bool relu in new[] { false, true })
        {
            float[] line = WithSentinels(count), chosenLine = WithSentinels(count), choice = WithSentinels(count);
            switch (bits)
            {
                case 512:
                    Pooling.MaxPairs<Width512, Vector512<float>>(ref top[0], ref bottom[0], ref line[0], count, relu);
                    Pooling.MaxPairsChosen<Width512, Vector512<float>>(ref top[0], ref bottom[0], ref chosenLine[0], ref choice[0], count, relu);
                    break;
                case 256:
                    Pooling.MaxPairs<Width256, Vector256<float>>(ref top[0], ref bottom[0], ref line[0], count, relu);
                    Pooling.MaxPairsChosen<Width256, Vector256<float>>(ref top[0], ref bottom[0], ref chosenLine[0], ref choice[0], count, relu);
                    break;
                default:
                    Pooling.MaxPairs<Width128, Vector128<float>>(ref top[0], ref bottom[0], ref line[0], count, relu);
                    Pooling.MaxPairsChosen<Width128, Vector128<float>>(ref top[0], ref bottom[0], ref chosenLine[0], ref choice[0], count, relu);
                    break;
            }
            for (int o = 0; o < count; o++)
            {
                var (maximum, at) = Window(top, bottom, o);
                float expected = relu ? Math.Max(maximum, 0f) : maximum;
                Assert.True(line[o] == expected, $"MaxPairs at {bits} bits, output {o} of {count}: {line[o]}, expected {expected}");
                Assert.True(chosenLine[o] == expected, $"MaxPairsChosen at {bits} bits, output {o} of {count}: {chosenLine[o]}, expected {expected}");
                Assert.True(choice[o] == at, $"MaxPairsChosen at {bits} bits, choice {o} of {count}: {choice[o]}, expected {at}");
            }
            AssertSentinels(line, count, $"MaxPairs at {bits} bits");
            AssertSentinels(chosenLine, count, $"MaxPairsChosen at {bits} bits");
            AssertSentinels(choice, count, $"MaxPairsChosen's choices at {bits} bits");
        }
    }

    [Theory]
    [MemberData(nameof(PoolingCounts))]
    public void RoutePairs_AtEveryWidth_SendEachGradientToItsWindowsMaximum(int bits, int count)
    {
        // From the maxima found again (RoutePairs) and from the recorded choices (ChosenPairs): each output's gradient to
        // the first of its window equal to the maximum, zero to the other three; with relu, nothing from a window whose
        // maximum is not positive.
        var (top, bottom) = Rows(count, 80);
        float[] incoming = Check.Random(count, 82), kept = new float[count], choices = new float[count];
        for (int o = 0; o < count; o++) (kept[o], choices[o]) = Window(top, bottom, o);
        foreach (bool relu in new[] { false, true })
        {
            float[] routedTop = WithSentinels(2 * count), routedBottom = WithSentinels(2 * count), chosenTop = WithSentinels(2 * count), chosenBottom = WithSentinels(2 * count);
            switch (bits)
            {
                case 512:
                    Pooling.RoutePairs<Width512, Vector512<float>>(ref top[0], ref bottom[0], ref kept[0], ref incoming[0], ref routedTop[0], ref routedBottom[0], count, relu);
                    Pooling.ChosenPairs<Width512, Vector512<float>>(ref choices[0], ref incoming[0], ref kept[0], ref chosenTop[0], ref chosenBottom[0], count, relu);
                    break;
                case 256:
                    Pooling.RoutePairs<Width256, Vector256<float>>(ref top[0], ref bottom[0], ref kept[0], ref incoming[0], ref routedTop[0], ref routedBottom[0], count, relu);
                    Pooling.ChosenPairs<Width256, Vector256<float>>(ref choices[0], ref incoming[0], ref kept[0], ref chosenTop[0], ref chosenBottom[0], count, relu);
                    break;
                default:
                    Pooling.RoutePairs<Width128, Vector128<float>>(ref top[0], ref bottom[0], ref kept[0], ref incoming[0], ref routedTop[0], ref routedBottom[0], count, relu);
                    Pooling.ChosenPairs<Width128, Vector128<float>>(ref choices[0], ref incoming[0], ref kept[0], ref chosenTop[0], ref chosenBottom[0], count, relu);
                    break;
            }
            for (int o = 0; o < count; o++)
            {
                float g = !relu || kept[o] > 0 ? incoming[o] : 0f;
                float[] expected = new float[4];
                expected[(int)choices[o]] = g;
                float[] routed = [routedTop[2 * o], routedTop[2 * o + 1], routedBottom[2 * o], routedBottom[2 * o + 1]];
                float[] chosen = [chosenTop[2 * o], chosenTop[2 * o + 1], chosenBottom[2 * o], chosenBottom[2 * o + 1]];
                Assert.True(expected.SequenceEqual(routed), $"RoutePairs at {bits} bits, window {o} of {count}{(relu ? " with ReLU" : "")}: [{string.Join(", ", routed)}]");
                Assert.True(expected.SequenceEqual(chosen), $"ChosenPairs at {bits} bits, window {o} of {count}{(relu ? " with ReLU" : "")}: [{string.Join(", ", chosen)}]");
            }
            AssertSentinels(routedTop, 2 * count, $"RoutePairs' upper row at {bits} bits");
            AssertSentinels(routedBottom, 2 * count, $"RoutePairs' lower row at {bits} bits");
            AssertSentinels(chosenTop, 2 * count, $"ChosenPairs' upper row at {bits} bits");
            AssertSentinels(chosenBottom, 2 * count, $"ChosenPairs' lower row at {bits} bits");
        }
    }

    // bits, then inC, H, W, vectors of filters a block, kh, kw, padding ("same" with padding 1, valid with 0): a 3×3 kernel
    // on one channel (taken a kernel row at a time) with pooled rows of 9, a 2×2 kernel on two channels (patch 8, rows of
    // 8), and blocks of two vectors with rows of 11 and a patch of 27; two blocks of filters each.
    public static TheoryData<int, int[]> ChannelsLastShapes()
    {
        var data = new TheoryData<int, int[]>();
        foreach (int bits in new[] { 256, 512 }) // the 8×8 transposes that turn the rows back need blocks of at least 8 filters
            foreach (var shape in new[] { new[] { 1, 16, 18, 1, 3, 3, 1 }, new[] { 2, 17, 17, 1, 2, 2, 0 }, new[] { 1, 20, 22, 2, 3, 3, 1 }, new[] { 3, 16, 18, 2, 3, 3, 1 } })
                data.Add(bits, shape);
        return data;
    }

    [Theory]
    [MemberData(nameof(ChannelsLastShapes))]
    public void ForwardPooledChannelsLast_AtEveryWidth_MatchesConvolutionThenPooling(int bits, int[] shape)
    {
        if (!Avx.IsSupported) return; // the rows are turned back by AVX transposes, which ForwardPooled uses only with AVX
        int lanes = bits / 32, vectors = shape[3], outC = 2 * vectors * lanes, kh = shape[4], kw = shape[5], pad = shape[6];
        int h = shape[1], w = shape[2], outH = h + 2 * pad - kh + 1, outW = w + 2 * pad - kw + 1;
        var g = new Conv2DGeometry(shape[0], h, w, outC, kh, kw, 1, pad, pad, outH, outW);
        const int batch = 2;
        int ph = outH / 2, pw = outW / 2, plane = ph * pw, pooled = outC * plane;
        float[] x = Check.Random(batch * g.InputLength, 90), wt = Check.Random(g.WeightLength, 91), b = Check.Random(outC, 92);
        var full = Reference.Conv2D(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(b), batch, g);
        foreach (bool relu in new[] { false, true })
        {
            float[] y = Check.Random(batch * pooled, 93), argmax = Check.Random(batch * pooled, 94);
            switch (bits)
            {
                case 512: Convolution.ForwardPooledChannelsLast<Width512, Vector512<float>>(x, wt, b, y, batch, g, relu, argmax, vectors); break;
                default: Convolution.ForwardPooledChannelsLast<Width256, Vector256<float>>(x, wt, b, y, batch, g, relu, argmax, vectors); break;
            }
            var expected = new double[batch * pooled];
            for (int p = 0; p < batch * outC; p++)
                for (int r = 0; r < ph; r++)
                    for (int o = 0; o < pw; o++)
                    {
                        int at = p * plane + r * pw + o, first = (p * outH + 2 * r) * outW + 2 * o;
                        double[] four = [full[first], full[first + 1], full[first + outW], full[first + outW + 1]];
                        double maximum = four.Max();
                        expected[at] = relu ? Math.Max(maximum, 0) : maximum;
                        // The recorded place holds the maximum, to the float rounding of the outputs compared.
                        int chosen = (int)argmax[at];
                        Assert.True(argmax[at] == chosen && chosen is >= 0 and < 4 && Math.Abs(four[chosen] - maximum) <= 1e-5 * g.Patch,
                            $"argmax {argmax[at]} of window {at} at {bits} bits, windows [{string.Join(", ", four)}]");
                    }
            Check.Close(expected, y, 1e-5, 1e-5 * g.Patch, $"pooled Y at {bits} bits{(relu ? " with ReLU" : "")}");
        }
    }

    // bits, then inC, H, W, blocks of a vector of filters, kh, kw, padding: nine taps (a first layer's 3×3), four and
    // eight (which repeat their last tap into the nine accumulators), on rows not a multiple of any width.
    public static TheoryData<int, int[]> SmallPatchShapes()
    {
        var data = new TheoryData<int, int[]>();
        foreach (int bits in Widths)
            foreach (var shape in new[] { new[] { 1, 9, 10, 2, 3, 3, 1 }, new[] { 1, 7, 11, 1, 2, 2, 0 }, new[] { 2, 8, 9, 3, 2, 2, 1 } })
                data.Add(bits, shape);
        return data;
    }

    [Theory]
    [MemberData(nameof(SmallPatchShapes))]
    public void SmallPatchGradients_AtEveryWidth_MatchReference(int bits, int[] shape)
    {
        int lanes = bits / 32, outC = shape[3] * lanes, kh = shape[4], kw = shape[5], pad = shape[6];
        int h = shape[1], w = shape[2], outH = h + 2 * pad - kh + 1, outW = w + 2 * pad - kw + 1;
        var g = new Conv2DGeometry(shape[0], h, w, outC, kh, kw, 1, pad, pad, outH, outW);
        int patch = g.Patch, wide = g.WidePositions, wp = g.PaddedWidth, ld = Gemm.PaddedStride(outC);
        float[] x = Check.Random(g.InputLength, 100), dy = Check.Random(g.OutputLength, 101);
        // The padded input, and dYᵀ in the wide layout (zero at the dropped positions), as BackwardShifted lays them out.
        var padded = new float[g.PaddedLength];
        for (int c = 0; c < g.InChannels; c++)
            for (int r = 0; r < h; r++)
                for (int q = 0; q < w; q++)
                    padded[(c * g.PaddedHeight + pad + r) * wp + pad + q] = x[(c * h + r) * w + q];
        var dyT = new float[wide * ld];
        for (int f = 0; f < outC; f++)
            for (int r = 0; r < outH; r++)
                for (int q = 0; q < outW; q++)
                    dyT[(r * wp + q) * ld + f] = dy[(f * outH + r) * outW + q];
        float[] weights = Check.Random(patch * outC, 102), bias = Check.Random(outC, 103);
        float[] startWeights = (float[])weights.Clone(), startBias = (float[])bias.Clone(); // the kernel adds to them
        switch (bits)
        {
            case 512: Convolution.SmallPatchGradients<Width512, Vector512<float>>(padded, g.RowOffsets!, patch, dyT, ld, wide, weights, bias, outC); break;
            case 256: Convolution.SmallPatchGradients<Width256, Vector256<float>>(padded, g.RowOffsets!, patch, dyT, ld, wide, weights, bias, outC); break;
            default: Convolution.SmallPatchGradients<Width128, Vector128<float>>(padded, g.RowOffsets!, patch, dyT, ld, wide, weights, bias, outC); break;
        }
        double[] ew = new double[g.WeightLength], eb = new double[outC];
        Reference.Conv2DBackward(Check.ToDouble(x), new double[g.WeightLength], Check.ToDouble(dy), 1, g, ew, eb);
        // Channels-last in blocks of a vector of filters: filter f's tap t at (f / L · patch + t) · L + f % L.
        var expectedWeights = new double[patch * outC];
        var expectedBias = new double[outC];
        for (int f = 0; f < outC; f++)
        {
            expectedBias[f] = startBias[f] + eb[f];
            for (int t = 0; t < patch; t++)
            {
                int at = (f / lanes * patch + t) * lanes + f % lanes;
                expectedWeights[at] = startWeights[at] + ew[f * patch + t];
            }
        }
        Check.Close(expectedWeights, weights, 1e-5, 1e-5 * g.Positions, $"dW at {bits} bits");
        Check.Close(expectedBias, bias, 1e-5, 1e-5 * g.Positions, $"db at {bits} bits");
    }
}
