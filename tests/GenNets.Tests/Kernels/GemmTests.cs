using System;
using System.Linq;
using System.Runtime.Intrinsics;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

public class GemmTests
{
    // Sizes chosen to hit every path: full register blocks, odd rows, k tails, column tails.
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 4, 8 }, { 1, 10, 128 }, { 2, 4, 16 }, { 3, 5, 7 }, { 7, 13, 33 }, { 64, 10, 128 }, { 5, 37, 70 }, { 64, 256, 784 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyTransposed_MatchesReference(int m, int n, int k)
    {
        float[] a = Check.Random(m * k, 1), b = Check.Random(n * k, 2), bias = Check.Random(n, 3);
        var c = new float[m * n];
        Gemm.MultiplyTransposed(a, b, bias, c, m, n, k);
        var expected = Reference.MultiplyTransposed(Check.ToDouble(a), Check.ToDouble(b), Check.ToDouble(bias), m, n, k);
        Check.Close(expected, c, 1e-5, 1e-5 * k, "C");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyAccumulate_InputGradientForm_MatchesReference(int m, int n, int k)
    {
        // C [m, n] = A [m, k] · B [k, n], A row-major.
        float[] a = Check.Random(m * k, 4), b = Check.Random(k * n, 5);
        var c = new float[m * n];
        Gemm.MultiplyAccumulate(a, k, 1, b, c, m, n, k, accumulate: false);
        Check.Close(Reference.Multiply(Check.ToDouble(a), Check.ToDouble(b), m, n, k), c, 1e-5, 1e-5 * k, "C");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyAccumulate_WithBiasAndRowStride_StartsEveryRowFromTheBias(int m, int n, int k)
    {
        // C = A·B + bias when overwriting; with accumulate set the bias is not added (C already holds what it needs).
        // B's rows are laid out PaddedStride(n) apart, the padding NaN: it must never be read.
        float[] a = Check.Random(m * k, 11), b = Check.Random(k * n, 12), bias = Check.Random(n, 13);
        int ldb = Gemm.PaddedStride(n);
        Assert.True(ldb >= n && ldb % 8 == 0 && ldb % 64 != 0, $"stride {ldb} for {n} columns");
        var padded = Enumerable.Repeat(float.NaN, k * ldb).ToArray();
        for (int p = 0; p < k; p++) Array.Copy(b, p * n, padded, p * ldb, n);
        var expected = Reference.Multiply(Check.ToDouble(a), Check.ToDouble(b), m, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) expected[i * n + j] += bias[j];
        var c = Check.Random(m * n, 14); // overwritten
        Gemm.MultiplyAccumulate(a, k, 1, padded, ldb, bias, c, m, n, k, accumulate: false);
        Check.Close(expected, c, 1e-5, 1e-5 * k, "C = A·B + bias");
        Gemm.MultiplyAccumulate(a, k, 1, padded, ldb, bias, c, m, n, k, accumulate: true);
        for (int i = 0; i < expected.Length; i++) expected[i] = 2 * expected[i] - bias[i % n];
        Check.Close(expected, c, 1e-5, 2e-5 * k, "C += A·B");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyAccumulate_WeightGradientForm_AccumulatesTransposedProduct(int m, int n, int k)
    {
        // C [m, n] += Aᵀ·B where A is stored [k, m] (read with strides (1, m)) and B is [k, n].
        float[] at = Check.Random(k * m, 6), b = Check.Random(k * n, 7), c = Check.Random(m * n, 8);
        var expected = Check.ToDouble(c);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++)
                    expected[i * n + j] += (double)at[p * m + i] * b[p * n + j];
        Gemm.MultiplyAccumulate(at, 1, m, b, c, m, n, k, accumulate: true);
        Check.Close(expected, c, 1e-5, 1e-5 * k, "C");
    }

    // Deep products for the packed path at each width: rows past its blocks of six (1, 5, 7, 193), columns past its
    // panels of 64, 16 or 8 (1, 15, 17, 257), depths on both sides of its chunks of 256 steps (255, 256, 257, 1000,
    // 2048), more columns than one block of B (1,100 > 1,024) and more rows than one block of A (400 > 384).
    public static TheoryData<int, int, int, int> WidthsAndDeepShapes()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (int bits in new[] { 128, 256, 512 })
            foreach (var (m, n, k) in new[] { (1, 17, 257), (5, 1, 255), (7, 15, 256), (7, 257, 1000), (64, 64, 2048), (64, 256, 2048), (193, 17, 1000), (193, 257, 256),
                (5, 256, 2048), (193, 64, 255), (400, 1100, 260) })
                data.Add(bits, m, n, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndDeepShapes))]
    public void MultiplyPacked_AtEveryWidth_MatchesReferenceAndTheUnpackedKernelsToTheBit(int bits, int m, int n, int k)
    {
        float[] b = Check.Random(k * n, 31), bias = Check.Random(n, 32), start = Check.Random(m * n, 33);
        foreach (bool transposed in new[] { true, false })
        {
            // A [m, k] stored [k, m] and read with strides (1, m), as a weight gradient reads dYᵀ; or row-major.
            float[] stored = Check.Random(m * k, transposed ? 34UL : 35UL);
            int rowStride = transposed ? 1 : k, colStride = transposed ? m : 1;
            var product = new double[m * n];
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++)
                {
                    double x = stored[i * rowStride + p * colStride];
                    for (int j = 0; j < n; j++) product[i * n + j] += x * b[p * n + j];
                }
            foreach (var (accumulate, withBias) in new[] { (false, false), (false, true), (true, false), (true, true) })
            {
                // Overwritten, C starts from the bias (or zero); accumulated, from C, and the bias is not added.
                var expected = (double[])product.Clone();
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) expected[i * n + j] += accumulate ? start[i * n + j] : withBias ? bias[j] : 0;
                var c = (float[])start.Clone();
                ReadOnlySpan<float> bi = withBias ? bias : default;
                string what = $"C at {bits} bits, A {(transposed ? "transposed" : "row-major")}, {(accumulate ? "accumulated" : "overwritten")}{(withBias ? ", bias" : "")}";
                switch (bits)
                {
                    case 512: Gemm.MultiplyPacked<Width512, Vector512<float>>(stored, rowStride, colStride, b, n, bi, c, m, n, k, accumulate); break;
                    case 256: Gemm.MultiplyPacked<Width256, Vector256<float>>(stored, rowStride, colStride, b, n, bi, c, m, n, k, accumulate); break;
                    default: Gemm.MultiplyPacked<Width128, Vector128<float>>(stored, rowStride, colStride, b, n, bi, c, m, n, k, accumulate); break;
                }
                Check.Close(expected, c, 1e-5, 1e-5 * k, what);

                // The unpacked kernels at the same width, on the columns they take in whole vectors: the same sums in the
                // same order, so the same bits.
                var unpacked = (float[])start.Clone();
                int done = bits switch
                {
                    512 => Gemm.MultiplyAccumulate<Width512, Vector512<float>>(stored, rowStride, colStride, b, n, bi, unpacked, m, n, k, accumulate, first: 0),
                    256 => Gemm.MultiplyAccumulate<Width256, Vector256<float>>(stored, rowStride, colStride, b, n, bi, unpacked, m, n, k, accumulate, first: 0),
                    _ => Gemm.MultiplyAccumulate<Width128, Vector128<float>>(stored, rowStride, colStride, b, n, bi, unpacked, m, n, k, accumulate, first: 0),
                };
                Assert.Equal(n - n % (bits / 32), done);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < done; j++)
                        if (BitConverter.SingleToInt32Bits(c[i * n + j]) != BitConverter.SingleToInt32Bits(unpacked[i * n + j]))
                            Assert.Fail($"{what}[{i}, {j}]: packed {c[i * n + j]:R}, unpacked {unpacked[i * n + j]:R}.");
            }
        }
    }

    [Theory]
    [InlineData(193, 17, 1000)] // a scalar column past the vectors, for the parts of fewer than six rows
    [InlineData(64, 256, 2048)]
    [InlineData(10, 64, 300)]
    [InlineData(40, 1100, 256)]
    public void MultiplyAccumulate_DeepWeightGradient_GivesTheSameBitsWhicheverRowsACallCovers(int m, int n, int k)
    {
        // dW [m, n] = dYᵀ·X with dY stored [k, m]: a dense layer's backward splits dW's rows (its outputs) across threads,
        // each part reading its columns of dY, and every part must give the bits one call gives, whichever path its
        // number of rows takes.
        float[] dy = Check.Random(k * m, 41), x = Check.Random(k * n, 42), bias = Check.Random(n, 43), start = Check.Random(m * n, 44);
        foreach (bool accumulate in new[] { false, true })
        {
            var whole = (float[])start.Clone();
            Gemm.MultiplyAccumulate(dy, 1, m, x, n, bias, whole, m, n, k, accumulate);
            foreach (int r in new[] { 1, 3, 5, 6, 7, m / 2, m - 1 }.Where(r => r > 0 && r < m).Distinct())
            {
                var split = (float[])start.Clone();
                Gemm.MultiplyAccumulate(dy, 1, m, x, n, bias, split.AsSpan(0, r * n), r, n, k, accumulate);
                Gemm.MultiplyAccumulate(dy.AsSpan(r), 1, m, x, n, bias, split.AsSpan(r * n), m - r, n, k, accumulate);
                for (int e = 0; e < whole.Length; e++)
                    if (BitConverter.SingleToInt32Bits(whole[e]) != BitConverter.SingleToInt32Bits(split[e]))
                        Assert.Fail($"Rows [0, {r}) and [{r}, {m}), {(accumulate ? "accumulated" : "overwritten")}: C[{e / n}, {e % n}] is {split[e]:R}, one call gives {whole[e]:R}.");
            }
        }
    }

    [Fact]
    public void MultiplyAccumulate_DeepProduct_AllocatesNothingOnceWarm()
    {
        // The packed panels live in a per-thread buffer.
        const int m = 70, n = 130, k = 300;
        float[] dy = Check.Random(k * m, 51), x = Check.Random(k * n, 52);
        var c = new float[m * n];
        Assert.Equal(0, Check.SteadyStateAllocation(() => Gemm.MultiplyAccumulate(dy, 1, m, x, c, m, n, k, accumulate: false)));
    }

    // Strip shapes: one partial strip, exact strips, a partial group of strips, more than one group, row counts that
    // leave 1 to 5 rows of W for the last block, and a k deep enough to be split into two passes over the strips.
    public static TheoryData<int, int, int> StripShapes => new()
    {
        { 1, 1, 1 }, { 3, 5, 7 }, { 16, 6, 8 }, { 17, 7, 9 }, { 32, 256, 784 }, { 40, 13, 33 }, { 64, 10, 128 }, { 80, 128, 256 }, { 33, 11, 1500 }, { 100, 6, 4200 },
    };

    [Theory]
    [MemberData(nameof(StripShapes))]
    public void MultiplyStrips_MatchesReference(int m, int n, int k)
    {
        float[] x = Check.Random(m * k, 11), w = Check.Random(n * k, 12), bias = Check.Random(n, 13);
        var strips = new float[Gemm.StripLength(m, k)];
        var result = new float[Gemm.StripLength(m, n)];
        var y = new float[m * n];
        Gemm.PackStrips(x, strips, m, k);
        Gemm.MultiplyStrips(w, bias, strips, result, m, n, k);
        Gemm.UnpackStrips(result, y, m, n);
        var expected = Reference.MultiplyTransposed(Check.ToDouble(x), Check.ToDouble(w), Check.ToDouble(bias), m, n, k);
        Check.Close(expected, y, 1e-5, 1e-5 * k, "Y");
    }

    [Theory]
    [InlineData(5, 9, 30)]
    [InlineData(40, 9, 30)]
    [InlineData(13, 32, 1)] // the shallow products: Wᵀ laid out per call (k ≤ 128, n ≥ 32), whole and partial 8×8 blocks
    [InlineData(40, 50, 7)]
    [InlineData(64, 192, 64)]
    [InlineData(33, 64, 128)]
    [InlineData(33, 64, 129)] // one deeper: the strips again
    public void DenseForward_MatchesReference_OnBothSidesOfTheStripThreshold(int m, int n, int k)
    {
        float[] x = Check.Random(m * k, 18), w = Check.Random(n * k, 19), bias = Check.Random(n, 20);
        var y = new float[m * n];
        Gemm.DenseForward(x, w, bias, y, m, n, k);
        Check.Close(Reference.MultiplyTransposed(Check.ToDouble(x), Check.ToDouble(w), Check.ToDouble(bias), m, n, k), y, 1e-5, 1e-5 * k, "Y");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(8, 8)]
    [InlineData(16, 64)]
    [InlineData(21, 13)] // a part-filled strip, and features past the last whole block of eight
    [InlineData(40, 17)]
    public void StripsUnpack_ToTheRowsTheyWerePackedFrom(int rows, int features)
    {
        var x = Check.Random(rows * features, 26);
        var strips = new float[Gemm.StripLength(rows, features)];
        Gemm.PackStrips(x, strips, rows, features);
        for (int r = 0; r < rows; r++)
            for (int f = 0; f < features; f++)
                Assert.Equal(x[r * features + f], strips[(r / Gemm.StripWidth * features + f) * Gemm.StripWidth + r % Gemm.StripWidth]);
        var back = new float[rows * features];
        Gemm.UnpackStrips(strips, back, rows, features);
        Assert.Equal(x, back);
    }

    [Theory]
    [InlineData(8, 32, 9)]
    [InlineData(7, 48, 13)]
    [InlineData(16, 16, 5)]
    public void IndirectProducts_MatchTheProductsOfTheGatheredRows(int m, int n, int k)
    {
        // Row p of B is the n floats at offsets[p] of one buffer; overlapping rows, as a convolution's are.
        float[] buffer = Check.Random(3 * n + 7 * k + 16, 21), a = Check.Random(m * k, 22), dy = Check.Random(m * n, 23);
        int[] offsets = Enumerable.Range(0, k).Select(p => (p * 7) % (2 * n + 5)).ToArray();
        var rows = new double[k * n];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) rows[p * n + j] = buffer[offsets[p] + j];

        var c = Check.Random(m * n, 24);
        var expected = Reference.Multiply(Check.ToDouble(a), rows, m, n, k);
        for (int i = 0; i < expected.Length; i++) expected[i] += c[i];
        Gemm.MultiplyIndirect(a, buffer, offsets, default, c, m, n, k);
        Check.Close(expected, c, 1e-5, 1e-5 * k, "C += A·B");

        // From a bias instead of C's old values.
        var bias = Check.Random(m, 25);
        var fromBias = Reference.Multiply(Check.ToDouble(a), rows, m, n, k);
        for (int i = 0; i < fromBias.Length; i++) fromBias[i] += bias[i / n];
        Gemm.MultiplyIndirect(a, buffer, offsets, bias, c, m, n, k);
        Check.Close(fromBias, c, 1e-5, 1e-5 * k, "C = bias + A·B");

        var dw = new float[m * k];
        Gemm.MultiplyTransposedIndirect(dy, buffer, offsets, dw, m, k, n, accumulate: false);
        Check.Close(Reference.MultiplyTransposed(Check.ToDouble(dy), rows, default, m, k, n), dw, 1e-5, 1e-5 * n, "C = A·Bᵀ");
    }

    [Fact]
    public void PackStrips_LaysSamplesSideBySideAndZeroesThePadding()
    {
        const int rows = 19, features = 11;
        var x = Check.Random(rows * features, 14);
        var strips = new float[Gemm.StripLength(rows, features)];
        System.Array.Fill(strips, float.NaN);
        Gemm.PackStrips(x, strips, rows, features);
        Assert.Equal(2 * 16 * features, strips.Length);
        for (int s = 0; s < 2; s++)
            for (int f = 0; f < features; f++)
                for (int c = 0; c < 16; c++)
                {
                    int r = 16 * s + c;
                    Assert.Equal(r < rows ? x[r * features + f] : 0f, strips[(s * features + f) * 16 + c]);
                }
        var back = new float[rows * features];
        Gemm.UnpackStrips(strips, back, rows, features);
        Assert.Equal(x, back);
    }

    [Fact]
    public void MultiplyStrips_GivesEachSampleTheSameBitsWhateverItsBatch()
    {
        // A sample's output is its bias plus the products in order of k, whichever strip and group it sits in.
        const int n = 37, k = 300;
        float[] w = Check.Random(n * k, 15), bias = Check.Random(n, 16), x = Check.Random(70 * k, 17);
        float[] Run(int rows, int first)
        {
            var strips = new float[Gemm.StripLength(rows, k)];
            var result = new float[Gemm.StripLength(rows, n)];
            var y = new float[rows * n];
            Gemm.PackStrips(x.AsSpan(first * k, rows * k), strips, rows, k);
            Gemm.MultiplyStrips(w, bias, strips, result, rows, n, k);
            Gemm.UnpackStrips(result, y, rows, n);
            return y;
        }
        var all = Run(70, 0);
        var some = Run(21, 40);
        Assert.Equal(all.AsSpan(40 * n, 21 * n).ToArray(), some);
    }

    [Fact]
    public void MultiplyStrips_TooShortStrips_ThrowsWithSizes()
    {
        var ex = Assert.Throws<System.ArgumentException>(() => Gemm.MultiplyStrips(new float[6], new float[2], new float[16 * 3], new float[16], 5, 2, 3));
        Assert.Equal("y", ex.ParamName);
        Assert.Contains("y holds 16 values, but the strips of Y [5, 2] needs 32.", ex.Message);
    }

    [Fact]
    public void ColumnSums_SumEachColumn()
    {
        float[] a = [1, 2, 3, 4, 5, 6];
        var sums = new float[] { 9, 9, 9 };
        Gemm.ColumnSums(a, sums, 2, 3);
        Assert.Equal([5f, 7f, 9f], sums);
    }

    [Fact]
    public void MultiplyTransposed_TooShortOutput_ThrowsWithSizes()
    {
        var ex = Assert.Throws<System.ArgumentException>(() => Gemm.MultiplyTransposed(new float[6], new float[6], default, new float[3], 2, 2, 3));
        Assert.Equal("c", ex.ParamName);
        Assert.Contains("c holds 3 values, but C [2, 2] needs 4.", ex.Message);
    }
}
