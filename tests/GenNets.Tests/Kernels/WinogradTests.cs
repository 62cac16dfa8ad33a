using System;
using System.Runtime.Intrinsics;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// Winograd's F(2×2, 3×3) and F(4×4, 3×3), forward, input and weight gradients, against the plain double-precision
/// convolution, at every vector width (a width this CPU lacks runs in software): odd and even sides (edge tiles cut
/// short), 1, 3, 16 and 17 channels (less than a vector, one, one and a bit), batches of 1 and 3. The error of a float
/// convolution grows with the sizes of the terms it sums, not with its result (which may cancel to near zero), so each
/// output is held to a tolerance relative to Σ|x|·|w| + |b| over its window: the same sum in absolute values. The
/// weight gradient, a sum over the whole batch and image, is held to its root mean square instead (WeightTolerance).
/// </summary>
public class WinogradTests
{
    private static readonly int[] Widths = [128, 256, 512];

    // (inC, H, W, outC, batch)
    private static readonly (int, int, int, int, int)[] Shapes =
    [
        (1, 5, 5, 1, 1), (3, 7, 6, 16, 3), (16, 28, 28, 16, 1), (16, 9, 11, 17, 3), (17, 8, 8, 3, 1), (16, 1, 1, 16, 2), (3, 14, 13, 17, 1),
    ];

    public static TheoryData<int, int, int, int, int, int, int> Cases()
    {
        var data = new TheoryData<int, int, int, int, int, int, int>();
        foreach (int bits in Widths)
            foreach (int tile in new[] { 2, 4 })
                foreach (var (inC, h, w, outC, batch) in Shapes)
                    data.Add(bits, tile, inC, h, w, outC, batch);
        return data;
    }

    // F(2×2) keeps nearly the direct sums' accuracy; F(4×4)'s transforms (coefficients up to 8, and ⅙, 1/12, 1/24 in G)
    // lose about a decimal digit more.
    private static double Tolerance(int tile) => tile == 2 ? 2e-6 : 2e-5;

    private static Conv2DGeometry Same(int inC, int h, int w, int outC) => new(inC, h, w, outC, 3, 3, 1, 1, 1, h, w);

    private static double[] Abs(float[] values)
    {
        var a = new double[values.Length];
        for (int i = 0; i < a.Length; i++) a[i] = Math.Abs(values[i]);
        return a;
    }

