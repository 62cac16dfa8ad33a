using System;
using System.Runtime.Intrinsics;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// Convolution and pooling: the fast kernels against their double-precision twins, and the twins' backward passes
/// against central finite differences of their forward passes.
/// </summary>
public class ConvolutionTests
{
    // inC, H, W, outC, kh, kw, stride, padTop, padLeft: 1×1, 3×3 "same", 5×5 valid, rectangular, strided, padded and
    // strided with unused columns, a kernel as large as the padded input, "same" with an even kernel, and channel counts
    // that leave partial register blocks.
    public static TheoryData<int[]> Geometries => new()
    {
        new[] { 3, 5, 4, 7, 1, 1, 1, 0, 0 },
        new[] { 2, 6, 6, 8, 3, 3, 1, 1, 1 },
        new[] { 1, 9, 8, 5, 5, 5, 1, 0, 0 },
        new[] { 2, 7, 9, 3, 2, 4, 1, 0, 1 },
        new[] { 3, 9, 9, 4, 3, 3, 2, 1, 1 },
        new[] { 2, 8, 8, 13, 3, 3, 3, 0, 0 },
        new[] { 1, 3, 3, 2, 5, 5, 1, 1, 1 },
        new[] { 2, 6, 5, 3, 2, 2, 1, 0, 0 },
        new[] { 4, 6, 6, 6, 4, 4, 1, 1, 1 },
        // Whole blocks of 16 filters and patches of 16 taps or more: the weight gradient turned around (patches of 18
        // and 27 taps, full and partial blocks of six; 64 filters, whose turned dY has padded rows).
        new[] { 2, 7, 6, 16, 3, 3, 1, 1, 1 },
        new[] { 3, 6, 5, 32, 3, 3, 1, 1, 0 },
        new[] { 4, 5, 5, 64, 2, 2, 1, 0, 0 },
        new[] { 2, 5, 10, 16, 3, 3, 1, 1, 1 }, // rows of 10 outputs: dY turned in two overlapping blocks of 8
        new[] { 3, 4, 17, 32, 3, 3, 1, 1, 1 }, // rows of 17: three blocks, the last overlapping
        // Padding wider than the kernel less one: dX cannot be the flipped kernel's convolution, and is folded back.
        new[] { 2, 4, 4, 3, 2, 2, 1, 2, 2 },
        // Blocks of 8 filters and patches of nine taps or fewer: the weight and bias gradients channels-last (one and
        // two blocks; a patch of 4 and 8 taps fills the nine accumulators by repeating its last).
        new[] { 1, 9, 10, 8, 3, 3, 1, 1, 1 },
        new[] { 2, 8, 9, 16, 2, 2, 1, 0, 0 },
        new[] { 1, 12, 12, 8, 2, 2, 1, 1, 1 },
        // Padding as wide as the kernel: outputs wider than the input plus one side's padding, so padded rows cannot
        // wrap (a 1×1 kernel; and nine-tap channels-last gradients over rows of 11 outputs); even outputs that pool, with
        // dX the flipped kernel's convolution (padding K − 1) and folded back (padding K, more dX than pooled dY a sample).
        new[] { 1, 14, 14, 4, 1, 1, 1, 1, 1 },
        new[] { 1, 8, 8, 8, 2, 2, 1, 2, 2 },
        new[] { 4, 6, 6, 8, 3, 3, 1, 2, 2 },
        new[] { 4, 5, 5, 4, 2, 2, 1, 2, 2 },
    };

    internal static Conv2DGeometry Geometry(int[] v)
    {
        int outH = (v[1] + 2 * v[7] - v[4]) / v[6] + 1, outW = (v[2] + 2 * v[8] - v[5]) / v[6] + 1;
        return new Conv2DGeometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], outH, outW);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Forward_MatchesReference(int[] sizes)
    {
        var g = Geometry(sizes);
        const int batch = 3;
        float[] x = Check.Random(batch * g.InputLength, 1), w = Check.Random(g.WeightLength, 2), b = Check.Random(g.OutChannels, 3);
        var y = new float[batch * g.OutputLength];
        Convolution.Forward(x, w, b, y, batch, g);
        var expected = Reference.Conv2D(Check.ToDouble(x), Check.ToDouble(w), Check.ToDouble(b), batch, g);
        Check.Close(expected, y, 1e-5, 1e-5 * g.Patch, "Y");

        // ReLU applied as the outputs are stored; the buffer's neighbours are left alone.
        var withRoom = new float[batch * g.OutputLength + 1];
        withRoom[^1] = 42f;
        Convolution.Forward(x, w, b, withRoom, batch, g, relu: true);
        Check.Close(Array.ConvertAll(expected, v => Math.Max(v, 0)), withRoom.AsSpan(0, y.Length), 1e-5, 1e-5 * g.Patch, "max(0, Y)");
        Assert.Equal(42f, withRoom[^1]);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Backward_MatchesReference(int[] sizes)
    {
        var g = Geometry(sizes);
        const int batch = 3;
        float[] x = Check.Random(batch * g.InputLength, 4), w = Check.Random(g.WeightLength, 5), dy = Check.Random(batch * g.OutputLength, 6);
        var gw = Check.Random(g.WeightLength, 7); // overwritten, not added to
        var gb = Check.Random(g.OutChannels, 8);
        var dx = Check.Random(batch * g.InputLength, 9);
        Convolution.Backward(x, w, dy, gw, gb, dx, batch, g);

        var ew = new double[g.WeightLength];
        var eb = new double[g.OutChannels];
        var ex = Reference.Conv2DBackward(Check.ToDouble(x), Check.ToDouble(w), Check.ToDouble(dy), batch, g, ew, eb);
        Check.Close(ew, gw, 1e-5, 1e-5 * batch * g.Positions, "dW");
        Check.Close(eb, gb, 1e-5, 1e-5 * batch * g.Positions, "db");
        Check.Close(ex, dx, 1e-5, 1e-5 * g.OutChannels * g.KernelHeight * g.KernelWidth, "dX");

        // A first layer asks for no input gradient.
        Convolution.Backward(x, w, dy, gw, gb, default, batch, g);
        Check.Close(ew, gw, 1e-5, 1e-5 * batch * g.Positions, "dW without dX");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ReferenceBackward_MatchesFiniteDifferences(int[] sizes)
    {
        var g = Geometry(sizes);
        const int batch = 2;
        double[] x = Check.ToDouble(Check.Random(batch * g.InputLength, 10)), w = Check.ToDouble(Check.Random(g.WeightLength, 11));
        double[] b = Check.ToDouble(Check.Random(g.OutChannels, 12)), r = Check.ToDouble(Check.Random(batch * g.OutputLength, 13));
        // L = Σ r·conv(x, w, b), so dL/dY = r.
        double Loss(double[] xv, double[] wv, double[] bv)
        {
            var y = Reference.Conv2D(xv, wv, bv, batch, g);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += r[i] * y[i];
            return s;
        }
        var gw = new double[g.WeightLength];
        var gb = new double[g.OutChannels];
        var gx = Reference.Conv2DBackward(x, w, r, batch, g, gw, gb);
        Check.Close(Check.FiniteDifferences(v => Loss(v, w, b), x), gx, 1e-6, 1e-7, "dX");
        Check.Close(Check.FiniteDifferences(v => Loss(x, v, b), w), gw, 1e-6, 1e-7, "dW");
        Check.Close(Check.FiniteDifferences(v => Loss(x, w, v), b), gb, 1e-6, 1e-7, "db");
    }

    // The lane-wise weight gradient of 3×3 stride-1 convolutions (partial sums along the positions, a lane each): odd
    // and even sides, "same" and valid padding, 1, 3, 16 and 17 channels in, 1, 3, 16 and 17 filters (blocks of three
    // filters, and of two and one at the end), batches of 1 and 3, at every vector width (a width this CPU lacks runs in
    // software). Each dW entry is held to a tolerance relative to Σ|x|·|dY| over the sums it takes, in double precision.
    public static TheoryData<int, int, int, int, int, int, int> LaneCases()
    {
        var data = new TheoryData<int, int, int, int, int, int, int>();
        foreach (int bits in new[] { 128, 256, 512 })
            foreach (var (inC, h, w, outC, pad, batch) in new[]
                     {
                         (1, 5, 5, 1, 1, 1), (3, 7, 6, 16, 1, 3), (16, 28, 28, 16, 1, 1), (16, 9, 11, 17, 1, 3), (17, 8, 8, 3, 1, 1),
                         (3, 14, 13, 17, 0, 1), (16, 6, 9, 4, 0, 3), (3, 1, 1, 2, 1, 2),
                     })
                data.Add(bits, inC, h, w, outC, pad, batch);
        return data;
    }

    [Theory]
    [MemberData(nameof(LaneCases))]
    public void LaneGradients_MatchReference(int bits, int inC, int h, int w, int outC, int pad, int batch)
    {
        var g = new Conv2DGeometry(inC, h, w, outC, 3, 3, 1, pad, pad, h + 2 * pad - 2, w + 2 * pad - 2);
        float[] x = Check.Random(batch * g.InputLength, 21), dy = Check.Random(batch * g.OutputLength, 22);
        int lanes = bits / 32, wide = g.WidePositions, wp = g.PaddedWidth, hp = g.PaddedHeight, patch = g.Patch;
        // Each sample padded, and its dY in the wide layout (rows of the padded width, zero past the outputs), as the
        // backward pass lays them out.
        var sums = new float[outC * patch * lanes];
        for (int n = 0; n < batch; n++)
        {
            var padded = new float[g.PaddedLength];
            for (int c = 0; c < inC; c++)
                for (int r = 0; r < h; r++)
                    for (int col = 0; col < w; col++)
                        padded[(c * hp + r + pad) * wp + col + pad] = x[((n * inC + c) * h + r) * w + col];
            var wideDy = new float[outC * wide];
            for (int f = 0; f < outC; f++)
                for (int r = 0; r < g.OutHeight; r++)
                    for (int col = 0; col < g.OutWidth; col++)
                        wideDy[f * wide + r * wp + col] = dy[((n * outC + f) * g.OutHeight + r) * g.OutWidth + col];
            switch (bits)
            {
                case 512: Convolution.LaneGradients<Width512, Vector512<float>>(padded, g.RowOffsets!, patch, wideDy, wide, wide, sums, outC); break;
                case 256: Convolution.LaneGradients<Width256, Vector256<float>>(padded, g.RowOffsets!, patch, wideDy, wide, wide, sums, outC); break;
                default: Convolution.LaneGradients<Width128, Vector128<float>>(padded, g.RowOffsets!, patch, wideDy, wide, wide, sums, outC); break;
            }
        }
        var gw = new float[g.WeightLength + 1];
        gw[^1] = 42f;
        switch (bits)
        {
            case 512: Convolution.SumLanes<Width512, Vector512<float>>(sums, gw, g.WeightLength); break;
            case 256: Convolution.SumLanes<Width256, Vector256<float>>(sums, gw, g.WeightLength); break;
            default: Convolution.SumLanes<Width128, Vector128<float>>(sums, gw, g.WeightLength); break;
        }
        Assert.Equal(42f, gw[^1]);

        var ew = new double[g.WeightLength];
        Reference.Conv2DBackward(Check.ToDouble(x), new double[g.WeightLength], Check.ToDouble(dy), batch, g, ew, new double[outC]);
        var magnitude = new double[g.WeightLength];
        Reference.Conv2DBackward(Array.ConvertAll(x, v => (double)Math.Abs(v)), new double[g.WeightLength], Array.ConvertAll(dy, v => (double)Math.Abs(v)), batch, g,
            magnitude, new double[outC]);
        for (int i = 0; i < ew.Length; i++)
            if (!(Math.Abs(gw[i] - ew[i]) <= 1e-5 * magnitude[i] + 1e-30))
                Assert.Fail($"{bits}-bit dW[{i}]: expected {ew[i]:R}, got {gw[i]:R} (|diff| {Math.Abs(gw[i] - ew[i]):E3}, magnitude {magnitude[i]:E3}).");
    }

    // Through the public backward pass (the lane-wise weight gradient where this CPU has AVX-512 and the filters do not
    // fill the turned product's pairs of vectors), at this CPU's width, with dX, the weight and bias gradients
    // overwritten, not added to.
    [Theory]
    [InlineData(3, 7, 6, 16, 1, 3)]
    [InlineData(16, 28, 28, 16, 1, 2)]
    [InlineData(16, 9, 11, 17, 1, 3)]
    [InlineData(17, 8, 8, 3, 0, 1)]
    [InlineData(8, 14, 13, 8, 1, 3)]
    public void Backward_3x3_MatchesReference(int inC, int h, int w, int outC, int pad, int batch)
    {
        var g = new Conv2DGeometry(inC, h, w, outC, 3, 3, 1, pad, pad, h + 2 * pad - 2, w + 2 * pad - 2);
        float[] x = Check.Random(batch * g.InputLength, 31), wt = Check.Random(g.WeightLength, 32), dy = Check.Random(batch * g.OutputLength, 33);
        float[] gw = Check.Random(g.WeightLength, 34), gb = Check.Random(outC, 35), dx = new float[batch * g.InputLength];
        Convolution.Backward(x, wt, dy, gw, gb, dx, batch, g);
        var ew = new double[g.WeightLength];
        var eb = new double[outC];
        var ex = Reference.Conv2DBackward(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(dy), batch, g, ew, eb);
        var magnitude = new double[g.WeightLength];
        Reference.Conv2DBackward(Array.ConvertAll(x, v => (double)Math.Abs(v)), new double[g.WeightLength], Array.ConvertAll(dy, v => (double)Math.Abs(v)), batch, g,
            magnitude, new double[outC]);
        for (int i = 0; i < ew.Length; i++)
            if (!(Math.Abs(gw[i] - ew[i]) <= 1e-5 * magnitude[i] + 1e-30))
                Assert.Fail($"dW[{i}]: expected {ew[i]:R}, got {gw[i]:R} (magnitude {magnitude[i]:E3}).");
        Check.Close(eb, gb, 1e-5, 1e-5 * batch * g.Positions, "db");
        Check.Close(ex, dx, 1e-5, 1e-5 * outC * 9, "dX");

        // The same inputs give the same bits, and no dX changes nothing in dW.
        var again = new float[g.WeightLength];
        Convolution.Backward(x, wt, dy, again, new float[outC], default, batch, g);
        Assert.Equal(gw, again);
    }

    [Fact]
    public void Forward_TooShortOutput_ThrowsWithSizes()
    {
        var g = Geometry([1, 4, 4, 2, 3, 3, 1, 1, 1]);
        var ex = Assert.Throws<ArgumentException>(() => Convolution.Forward(new float[16], new float[18], new float[2], new float[31], 1, g));
        Assert.Equal("y", ex.ParamName);
        Assert.Contains("y holds 31 values, but a batch of 1 outputs of 32 needs 32.", ex.Message);
    }

    [Fact]
    public void Geometry_RejectsAnOutputTheInputCannotGive()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Conv2DGeometry(1, 4, 4, 2, 3, 3, 1, 0, 0, 4, 4));
        Assert.Contains("output 4×4", ex.Message);
    }

    // Valid geometries whose output stops short of the far side's padding: the input gradient cannot be the flipped
    // kernel's convolution there, and is folded back.
    [Theory]
    [InlineData(1, 5, 5, 2, 3, 3, 2, 2, 5, 5)]
    [InlineData(2, 7, 7, 3, 3, 3, 0, 0, 3, 3)]
    public void Backward_WithAShortOutput_MatchesReference(int inC, int h, int w, int outC, int kh, int kw, int padTop, int padLeft, int outH, int outW)
    {
        var g = new Conv2DGeometry(inC, h, w, outC, kh, kw, 1, padTop, padLeft, outH, outW);
        const int batch = 2;
        float[] x = Check.Random(batch * g.InputLength, 50), wt = Check.Random(g.WeightLength, 51), dy = Check.Random(batch * g.OutputLength, 52);
        var gw = new float[g.WeightLength];
        var gb = new float[outC];
        var dx = new float[batch * g.InputLength];
        Convolution.Backward(x, wt, dy, gw, gb, dx, batch, g);
        var ew = new double[g.WeightLength];
        var eb = new double[outC];
        var ex = Reference.Conv2DBackward(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(dy), batch, g, ew, eb);
        Check.Close(ew, gw, 1e-5, 1e-4, "dW");
        Check.Close(ex, dx, 1e-5, 1e-4, "dX");
    }

    // Geometries ForwardPooled takes channels-last (whole blocks of a vector or two of filters, small patches, pooled
    // rows of 8 or more): the benchmark's first layer (pooled rows of 14: two overlapping transposes), two blocks of
    // filters, a 2×2 kernel on two channels, no padding (rows of 22 that do not wrap), and a patch too large for it
    // (taken filter-major). Where AVX-512 is accelerated, 16, 32 and 48 filters go in blocks of one or two 512-bit
    // vectors, and 8 or 24 in blocks of one 256-bit vector.
    public static TheoryData<int[]> PooledGeometries => new()
    {
        new[] { 1, 28, 28, 8, 3, 3, 1, 1, 1 },
        new[] { 1, 16, 20, 16, 3, 3, 1, 1, 1 },
        new[] { 2, 17, 17, 8, 2, 2, 1, 0, 0 },
        new[] { 1, 20, 22, 24, 3, 3, 1, 0, 0 },
        new[] { 3, 16, 16, 8, 3, 3, 1, 1, 1 },
        new[] { 4, 16, 18, 32, 3, 3, 1, 1, 1 },
        new[] { 2, 17, 17, 16, 2, 2, 1, 0, 0 },
        new[] { 1, 16, 18, 32, 3, 3, 1, 1, 1 },
        new[] { 1, 18, 18, 48, 3, 3, 1, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    [MemberData(nameof(PooledGeometries))]
    public void ForwardPooled_GivesTheBitsOfConvolutionThenPooling(int[] sizes)
    {
        var g = Geometry(sizes);
        if (g.OutHeight % 2 != 0 || g.OutWidth % 2 != 0)
        {
            var odd = Assert.Throws<ArgumentException>(() => Convolution.ForwardPooled(new float[g.InputLength], new float[g.WeightLength], new float[g.OutChannels], new float[g.OutputLength], 1, g));
            Assert.Contains($"{g.OutHeight}×{g.OutWidth}", odd.Message);
            return;
        }
        const int batch = 3;
        float[] x = Check.Random(batch * g.InputLength, 40), w = Check.Random(g.WeightLength, 41), b = Check.Random(g.OutChannels, 42);
        int ph = g.OutHeight / 2, pw = g.OutWidth / 2, pooled = g.OutChannels * ph * pw;
        foreach (bool relu in new[] { false, true })
        {
            var full = new float[batch * g.OutputLength];
            Convolution.Forward(x, w, b, full, batch, g, relu);
            var expected = new float[batch * pooled];
            Pooling.MaxForward(full, expected, batch * g.OutChannels, g.OutHeight, g.OutWidth, 2, 2, ph, pw);
            var y = Check.Random(batch * pooled, 43); // overwritten
            Convolution.ForwardPooled(x, w, b, y, batch, g, relu);
            Assert.True(expected.AsSpan().SequenceEqual(y), relu ? "with ReLU" : "without");
            // Training's form, which records each window's argmax, and the backward pass from it: the same dX as max
            // pooling's backward from the full output (through the ReLU's gradient too, with relu).
            var argmax = Check.Random(batch * pooled, 44);
            y = Check.Random(batch * pooled, 45);
            Convolution.ForwardPooled(x, w, b, y, batch, g, relu, argmax);
            Assert.True(expected.AsSpan().SequenceEqual(y), relu ? "pooled, with argmax, with ReLU" : "pooled, with argmax");
            var dy = Check.Random(batch * pooled, 46);
            var expectedDx = new float[batch * g.OutputLength];
            Pooling.MaxBackward(full, expected, dy, expectedDx, batch * g.OutChannels, g.OutHeight, g.OutWidth, 2, 2, ph, pw, relu);
            var dx = Check.Random(batch * g.OutputLength, 47); // overwritten
            Pooling.MaxBackwardChosen(dy, argmax, y, dx, batch * g.OutChannels, g.OutHeight, g.OutWidth, ph, pw, relu);
            Assert.True(expectedDx.AsSpan().SequenceEqual(dx), relu ? "dX from argmax, with ReLU" : "dX from argmax");
            // The convolution's backward routing dY itself, a sample at a time: the bits of the two calls in turn.
            float[] ew = new float[g.WeightLength], eb = new float[g.OutChannels], ex = new float[batch * g.InputLength];
            Convolution.Backward(x, w, expectedDx, ew, eb, ex, batch, g);
            float[] gw = Check.Random(g.WeightLength, 48), gb = Check.Random(g.OutChannels, 49), gx = Check.Random(batch * g.InputLength, 50);
            Convolution.BackwardPooled(x, w, dy, argmax, y, relu, new float[batch * g.OutputLength], gw, gb, gx, batch, g);
            Assert.True(ew.AsSpan().SequenceEqual(gw) && eb.AsSpan().SequenceEqual(gb) && ex.AsSpan().SequenceEqual(gx), relu ? "backward routed, with ReLU" : "backward routed");
            // As the generated code calls it: dX written over the pooled gradient, in one buffer.
            var shared = new float[batch * Math.Max(pooled, g.InputLength)];
            dy.CopyTo(shared, 0);
            Convolution.BackwardPooled(x, w, shared.AsSpan(0, batch * pooled), argmax, y, relu, new float[batch * g.OutputLength], gw, gb, shared.AsSpan(0, batch * g.InputLength), batch, g);
            Assert.True(ew.AsSpan().SequenceEqual(gw) && ex.AsSpan().SequenceEqual(shared.AsSpan(0, ex.Length)), relu ? "dX over dY, with ReLU" : "dX over dY");
        }
    }

    // Seeded random geometries: the corners the lists above miss (padding as wide as the kernel, "same" with an even
    // kernel on odd sizes, rows shorter than a vector, channel counts that fill the channels-last blocks). Each runs
    // forward and backward against the reference and, where its output pools, ForwardPooled and BackwardPooled (with dX
    // over the pooled gradient, as the generated code has it) against the plain calls.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomGeometries_MatchReference(int block)
    {
        var random = new SeededRandom((ulong)(1000 + block));
        int Next(int lo, int hi) => lo + random.NextInt(hi - lo + 1); // lo..hi inclusive
        int[] filters = [1, 2, 3, 5, 8, 16, 24, 32];
        int convolved = 0, pooledCases = 0;
        for (int trial = 0; trial < 80; trial++)
        {
            int inC = Next(1, 4), h = Next(1, 13), w = Next(1, 13), outC = filters[Next(0, filters.Length - 1)];
            if (trial % 2 == 0) { h += h % 2; w += w % 2; } // even sides, so that more outputs pool
            int kh = Next(1, Math.Min(5, h + 2)), kw = Next(1, Math.Min(5, w + 2)), stride = Next(1, 3);
            int padTop = Next(0, kh), padLeft = Next(0, kw), outH, outW;
            if (stride == 1 && Next(0, 2) == 0)
            {
                // "same": the extra row and column of an even kernel below and right
                padTop = (kh - 1) / 2; padLeft = (kw - 1) / 2; outH = h; outW = w;
            }
            else
            {
                outH = (h + 2 * padTop - kh) / stride + 1; outW = (w + 2 * padLeft - kw) / stride + 1;
            }
            if (outH <= 0 || outW <= 0 || h + 2 * padTop < kh || w + 2 * padLeft < kw) continue;
            var g = new Conv2DGeometry(inC, h, w, outC, kh, kw, stride, padTop, padLeft, outH, outW);
            convolved++;
            string name = $"[{inC}, {h}, {w}] → {outC} {kh}×{kw}, stride {stride}, padding ({padTop}, {padLeft}), output {outH}×{outW}";
            int batch = Next(1, 3);
            ulong seed = (ulong)(trial * 10);
            float[] x = Check.Random(batch * g.InputLength, seed + 1), wt = Check.Random(g.WeightLength, seed + 2), b = Check.Random(outC, seed + 3);
            float[] dy = Check.Random(batch * g.OutputLength, seed + 4);
            var y = new float[batch * g.OutputLength];
            Convolution.Forward(x, wt, b, y, batch, g);
            Check.Close(Reference.Conv2D(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(b), batch, g), y, 1e-5, 1e-5 * g.Patch, $"Y of {name}");
            float[] gw = new float[g.WeightLength], gb = new float[outC], gx = new float[batch * g.InputLength];
            Convolution.Backward(x, wt, dy, gw, gb, gx, batch, g);
            double[] ew = new double[g.WeightLength], eb = new double[outC];
            var ex = Reference.Conv2DBackward(Check.ToDouble(x), Check.ToDouble(wt), Check.ToDouble(dy), batch, g, ew, eb);
            Check.Close(ew, gw, 1e-5, 1e-5 * batch * g.Positions, $"dW of {name}");
            Check.Close(eb, gb, 1e-5, 1e-5 * batch * g.Positions, $"db of {name}");
            Check.Close(ex, gx, 1e-5, 1e-5 * outC * kh * kw, $"dX of {name}");
            if (outH % 2 != 0 || outW % 2 != 0) continue;

            int ph = outH / 2, pw = outW / 2, pooled = outC * ph * pw;
            pooledCases++;
            var relu = Next(0, 1) == 1;
            var full = new float[batch * g.OutputLength];
            Convolution.Forward(x, wt, b, full, batch, g, relu);
            var expected = new float[batch * pooled];
            Pooling.MaxForward(full, expected, batch * outC, outH, outW, 2, 2, ph, pw);
            float[] pooledY = new float[batch * pooled], argmax = new float[batch * pooled];
            Convolution.ForwardPooled(x, wt, b, pooledY, batch, g, relu, argmax);
            Assert.True(expected.AsSpan().SequenceEqual(pooledY), $"pooled Y of {name}");
            var pooledDy = Check.Random(batch * pooled, seed + 5);
            var routed = new float[batch * g.OutputLength];
            Pooling.MaxBackward(full, expected, pooledDy, routed, batch * outC, outH, outW, 2, 2, ph, pw, relu);
            Convolution.Backward(x, wt, routed, gw, gb, gx, batch, g);
            var shared = new float[batch * Math.Max(pooled, g.InputLength)];
            pooledDy.CopyTo(shared, 0);
            float[] pw2 = new float[g.WeightLength], pb2 = new float[outC];
            Convolution.BackwardPooled(x, wt, shared.AsSpan(0, batch * pooled), argmax, pooledY, relu, new float[batch * g.OutputLength], pw2, pb2,
                shared.AsSpan(0, batch * g.InputLength), batch, g);
            Assert.True(gw.AsSpan().SequenceEqual(pw2) && gb.AsSpan().SequenceEqual(pb2) && gx.AsSpan().SequenceEqual(shared.AsSpan(0, gx.Length)),
                $"pooled backward of {name}");
        }
        // The draws are fixed by the seed; this keeps a change to them from leaving the test with little to check.
        Assert.True(convolved >= 60 && pooledCases >= 8, $"{convolved} geometries, {pooledCases} pooled");
    }

    // planes, H, W, size, stride. The 2×2 windows of stride 2 run 8 and 4 outputs of a row at a time, the last vector
    // overlapping the one before: rows of 2, 3 (scalar), 4, 5, 7 (128-bit), 10, 14, 16 (256-bit) outputs, with and
    // without an odd column or row that no window covers.
    public static TheoryData<int, int, int, int, int> Pools => new()
    {
        { 3, 4, 4, 2, 2 }, { 2, 7, 7, 2, 2 }, { 2, 7, 6, 3, 2 }, { 1, 5, 5, 3, 1 }, { 4, 6, 9, 3, 3 }, { 2, 6, 21, 2, 2 }, { 1, 4, 32, 2, 2 },
        { 1, 6, 8, 2, 2 }, { 3, 8, 10, 2, 2 }, { 2, 14, 14, 2, 2 }, { 2, 28, 28, 2, 2 }, { 1, 5, 29, 2, 2 }, { 2, 9, 15, 2, 2 },
    };

    [Theory]
    [MemberData(nameof(Pools))]
    public void MaxPool_MatchesReference_ForwardAndBackward(int planes, int h, int w, int size, int stride)
    {
        int oh = (h - size) / stride + 1, ow = (w - size) / stride + 1;
        var x = Check.Random(planes * h * w, 20);
        x[1] = x[0]; // a tie: the first maximum wins in both passes
        x[w + 2] = x[3]; // another, across the rows of a window
        x[2 * w + 4] = x[3 * w + 5] = 2f; // and one on the diagonal of a later window
        var y = new float[planes * oh * ow];
        Pooling.MaxForward(x, y, planes, h, w, size, stride, oh, ow);
        Check.Close(Reference.Pool(true, Check.ToDouble(x), planes, h, w, size, stride), y, 0, 0, "Y");

        var dy = Check.Random(y.Length, 21);
        var dx = Check.Random(x.Length, 22);
        Pooling.MaxBackward(x, y, dy, dx, planes, h, w, size, stride, oh, ow);
        Check.Close(Reference.PoolBackward(true, Check.ToDouble(x), Check.ToDouble(dy), planes, h, w, size, stride), dx, 1e-6, 1e-7, "dX");
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public void MaxPoolBackward_OverAReLU_GivesTheBitsOfTheTwoBackwardPasses(int planes, int h, int w, int size, int stride)
    {
        int oh = (h - size) / stride + 1, ow = (w - size) / stride + 1;
        // A ReLU's output: about half zero, so some windows are all zero (their maximum is 0, a tie everywhere).
        var x = Check.Random(planes * h * w, 30);
        for (int i = 0; i < x.Length; i++) x[i] = Math.Max(x[i] - 0.3f, 0f);
        Array.Clear(x, 0, Math.Min(x.Length, 2 * w)); // the first rows' windows certainly all zero
        var y = new float[planes * oh * ow];
        Pooling.MaxForward(x, y, planes, h, w, size, stride, oh, ow);
        var dy = Check.Random(y.Length, 31);
        var expected = new float[x.Length];
        Pooling.MaxBackward(x, y, dy, expected, planes, h, w, size, stride, oh, ow);
        Activations.ReLUBackward(x, expected, expected);
        var fused = Check.Random(x.Length, 32); // overwritten
        Pooling.MaxBackward(x, y, dy, fused, planes, h, w, size, stride, oh, ow, relu: true);
        Assert.True(expected.AsSpan().SequenceEqual(fused), "fused ReLU backward");
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public void AvgPool_MatchesReference_ForwardAndBackward(int planes, int h, int w, int size, int stride)
    {
        int oh = (h - size) / stride + 1, ow = (w - size) / stride + 1;
        var x = Check.Random(planes * h * w, 23);
        var y = new float[planes * oh * ow];
        Pooling.AverageForward(x, y, planes, h, w, size, stride, oh, ow);
        Check.Close(Reference.Pool(false, Check.ToDouble(x), planes, h, w, size, stride), y, 1e-6, 1e-7, "Y");

        var dy = Check.Random(y.Length, 24);
        var dx = Check.Random(x.Length, 25);
        Pooling.AverageBackward(dy, dx, planes, h, w, size, stride, oh, ow);
        Check.Close(Reference.PoolBackward(false, Check.ToDouble(x), Check.ToDouble(dy), planes, h, w, size, stride), dx, 1e-6, 1e-7, "dX");
    }

    [Theory]
    [MemberData(nameof(Pools))]
    public void ReferencePoolBackward_MatchesFiniteDifferences(int planes, int h, int w, int size, int stride)
    {
        // Random inputs have no ties, so max pooling is differentiable at them.
        double[] x = Check.ToDouble(Check.Random(planes * h * w, 26));
        int outputs = planes * ((h - size) / stride + 1) * ((w - size) / stride + 1);
        double[] r = Check.ToDouble(Check.Random(outputs, 27));
        foreach (bool max in new[] { true, false })
        {
            double Loss(double[] v)
            {
                var y = Reference.Pool(max, v, planes, h, w, size, stride);
                double s = 0;
                for (int i = 0; i < y.Length; i++) s += r[i] * y[i];
                return s;
            }
            Check.Close(Check.FiniteDifferences(Loss, x), Reference.PoolBackward(max, x, r, planes, h, w, size, stride), 1e-6, 1e-7, max ? "max dX" : "avg dX");
        }
    }

    [Fact]
    public void GlobalAvgPool_AveragesEachPlane_AndSpreadsTheGradient()
    {
        const int planes = 3, area = 10;
        var x = Check.Random(planes * area, 28);
        var y = new float[planes];
        Pooling.GlobalAverageForward(x, y, planes, area);
        var expected = Reference.Pool(false, Check.ToDouble(x), planes, 1, area, 1, 1);
        for (int p = 0; p < planes; p++)
        {
            double mean = 0;
            for (int i = 0; i < area; i++) mean += expected[p * area + i] / area;
            Assert.Equal(mean, y[p], 1e-6);
        }
        var dx = new float[planes * area];
        Pooling.GlobalAverageBackward([1f, 2f, 3f], dx, planes, area);
        Assert.Equal(0.1f, dx[0], 1e-7);
        Assert.Equal(0.3f, dx[^1], 1e-7);
        // Through the ReLU whose output X is (zeros, negatives and a NaN among it): the bits of ReLUBackward afterwards.
        x[3] = 0f;
        x[7] = float.NaN;
        var want = (float[])dx.Clone();
        Activations.ReLUBackward(x, want, want);
        var through = Check.Random(planes * area, 29);
        Pooling.GlobalAverageBackward([1f, 2f, 3f], through, planes, area, reluOutput: x);
        Assert.Equal(want, through);
        Assert.Contains(0f, through);
        Assert.Throws<ArgumentException>(() => Pooling.GlobalAverageBackward([1f, 2f, 3f], through, planes, area, reluOutput: x.AsSpan(1)));
    }
}