    // |actual − expected| ≤ tolerance · magnitude, elementwise, naming the first that fails.
    private static void Near(double[] expected, float[] actual, double[] magnitude, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance * magnitude[i]))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (|diff| {Math.Abs(actual[i] - expected[i]):E3}, magnitude {magnitude[i]:E3}).");
    }

    private static void Run(int bits, int tile, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, bool flipped, ReadOnlySpan<float> bias, Span<float> y, int batch,
        int inC, int outC, int h, int w, bool relu)
    {
        switch (bits)
        {
            case 512: Winograd.Run<Width512, Vector512<float>>(x, weight, flipped, bias, y, batch, inC, outC, h, w, relu, tile); break;
            case 256: Winograd.Run<Width256, Vector256<float>>(x, weight, flipped, bias, y, batch, inC, outC, h, w, relu, tile); break;
            default: Winograd.Run<Width128, Vector128<float>>(x, weight, flipped, bias, y, batch, inC, outC, h, w, relu, tile); break;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_AtEveryWidth_MatchesReference(int bits, int tile, int inC, int h, int w, int outC, int batch)
    {
        var g = Same(inC, h, w, outC);
        float[] x = Check.Random(batch * g.InputLength, 1), wt = Check.Random(g.WeightLength, 2, 0.5f), b = Check.Random(outC, 3);
        var expected = Reference.Conv2D(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(b), batch, g);
        var magnitude = Reference.Conv2D(Abs(x), Abs(wt), Abs(b), batch, g);
        foreach (bool relu in new[] { false, true })
        {
            var y = Check.Random(batch * g.OutputLength + 5, 4); // stale values, and floats past the end that must stay
            var tail = y.AsSpan(batch * g.OutputLength).ToArray();
            Run(bits, tile, x, wt, false, b, y, batch, inC, outC, h, w, relu);
            var want = relu ? Array.ConvertAll(expected, v => Math.Max(v, 0)) : expected;
            Near(want, y.AsSpan(0, batch * g.OutputLength).ToArray(), magnitude, Tolerance(tile), $"Y at {bits} bits, F({tile}×{tile}){(relu ? ", ReLU" : "")}");
            Assert.Equal(tail, y.AsSpan(batch * g.OutputLength).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InputGradient_AtEveryWidth_MatchesReference(int bits, int tile, int inC, int h, int w, int outC, int batch)
    {
        var g = Same(inC, h, w, outC);
        float[] x = Check.Random(batch * g.InputLength, 5), wt = Check.Random(g.WeightLength, 6, 0.5f), dy = Check.Random(batch * g.OutputLength, 7);
        var expected = Reference.Conv2DBackward(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(dy), batch, g, new double[g.WeightLength], new double[outC]);
        var magnitude = Reference.Conv2DBackward(Abs(x), Abs(wt), Abs(dy), batch, g, new double[g.WeightLength], new double[outC]);
        var dx = Check.Random(batch * g.InputLength, 8);
        // The input gradient's convolution: dY's outC channels in, inC out, the kernel turned.
        Run(bits, tile, dy, wt, true, default, dx, batch, outC, inC, h, w, relu: false);
        Near(expected, dx, magnitude, Tolerance(tile), $"dX at {bits} bits, F({tile}×{tile})");
    }

    private static void RunWeightGradient(int bits, int tile, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, int batch, int inC, int outC, int h, int w)
    {
        switch (bits)
        {
            case 512: Winograd.RunWeightGradient<Width512, Vector512<float>>(x, dy, dw, batch, inC, outC, h, w, tile); break;
            case 256: Winograd.RunWeightGradient<Width256, Vector256<float>>(x, dy, dw, batch, inC, outC, h, w, tile); break;
            default: Winograd.RunWeightGradient<Width128, Vector128<float>>(x, dy, dw, batch, inC, outC, h, w, tile); break;
        }
    }

    // The weight gradient sums batch·H·W products a weight, of either sign: it is about √(batch·H·W) terms in size while
    // Σ|x|·|dy| grows as batch·H·W, so a tolerance relative to that absolute sum would loosen with the batch. Each weight
    // is held instead to the gradient's root mean square (its norm over √count). The transforms scale the terms up by as
    // much as 100 (Bᵀ·X·B: rows of |Bᵀ| sum to 10) and 225 (A·dY·Aᵀ: rows of |A| sum to 15) before Gᵀ·M·G brings them
    // back with coefficients down to 1/24, so the float sums in the transformed domain land on dW a few hundred ulps
    // (2⁻²⁴ ≈ 6e-8) of its scale off for F(4×4), tens for F(2×2) (transforms of coefficients up to 2). Measured: at most
    // 1.4e-5 and 2.5e-6 of the RMS on these shapes, 1.6e-5 and 2.6e-6 for 16→16 on 28×28 with 64 samples; held to
    // about seven times that.
    private static double WeightTolerance(int tile) => tile == 2 ? 2e-5 : 1e-4;

    // |actual − expected| ≤ tolerance · RMS(expected), elementwise, naming the first that fails.
    private static void NearInNorm(double[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double squares = 0;
        foreach (double e in expected) squares += e * e;
        double scale = Math.Sqrt(squares / Math.Max(1, expected.Length));
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance * scale))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (|diff| {Math.Abs(actual[i] - expected[i]):E3}, the gradient's RMS {scale:E3}).");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WeightGradient_AtEveryWidth_MatchesReference(int bits, int tile, int inC, int h, int w, int outC, int batch)
    {
        var g = Same(inC, h, w, outC);
        float[] x = Check.Random(batch * g.InputLength, 51), dy = Check.Random(batch * g.OutputLength, 52);
        var expected = new double[g.WeightLength];
        Reference.Conv2DBackward(Check.ToDouble(x), new double[g.WeightLength], Check.ToDouble(dy), batch, g, expected, new double[outC]);
        var dw = Check.Random(g.WeightLength + 5, 53); // stale values, overwritten, and floats past the end that must stay
        var tail = dw.AsSpan(g.WeightLength).ToArray();
        RunWeightGradient(bits, tile, x, dy, dw, batch, inC, outC, h, w);
        NearInNorm(expected, dw.AsSpan(0, g.WeightLength), WeightTolerance(tile), $"dW at {bits} bits, F({tile}×{tile}), {inC}→{outC} {h}×{w} ×{batch}");
        Assert.Equal(tail, dw.AsSpan(g.WeightLength).ToArray());
    }

    // The backward pass in one go: dX, dW and the bias gradient with the bits of the passes taken one at a time (Run with
    // the flipped kernel, RunWeightGradient, each channel's sums added sample by sample).
    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_AtEveryWidth_GivesTheSeparatePassesBits(int bits, int tile, int inC, int h, int w, int outC, int batch)
    {
        var g = Same(inC, h, w, outC);
        float[] x = Check.Random(batch * g.InputLength, 61), wt = Check.Random(g.WeightLength, 62, 0.5f), dy = Check.Random(batch * g.OutputLength, 63);
        float[] dx = new float[batch * g.InputLength], dw = new float[g.WeightLength];
        Run(bits, tile, dy, wt, true, default, dx, batch, outC, inC, h, w, relu: false);
        RunWeightGradient(bits, tile, x, dy, dw, batch, inC, outC, h, w);
        // The bias gradient as Convolution.Backward's other paths take it: each channel's sum over a sample, in sample order.
        var eb = new float[outC];
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < outC; c++)
                eb[c] += System.Numerics.Tensors.TensorPrimitives.Sum(dy.AsSpan(n * g.OutputLength + c * h * w, h * w));
        foreach (bool inputs in new[] { true, false })
        {
            float[] bx = Check.Random(batch * g.InputLength + 3, 64), bw = Check.Random(g.WeightLength, 65), bb = Check.Random(outC + 3, 66);
            var tails = (bx.AsSpan(batch * g.InputLength).ToArray(), bb.AsSpan(outC).ToArray());
            Span<float> into = inputs ? bx.AsSpan(0, batch * g.InputLength) : default;
            switch (bits)
            {
                case 512: Winograd.RunBackward<Width512, Vector512<float>>(x, wt, dy, bw, bb.AsSpan(0, outC), into, batch, inC, outC, h, w, tile); break;
                case 256: Winograd.RunBackward<Width256, Vector256<float>>(x, wt, dy, bw, bb.AsSpan(0, outC), into, batch, inC, outC, h, w, tile); break;
                default: Winograd.RunBackward<Width128, Vector128<float>>(x, wt, dy, bw, bb.AsSpan(0, outC), into, batch, inC, outC, h, w, tile); break;
            }
            string what = $"{bits} bits, F({tile}×{tile}), {inC}→{outC} {h}×{w} ×{batch}{(inputs ? "" : ", no dX")}";
            Assert.True(dw.AsSpan().SequenceEqual(bw), $"dW, {what}");
            if (inputs) Assert.True(dx.AsSpan().SequenceEqual(bx.AsSpan(0, dx.Length)), $"dX, {what}");
            Assert.True(eb.AsSpan().SequenceEqual(bb.AsSpan(0, outC)), $"db, {what}");
            Assert.Equal(tails.Item1, bx.AsSpan(batch * g.InputLength).ToArray());
            Assert.Equal(tails.Item2, bb.AsSpan(outC).ToArray());
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void PublicEntryPoints_MatchReference(int tile)
    {
        var g = Same(16, 12, 10, 8);
        const int batch = 2;
        float[] x = Check.Random(batch * g.InputLength, 11), wt = Check.Random(g.WeightLength, 12, 0.5f), b = Check.Random(8, 13), dy = Check.Random(batch * g.OutputLength, 14);
        var y = new float[batch * g.OutputLength];
        Winograd.Forward(x, wt, b, y, batch, g, relu: false, tile);
        Near(Reference.Conv2D(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(b), batch, g), y, Reference.Conv2D(Abs(x), Abs(wt), Abs(b), batch, g), Tolerance(tile), "Y");
        var dx = new float[batch * g.InputLength];
        Winograd.InputGradient(wt, dy, dx, batch, g, tile);
        var expected = Reference.Conv2DBackward(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(dy), batch, g, new double[g.WeightLength], new double[8]);
        var magnitude = Reference.Conv2DBackward(Abs(x), Abs(wt), Abs(dy), batch, g, new double[g.WeightLength], new double[8]);
        Near(expected, dx, magnitude, Tolerance(tile), "dX");
        var dw = Check.Random(g.WeightLength, 15); // overwritten
        Winograd.WeightGradient(x, dy, dw, batch, g, tile);
        var ew = new double[g.WeightLength];
        Reference.Conv2DBackward(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(dy), batch, g, ew, new double[8]);
        NearInNorm(ew, dw, WeightTolerance(tile), "dW");
    }

    [Fact]
    public void WeightGradient_ChecksItsArguments()
    {
        var g = Same(16, 12, 10, 8);
        const int batch = 2;
        float[] x = new float[batch * g.InputLength], dy = new float[batch * g.OutputLength], dw = new float[g.WeightLength];
        var ex = Assert.Throws<ArgumentException>(() => Winograd.WeightGradient(x, dy, new float[g.WeightLength - 1], batch, g));
        Assert.Equal("weightGradient", ex.ParamName);
        Assert.Contains($"{g.WeightLength - 1}", ex.Message);
        Assert.Contains($"{g.WeightLength}", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Winograd.WeightGradient(x.AsSpan(1), dy, dw, batch, g));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains($"{batch * g.InputLength - 1}", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Winograd.WeightGradient(x, dy.AsSpan(1), dw, batch, g));
        Assert.Equal("outputGradient", ex.ParamName);
        Assert.Contains($"{batch * g.OutputLength - 1}", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Winograd.WeightGradient(x, dy, dw, batch, new Conv2DGeometry(16, 12, 10, 8, 3, 3, 2, 1, 1, 6, 5)));
        Assert.Equal("g", ex.ParamName);
        Assert.Contains("stride 2", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Winograd.WeightGradient(x, dy, dw, -1, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => Winograd.WeightGradient(x, dy, dw, batch, g, tile: 3));
        Assert.Throws<ArgumentNullException>(() => Winograd.WeightGradient(x, dy, dw, batch, null!));
    }

    [Fact]
    public void WeightGradient_GivesTheSameBits_AtEveryCall()
    {
        // Other geometries in between leave other data in the thread's buffers (the padding, the channels past the
        // count); the sums start over at every call; a batch of none is zeros.
        var g = Same(16, 28, 28, 16);
        const int batch = 3;
        float[] x = Check.Random(batch * g.InputLength, 61), dy = Check.Random(batch * g.OutputLength, 62);
        var first = new float[g.WeightLength];
        Winograd.WeightGradient(x, dy, first, batch, g);
        foreach (var (inC, h, w, outC) in new[] { (17, 9, 11, 16), (16, 28, 28, 16), (3, 30, 30, 17), (16, 28, 28, 16) })
        {
            var other = Same(inC, h, w, outC);
            Winograd.WeightGradient(Check.Random(other.InputLength, 63), Check.Random(other.OutputLength, 64), new float[other.WeightLength], 1, other);
            var again = Check.Random(g.WeightLength, 65);
            Winograd.WeightGradient(x, dy, again, batch, g);
            Assert.True(first.AsSpan().SequenceEqual(again), $"after {inC}→{outC} on {h}×{w}");
        }
        var none = Check.Random(g.WeightLength, 66);
        Winograd.WeightGradient(default, default, none, 0, g);
        Assert.All(none, v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(16, 28, 16, 2)] // ResNet-mini's blocks: Winograd forward, input and weight gradients
    [InlineData(8, 14, 16, 3)]  // forward and weight gradient by Winograd, input gradient (16 → 8) by the shifted rows
    [InlineData(3, 14, 16, 1)]  // neither
    public void Convolution_ThroughItsDispatch_MatchesReference(int inC, int side, int outC, int batch)
    {
        var g = Same(inC, side, side, outC);
        float[] x = Check.Random(batch * g.InputLength, 41), wt = Check.Random(g.WeightLength, 42, 0.5f), b = Check.Random(outC, 43), dy = Check.Random(batch * g.OutputLength, 44);
        var y = new float[batch * g.OutputLength];
        Convolution.Forward(x, wt, b, y, batch, g, relu: true);
        var expected = Array.ConvertAll(Reference.Conv2D(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(b), batch, g), v => Math.Max(v, 0));
        Near(expected, y, Reference.Conv2D(Abs(x), Abs(wt), Abs(b), batch, g), Tolerance(4), "Y");
        // Ending a residual block: the sum (and the ReLU after it) written as the outputs are stored, with the bits of the
        // convolution followed by Elementwise.Add.
        var residual = Check.Random(batch * g.OutputLength, 49);
        var plain = new float[batch * g.OutputLength];
        Convolution.Forward(x, wt, b, plain, batch, g);
        foreach (bool relu in new[] { true, false })
        {
            var want = new float[plain.Length];
            Elementwise.Add(plain, residual, want, relu);
            var ended = Check.Random(batch * g.OutputLength, 50);
            Convolution.Forward(x, wt, b, ended, batch, g, relu, residual);
            Assert.True(want.AsSpan().SequenceEqual(ended), relu ? "the residual sum and its ReLU" : "the residual sum");
        }
        Assert.Throws<ArgumentException>(() => Convolution.Forward(x, wt, b, new float[batch * g.OutputLength], batch, g, residual: new float[batch * g.OutputLength - 1]));
        float[] gw = new float[g.WeightLength], gb = new float[outC], dx = new float[batch * g.InputLength];
        Convolution.Backward(x, wt, dy, gw, gb, dx, batch, g);
        double[] ew = new double[g.WeightLength], eb = new double[outC];
        var ex = Reference.Conv2DBackward(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(dy), batch, g, ew, eb);
        var magnitude = Reference.Conv2DBackward(Abs(x), Abs(wt), Abs(dy), batch, g, new double[g.WeightLength], new double[outC]);
        Near(ex, dx, magnitude, Tolerance(4), "dX");
        NearInNorm(ew, gw, WeightTolerance(4), "dW");
        Check.Close(eb, gb, 1e-5, 1e-4, "db");
        // dX taking a skip's gradient and the ReLU of X as it is written: the bits of the passes over dX afterwards.
        var skip = Check.Random(batch * g.InputLength, 48);
        foreach (bool withSkip in new[] { true, false })
        {
            float[] tw = new float[g.WeightLength], tb = new float[outC], tx = new float[batch * g.InputLength];
            Convolution.Backward(x, wt, dy, tw, tb, tx, batch, g, withSkip ? skip : default, throughInputReLU: true);
            var want = (float[])dx.Clone();
            if (withSkip) Elementwise.AddThroughReLU(skip, x, want);
            else Activations.ReLUBackward(x, want, want);
            Assert.True(want.AsSpan().SequenceEqual(tx) && gw.AsSpan().SequenceEqual(tw) && gb.AsSpan().SequenceEqual(tb), withSkip ? "dX with the skip and the ReLU" : "dX through the ReLU");
        }
        float[] sx = new float[batch * g.InputLength];
        Convolution.Backward(x, wt, dy, new float[g.WeightLength], new float[outC], sx, batch, g, skip);
        var summed = (float[])dx.Clone();
        Elementwise.Add(skip, summed);
        Assert.True(summed.AsSpan().SequenceEqual(sx), "dX with the skip");
        Assert.Throws<ArgumentException>(() => Convolution.Backward(x, wt, dy, new float[g.WeightLength], new float[outC], default, batch, g, throughInputReLU: true));
        // Through a max pooling, with and without dX (a first layer): BackwardPooled routes each sample's dY and gives the
        // bits of Backward given the routed dY.
        if (side % 2 != 0) return;
        int pooled = outC * (side / 2) * (side / 2);
        float[] py = new float[batch * pooled], argmax = new float[batch * pooled], pdy = Check.Random(batch * pooled, 45), routed = new float[batch * g.OutputLength];
        Convolution.ForwardPooled(x, wt, b, py, batch, g, relu: true, argmax);
        Pooling.MaxBackwardChosen(pdy, argmax, py, routed, batch * outC, side, side, side / 2, side / 2, relu: true);
        foreach (bool withDx in new[] { true, false })
        {
            float[] rw = new float[g.WeightLength], rb = new float[outC], rx = new float[batch * g.InputLength];
            Convolution.Backward(x, wt, routed, rw, rb, withDx ? rx : default, batch, g);
            float[] qw = Check.Random(g.WeightLength, 46), qb = Check.Random(outC, 47), qx = new float[batch * g.InputLength];
            Convolution.BackwardPooled(x, wt, pdy, argmax, py, relu: true, new float[batch * g.OutputLength], qw, qb, withDx ? qx : default, batch, g);
            Assert.True(rw.AsSpan().SequenceEqual(qw) && rb.AsSpan().SequenceEqual(qb) && rx.AsSpan().SequenceEqual(qx), withDx ? "pooled, with dX" : "pooled, without dX");
        }
    }

    [Fact]
    public void Supports_OnlySameSizeThreeByThree()
    {
        Assert.True(Winograd.Supports(Same(16, 28, 28, 16)));
        Assert.False(Winograd.Supports(new Conv2DGeometry(16, 28, 28, 16, 3, 3, 2, 1, 1, 14, 14))); // stride 2
        Assert.False(Winograd.Supports(new Conv2DGeometry(16, 28, 28, 16, 3, 3, 1, 0, 0, 26, 26))); // no padding
        Assert.False(Winograd.Supports(new Conv2DGeometry(16, 28, 28, 16, 5, 5, 1, 2, 2, 28, 28))); // 5×5
        var ex = Assert.Throws<ArgumentException>(() => Winograd.Forward(new float[16 * 26 * 26 * 0 + 1], new float[1], new float[1], new float[1], 0,
            new Conv2DGeometry(1, 28, 28, 1, 3, 3, 1, 0, 0, 26, 26)));
        Assert.Equal("g", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Winograd.Forward(new float[9], new float[9], new float[1], new float[9], 1, Same(1, 3, 3, 1), tile: 3));
    }

    [Fact]
    public void Samples_DoNotDependOnTheBatch()
    {
        // Each sample alone gives the bits it gives within a batch: the batch may be split across threads.
        var g = Same(16, 28, 28, 16);
        const int batch = 3;
        float[] x = Check.Random(batch * g.InputLength, 21), wt = Check.Random(g.WeightLength, 22, 0.5f), b = Check.Random(16, 23);
        var all = new float[batch * g.OutputLength];
        Winograd.Forward(x, wt, b, all, batch, g, relu: true);
        for (int n = 0; n < batch; n++)
        {
            var one = new float[g.OutputLength];
            Winograd.Forward(x.AsSpan(n * g.InputLength, g.InputLength), wt, b, one, 1, g, relu: true);
            Assert.True(one.AsSpan().SequenceEqual(all.AsSpan(n * g.OutputLength, g.OutputLength)), $"sample {n}");
        }
    }

    [Fact]
    public void EntryPoints_AfterTheFirstCall_AllocateNothing()
    {
        var g = Same(16, 28, 28, 16);
        float[] x = Check.Random(2 * g.InputLength, 31), wt = Check.Random(g.WeightLength, 32), b = Check.Random(16, 33), y = new float[2 * g.OutputLength];
        Assert.Equal(0, Check.SteadyStateAllocation(() => Winograd.Forward(x, wt, b, y, 2, g, relu: true)));
        Assert.Equal(0, Check.SteadyStateAllocation(() => Winograd.InputGradient(wt, y, x, 2, g)));
        Assert.Equal(0, Check.SteadyStateAllocation(() => Winograd.WeightGradient(x, y, wt, 2, g)));
    }
}
