using System;
using System.Runtime.Intrinsics;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

/// <summary>
/// LayerNorm and BatchNorm: the double-precision twins' gradients against central finite differences, and the fast
/// kernels at every vector width against the twins, with feature and spatial counts that leave a partial last vector;
/// batch statistics combined from chunks; the running statistics; inputs with a large common offset; argument checks.
/// </summary>
public class NormalizationTests
{
    public static TheoryData<int, int> WidthsAndCounts()
    {
        var data = new TheoryData<int, int>();
        foreach (int bits in new[] { 128, 256, 512 })
            foreach (int n in new[] { 1, 7, 17, 33 }) data.Add(bits, n);
        return data;
    }

    private static double Loss(double[] y, double[] w)
    {
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += w[i] * y[i];
        return s;
    }

    // ---------------------------------------------------------------- the twins against finite differences

    [Theory]
    [InlineData(3, 5)]
    [InlineData(2, 1)]
    [InlineData(1, 9)]
    public void LayerNormReference_MatchesFiniteDifferences(int rows, int features)
    {
        double[] x = Check.ToDouble(Check.Random(rows * features, 1, 2f)), gamma = Check.ToDouble(Check.Random(features, 2)),
            beta = Check.ToDouble(Check.Random(features, 3)), w = Check.ToDouble(Check.Random(rows * features, 4));
        double[] dgamma = new double[features], dbeta = new double[features];
        var dx = Reference.LayerNormBackward(x, gamma, w, rows, features, dgamma, dbeta);
        Check.Close(Check.FiniteDifferences(xx => Loss(Reference.LayerNorm(xx, gamma, beta, rows, features), w), x), dx, 1e-5, 1e-7, "dx");
        Check.Close(Check.FiniteDifferences(g => Loss(Reference.LayerNorm(x, g, beta, rows, features), w), gamma), dgamma, 1e-5, 1e-7, "dgamma");
        Check.Close(Check.FiniteDifferences(b => Loss(Reference.LayerNorm(x, gamma, b, rows, features), w), beta), dbeta, 1e-5, 1e-7, "dbeta");
    }

    [Theory]
    [InlineData(3, 2, 4)]
    [InlineData(5, 3, 1)]
    [InlineData(1, 2, 6)]
    public void BatchNormReference_MatchesFiniteDifferences(int batch, int channels, int spatial)
    {
        int n = batch * channels * spatial;
        double[] x = Check.ToDouble(Check.Random(n, 5, 2f)), gamma = Check.ToDouble(Check.Random(channels, 6)),
            beta = Check.ToDouble(Check.Random(channels, 7)), w = Check.ToDouble(Check.Random(n, 8));
        double[] dgamma = new double[channels], dbeta = new double[channels];
        var dx = Reference.BatchNormBackward(x, gamma, w, batch, channels, spatial, dgamma, dbeta);
        Check.Close(Check.FiniteDifferences(xx => Loss(Reference.BatchNorm(xx, gamma, beta, batch, channels, spatial), w), x), dx, 1e-5, 1e-7, "dx");
        Check.Close(Check.FiniteDifferences(g => Loss(Reference.BatchNorm(x, g, beta, batch, channels, spatial), w), gamma), dgamma, 1e-5, 1e-7, "dgamma");
        Check.Close(Check.FiniteDifferences(b => Loss(Reference.BatchNorm(x, gamma, b, batch, channels, spatial), w), beta), dbeta, 1e-5, 1e-7, "dbeta");
    }

    [Fact]
    public void LayerNormReference_NormalisesEachRow()
    {
        // Row (1, 2, 3): mean 2, biased variance 2/3.
        var y = Reference.LayerNorm([1, 2, 3], [1, 1, 1], [0, 0, 0], 1, 3, epsilon: 0);
        double s = Math.Sqrt(2.0 / 3);
        Check.Close([-1 / s, 0, 1 / s], y, 1e-15, 0, "y");
    }

    // ---------------------------------------------------------------- LayerNorm's kernels at every width

    private static void LayerNormAt(int bits, float[] x, float[] gamma, float[] beta, float[] y, double[] mean, double[] rstd, int rows, int features)
    {
        switch (bits)
        {
            case 512: Normalization.LayerNorm<Width512, Vector512<float>>(x, gamma, beta, y, mean, rstd, rows, features, 1e-5f); break;
            case 256: Normalization.LayerNorm<Width256, Vector256<float>>(x, gamma, beta, y, mean, rstd, rows, features, 1e-5f); break;
            default: Normalization.LayerNorm<Width128, Vector128<float>>(x, gamma, beta, y, mean, rstd, rows, features, 1e-5f); break;
        }
    }

    private static void LayerNormBackwardAt(int bits, float[] x, float[] gamma, double[] mean, double[] rstd, float[] dy, float[] dx,
        float[] dgamma, float[] dbeta, int rows, int features, bool accumulate)
    {
        switch (bits)
        {
            case 512: Normalization.LayerNormBackward<Width512, Vector512<float>>(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, features, accumulate); break;
            case 256: Normalization.LayerNormBackward<Width256, Vector256<float>>(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, features, accumulate); break;
            default: Normalization.LayerNormBackward<Width128, Vector128<float>>(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, features, accumulate); break;
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndCounts))]
    public void LayerNorm_AtEveryWidth_MatchesReference(int bits, int features)
    {
        const int rows = 4;
        int n = rows * features;
        float[] x = Check.Random(n, 11, 3f), gamma = Check.Random(features, 12, 2f), beta = Check.Random(features, 13), dy = Check.Random(n, 14);
        float[] y = new float[n], dx = new float[n];
        double[] mean = new double[rows], rstd = new double[rows];
        LayerNormAt(bits, x, gamma, beta, y, mean, rstd, rows, features);
        double[] xd = Check.ToDouble(x), gd = Check.ToDouble(gamma);
        Check.Close(Reference.LayerNorm(xd, gd, Check.ToDouble(beta), rows, features), y, 1e-5, 1e-6, $"y at {bits} bits");

        double[] dgammaExpected = new double[features], dbetaExpected = new double[features];
        for (int j = 0; j < features; j++) { dgammaExpected[j] = 0.5; dbetaExpected[j] = -0.25; }
        var dxExpected = Reference.LayerNormBackward(xd, gd, Check.ToDouble(dy), rows, features, dgammaExpected, dbetaExpected);
        float[] dgamma = new float[features], dbeta = new float[features];
        Array.Fill(dgamma, 0.5f);
        Array.Fill(dbeta, -0.25f);
        LayerNormBackwardAt(bits, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, features, accumulate: true);
        Check.Close(dxExpected, dx, 1e-4, 1e-5, $"dx at {bits} bits");
        Check.Close(dgammaExpected, dgamma, 1e-5, 1e-5, $"dgamma accumulated at {bits} bits");
        Check.Close(dbetaExpected, dbeta, 1e-5, 1e-5, $"dbeta accumulated at {bits} bits");

        // Overwritten: the values held before do not count.
        LayerNormBackwardAt(bits, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, features, accumulate: false);
        for (int j = 0; j < features; j++) { dgammaExpected[j] -= 0.5; dbetaExpected[j] += 0.25; }
        Check.Close(dgammaExpected, dgamma, 1e-5, 1e-5, $"dgamma overwritten at {bits} bits");
        Check.Close(dbetaExpected, dbeta, 1e-5, 1e-5, $"dbeta overwritten at {bits} bits");
    }

    [Fact]
    public void LayerNorm_PublicEntry_KeepsStatisticsForBackward()
    {
        const int rows = 3, features = 20;
        float[] x = Check.Random(rows * features, 21, 4f), gamma = Check.Random(features, 22), beta = Check.Random(features, 23), y = new float[rows * features];
        double[] mean = new double[rows], rstd = new double[rows];
        Normalization.LayerNorm(x, gamma, beta, y, mean, rstd, rows, features);
        for (int r = 0; r < rows; r++)
        {
            double m = 0, v = 0;
            for (int j = 0; j < features; j++) m += x[r * features + j];
            m /= features;
            for (int j = 0; j < features; j++) v += (x[r * features + j] - m) * (x[r * features + j] - m);
            Assert.Equal(m, mean[r], 1e-12);
            Assert.Equal(1 / Math.Sqrt(v / features + 1e-5), rstd[r], 1e-10);
        }
        Check.Close(Reference.LayerNorm(Check.ToDouble(x), Check.ToDouble(gamma), Check.ToDouble(beta), rows, features), y, 1e-5, 1e-6, "y");
    }

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    [InlineData(512)]
    public void LayerNorm_LargeOffsetSmallSpread_NormalisesCorrectly(int bits)
    {
        // x ≈ 1000 ± 0.01: a float mean would be off by up to half a float's step at 1000 (3·10⁻⁵), 0.3% of the spread.
        const int rows = 3, features = 33;
        float[] noise = Check.Random(rows * features, 31, 0.01f), x = new float[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = 1000f + noise[i];
        float[] gamma = new float[features], beta = new float[features], y = new float[x.Length];
        Array.Fill(gamma, 1f);
        double[] mean = new double[rows], rstd = new double[rows];
        LayerNormAt(bits, x, gamma, beta, y, mean, rstd, rows, features);
        var expected = Reference.LayerNorm(Check.ToDouble(x), Check.ToDouble(gamma), Check.ToDouble(beta), rows, features);
        Check.Close(expected, y, 1e-5, 1e-5, $"y at {bits} bits");
        double spread = 0;
        foreach (double v in expected) spread = Math.Max(spread, Math.Abs(v));
        Assert.True(spread > 0.5, "the rows are normalised to unit scale, not flattened by ε");

        float[] dy = Check.Random(x.Length, 32), dx = new float[x.Length], dgamma = new float[features], dbeta = new float[features];
        double[] dgammaExpected = new double[features], dbetaExpected = new double[features];
        var dxExpected = Reference.LayerNormBackward(Check.ToDouble(x), Check.ToDouble(gamma), Check.ToDouble(dy), rows, features, dgammaExpected, dbetaExpected);
        LayerNormBackwardAt(bits, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, features, accumulate: false);
        double scale = 0;
        foreach (double v in dxExpected) scale = Math.Max(scale, Math.Abs(v));
        Check.Close(dxExpected, dx, 1e-4, 1e-5 * scale, $"dx at {bits} bits");
        Check.Close(dgammaExpected, dgamma, 1e-4, 1e-5, $"dgamma at {bits} bits");
    }

    // ---------------------------------------------------------------- BatchNorm's kernels

    private static void NormalizeAt(int bits, ReadOnlySpan<float> x, float[] gamma, float[] beta, double[] mean, double[] rstd, Span<float> y, int samples, int channels, int spatial)
    {
        switch (bits)
        {
            case 512: Normalization.BatchNormNormalize<Width512, Vector512<float>>(x, gamma, beta, mean, rstd, y, samples, channels, spatial); break;
            case 256: Normalization.BatchNormNormalize<Width256, Vector256<float>>(x, gamma, beta, mean, rstd, y, samples, channels, spatial); break;
            default: Normalization.BatchNormNormalize<Width128, Vector128<float>>(x, gamma, beta, mean, rstd, y, samples, channels, spatial); break;
        }
    }

    private static void BackwardDataAt(int bits, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float[] gamma, double[] mean, double[] rstd, double[] coefficients,
        Span<float> dx, int samples, int channels, int spatial)
    {
        switch (bits)
        {
            case 512: Normalization.BatchNormBackwardData<Width512, Vector512<float>>(x, dy, gamma, mean, rstd, coefficients, dx, samples, channels, spatial); break;
            case 256: Normalization.BatchNormBackwardData<Width256, Vector256<float>>(x, dy, gamma, mean, rstd, coefficients, dx, samples, channels, spatial); break;
            default: Normalization.BatchNormBackwardData<Width128, Vector128<float>>(x, dy, gamma, mean, rstd, coefficients, dx, samples, channels, spatial); break;
        }
    }

    private sealed record BatchNormResult(float[] Y, float[] Dx, float[] Dgamma, float[] Dbeta, float[] RunningMean, float[] RunningVariance, double[] Mean, double[] Rstd);

    // A training step's forward and backward over the batch cut into chunks of the given sample counts, at one width
    // (0: the public entries), the partials of each chunk combined in chunk order.
    private static BatchNormResult BatchNormStep(int bits, int[] chunks, float[] x, float[] gamma, float[] beta, float[] dy, float[] runningMean,
        float[] runningVariance, int channels, int spatial)
    {
        int plane = channels * spatial, batch = 0;
        foreach (int c in chunks) batch += c;
        float[] y = new float[batch * plane], dx = new float[batch * plane], dgamma = new float[channels], dbeta = new float[channels];
        float[] rm = (float[])runningMean.Clone(), rv = (float[])runningVariance.Clone();
        double[] partials = new double[chunks.Length * Normalization.PartialLength * channels], mean = new double[channels], rstd = new double[channels];
        int p = Normalization.PartialLength * channels;
        for (int k = 0, first = 0; k < chunks.Length; first += chunks[k], k++)
            Normalization.BatchNormPartials(x.AsSpan(first * plane, chunks[k] * plane), partials.AsSpan(k * p, p), chunks[k], channels, spatial);
        Normalization.BatchNormCombine(partials, chunks.Length, channels, mean, rstd, rm, rv);
        for (int k = 0, first = 0; k < chunks.Length; first += chunks[k], k++)
        {
            var xs = x.AsSpan(first * plane, chunks[k] * plane);
            var ys = y.AsSpan(first * plane, chunks[k] * plane);
            if (bits == 0) Normalization.BatchNormNormalize(xs, gamma, beta, mean, rstd, ys, chunks[k], channels, spatial);
            else NormalizeAt(bits, xs, gamma, beta, mean, rstd, ys, chunks[k], channels, spatial);
        }
        for (int k = 0, first = 0; k < chunks.Length; first += chunks[k], k++)
            Normalization.BatchNormBackwardPartials(x.AsSpan(first * plane, chunks[k] * plane), dy.AsSpan(first * plane, chunks[k] * plane), mean, rstd,
                partials.AsSpan(k * p, p), chunks[k], channels, spatial);
        var coefficients = new double[2 * channels];
        Normalization.BatchNormBackwardCombine(partials, chunks.Length, channels, coefficients, dgamma, dbeta, accumulate: false);
        for (int k = 0, first = 0; k < chunks.Length; first += chunks[k], k++)
        {
            var xs = x.AsSpan(first * plane, chunks[k] * plane);
            var dys = dy.AsSpan(first * plane, chunks[k] * plane);
            var dxs = dx.AsSpan(first * plane, chunks[k] * plane);
            if (bits == 0) Normalization.BatchNormBackwardData(xs, dys, gamma, mean, rstd, coefficients, dxs, chunks[k], channels, spatial);
            else BackwardDataAt(bits, xs, dys, gamma, mean, rstd, coefficients, dxs, chunks[k], channels, spatial);
        }
        return new BatchNormResult(y, dx, dgamma, dbeta, rm, rv, mean, rstd);
    }

    [Theory]
    [MemberData(nameof(WidthsAndCounts))]
    public void BatchNorm_AtEveryWidth_MatchesReference(int bits, int spatial)
    {
        const int channels = 3;
        int[] chunks = [2, 3];
        int batch = 5, n = batch * channels * spatial;
        float[] x = Check.Random(n, 41, 3f), gamma = Check.Random(channels, 42, 2f), beta = Check.Random(channels, 43), dy = Check.Random(n, 44);
        float[] runningMean = Check.Random(channels, 45), runningVariance = [0.5f, 1f, 2f];
        var r = BatchNormStep(bits, chunks, x, gamma, beta, dy, runningMean, runningVariance, channels, spatial);

        double[] xd = Check.ToDouble(x), gd = Check.ToDouble(gamma), rm = Check.ToDouble(runningMean), rv = Check.ToDouble(runningVariance);
        Check.Close(Reference.BatchNorm(xd, gd, Check.ToDouble(beta), batch, channels, spatial, rm, rv), r.Y, 1e-5, 1e-6, $"y at {bits} bits");
        Check.Close(rm, r.RunningMean, 1e-6, 1e-7, "running mean");
        Check.Close(rv, r.RunningVariance, 1e-6, 1e-7, "running variance");
        double[] dgamma = new double[channels], dbeta = new double[channels];
        var dx = Reference.BatchNormBackward(xd, gd, Check.ToDouble(dy), batch, channels, spatial, dgamma, dbeta);
        Check.Close(dx, r.Dx, 1e-4, 1e-5, $"dx at {bits} bits");
        Check.Close(dgamma, r.Dgamma, 1e-5, 1e-5, "dgamma");
        Check.Close(dbeta, r.Dbeta, 1e-6, 1e-6, "dbeta");
    }

    [Fact]
    public void BatchNorm_OneChunkOrTwo_SameResults()
    {
        // Cutting the batch regroups the double-precision sums, which can move a double by a rounding or two: far below a
        // float's step, so the float outputs agree to within one unit in the last place (in practice, the same bits). The
        // same cut twice gives the same bits.
        const int channels = 3, spatial = 17, batch = 6;
        int n = batch * channels * spatial;
        float[] x = Check.Random(n, 51, 3f), gamma = Check.Random(channels, 52, 2f), beta = Check.Random(channels, 53), dy = Check.Random(n, 54);
        float[] rm = [0.1f, -0.2f, 0.3f], rv = [1f, 2f, 0.5f];
        var one = BatchNormStep(0, [6], x, gamma, beta, dy, rm, rv, channels, spatial);
        var two = BatchNormStep(0, [2, 4], x, gamma, beta, dy, rm, rv, channels, spatial);
        var three = BatchNormStep(0, [1, 3, 2], x, gamma, beta, dy, rm, rv, channels, spatial);
        var twoAgain = BatchNormStep(0, [2, 4], x, gamma, beta, dy, rm, rv, channels, spatial);
        foreach (var other in new[] { two, three })
        {
            WithinOneUlp(one.Y, other.Y, "y");
            WithinOneUlp(one.Dx, other.Dx, "dx");
            WithinOneUlp(one.Dgamma, other.Dgamma, "dgamma");
            WithinOneUlp(one.Dbeta, other.Dbeta, "dbeta");
            WithinOneUlp(one.RunningMean, other.RunningMean, "running mean");
            WithinOneUlp(one.RunningVariance, other.RunningVariance, "running variance");
        }
        Assert.Equal(two.Y, twoAgain.Y);
        Assert.Equal(two.Dx, twoAgain.Dx);
        Assert.Equal(two.Dgamma, twoAgain.Dgamma);
        Assert.Equal(two.RunningVariance, twoAgain.RunningVariance);
    }

    private static void WithinOneUlp(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            int a = BitConverter.SingleToInt32Bits(expected[i]), b = BitConverter.SingleToInt32Bits(actual[i]);
            bool close = a == b || (Math.Sign(a) == Math.Sign(b) && Math.Abs((long)a - b) <= 1);
            Assert.True(close, $"{what}[{i}]: {expected[i]:R} one chunk, {actual[i]:R} cut into chunks");
        }
    }

    [Fact]
    public void BatchNorm_RunningStatistics_MomentumAndUnbiasedVariance()
    {
        // One channel, batch 2 × spatial 2: values 1, 2, 3, 6; mean 3, biased variance 3.5, unbiased 14/3.
        float[] x = [1, 2, 3, 6], gamma = [1], beta = [0], runningMean = [0.5f], runningVariance = [2f];
        double[] partials = new double[3], mean = new double[1], rstd = new double[1];
        Normalization.BatchNormPartials(x, partials, 2, 1, 2);
        Normalization.BatchNormCombine(partials, 1, 1, mean, rstd, runningMean, runningVariance);
        Assert.Equal(3.0, mean[0], 1e-15);
        Assert.Equal(1 / Math.Sqrt(3.5 + 1e-5), rstd[0], 1e-12);
        Assert.Equal(0.9 * 0.5 + 0.1 * 3, runningMean[0], 1e-6);
        Assert.Equal(0.9 * 2 + 0.1 * 14.0 / 3, runningVariance[0], 1e-6);

        // The normalised batch uses the biased variance.
        var y = new float[4];
        Normalization.BatchNormNormalize(x, gamma, beta, mean, rstd, y, 2, 1, 2);
        double s = Math.Sqrt(3.5 + 1e-5);
        Check.Close([-2 / s, -1 / s, 0, 3 / s], y, 1e-6, 1e-7, "y");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(17)]
    [InlineData(33)]
    public void BatchNormInference_UsesRunningStatistics(int spatial)
    {
        const int batch = 3, channels = 4;
        int n = batch * channels * spatial;
        float[] x = Check.Random(n, 61, 3f), gamma = Check.Random(channels, 62, 2f), beta = Check.Random(channels, 63);
        float[] runningMean = Check.Random(channels, 64), runningVariance = [0.25f, 1f, 3f, 0.01f];
        var expected = Reference.BatchNormInference(Check.ToDouble(x), Check.ToDouble(gamma), Check.ToDouble(beta),
            Check.ToDouble(runningMean), Check.ToDouble(runningVariance), batch, channels, spatial);
        var y = new float[n];
        Normalization.BatchNormInference(x, gamma, beta, runningMean, runningVariance, y, batch, channels, spatial);
        Check.Close(expected, y, 1e-5, 1e-6, "y (dispatched)");
        Array.Clear(y);
        Normalization.BatchNormInference<Width128, Vector128<float>>(x, gamma, beta, runningMean, runningVariance, y, batch, channels, spatial, 1e-5f);
        Check.Close(expected, y, 1e-5, 1e-6, "y at 128 bits");
        Normalization.BatchNormInference<Width256, Vector256<float>>(x, gamma, beta, runningMean, runningVariance, y, batch, channels, spatial, 1e-5f);
        Check.Close(expected, y, 1e-5, 1e-6, "y at 256 bits");
        Normalization.BatchNormInference<Width512, Vector512<float>>(x, gamma, beta, runningMean, runningVariance, y, batch, channels, spatial, 1e-5f);
        Check.Close(expected, y, 1e-5, 1e-6, "y at 512 bits");
    }

    [Fact]
    public void BatchNorm_LargeOffsetSmallSpread_NormalisesCorrectly()
    {
        const int channels = 2, spatial = 9, batch = 4;
        int n = batch * channels * spatial;
        float[] noise = Check.Random(n, 71, 0.01f), x = new float[n];
        for (int i = 0; i < n; i++) x[i] = 1000f + noise[i];
        float[] gamma = [1f, 2f], beta = [0f, 0.5f], dy = Check.Random(n, 72);
        var r = BatchNormStep(0, [1, 3], x, gamma, beta, dy, [0f, 0f], [1f, 1f], channels, spatial);
        double[] rm = new double[channels], rv = [1, 1];
        var expected = Reference.BatchNorm(Check.ToDouble(x), Check.ToDouble(gamma), Check.ToDouble(beta), batch, channels, spatial, rm, rv);
        Check.Close(expected, r.Y, 1e-5, 1e-5, "y");
        Check.Close(rv, r.RunningVariance, 1e-5, 1e-9, "running variance");
    }

    [Fact]
    public void BatchNormBackwardCombine_AccumulatesOrOverwrites()
    {
        // Two chunks of one channel: (count, Σdy, Σdy·x̂) = (4, 1, 2) then (6, −3, 0.5).
        double[] partials = [4, 1, 2, 6, -3, 0.5], coefficients = new double[2];
        float[] dgamma = [10f], dbeta = [20f];
        Normalization.BatchNormBackwardCombine(partials, 2, 1, coefficients, dgamma, dbeta, accumulate: true);
        Assert.Equal([12.5f], dgamma);
        Assert.Equal([18f], dbeta);
        Assert.Equal([-0.2, 0.25], coefficients);
        Normalization.BatchNormBackwardCombine(partials, 2, 1, coefficients, dgamma, dbeta, accumulate: false);
        Assert.Equal([2.5f], dgamma);
        Assert.Equal([-2f], dbeta);
    }

    [Fact]
    public void NormalizationInPlace_MatchesOutOfPlace()
    {
        const int rows = 3, features = 19;
        float[] x = Check.Random(rows * features, 81, 2f), gamma = Check.Random(features, 82), beta = Check.Random(features, 83);
        float[] y = new float[x.Length], inPlace = (float[])x.Clone();
        double[] mean = new double[rows], rstd = new double[rows];
        Normalization.LayerNorm(x, gamma, beta, y, mean, rstd, rows, features);
        Normalization.LayerNorm(inPlace, gamma, beta, inPlace, mean, rstd, rows, features);
        Assert.Equal(y, inPlace);
        float[] dy = Check.Random(x.Length, 84), dx = new float[x.Length], dyInPlace = (float[])dy.Clone(), dg = new float[features], db = new float[features];
        Normalization.LayerNormBackward(x, gamma, mean, rstd, dy, dx, dg, db, rows, features, accumulate: false);
        Normalization.LayerNormBackward(x, gamma, mean, rstd, dyInPlace, dyInPlace, dg, db, rows, features, accumulate: false);
        Assert.Equal(dx, dyInPlace);
    }

    // ---------------------------------------------------------------- argument checks

    [Fact]
    public void BadSizes_ThrowNamingTheArgument()
    {
        float[] f = new float[100];
        double[] d = new double[100];
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.LayerNorm(f, f, f, f, d, d, 2, 0)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.LayerNorm(f, f, f, f, d, d, -1, 3)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => Normalization.LayerNorm(f.AsSpan(0, 11), f, f, f, d, d, 3, 4));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("12", e.Message);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => Normalization.LayerNorm(f, f.AsSpan(0, 3), f, f, d, d, 3, 4)).ParamName);
        Assert.Equal("rstd", Assert.Throws<ArgumentException>(() => Normalization.LayerNorm(f, f, f, f, d, d.AsSpan(0, 2), 3, 4)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.LayerNorm(f, f, f, f, d, d, 3, 4, 0f)).ParamName);
        Assert.Equal("dbeta", Assert.Throws<ArgumentException>(() => Normalization.LayerNormBackward(f, f, d, d, f, f, f, f.AsSpan(0, 3), 3, 4, false)).ParamName);

        Assert.Equal("spatial", Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.BatchNormPartials(f, d, 2, 3, 0)).ParamName);
        Assert.Equal("channels", Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.BatchNormNormalize(f, f, f, d, d, f, 2, 0, 3)).ParamName);
        Assert.Equal("partials", Assert.Throws<ArgumentException>(() => Normalization.BatchNormPartials(f, d.AsSpan(0, 8), 2, 3, 4)).ParamName);
        Assert.Equal("partials", Assert.Throws<ArgumentException>(() => Normalization.BatchNormCombine(d.AsSpan(0, 17), 2, 3, d, d, f, f)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.BatchNormCombine(d, 2, 3, d, d, f, f, momentum: 1.5f)).ParamName);
        Assert.Equal("runningVariance", Assert.Throws<ArgumentException>(() => Normalization.BatchNormInference(f, f, f, f, f.AsSpan(0, 2), f, 2, 3, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Normalization.BatchNormNormalize(f, f, f, d, d, f.AsSpan(0, 23), 2, 3, 4)).ParamName);
        Assert.Equal("coefficients", Assert.Throws<ArgumentException>(() => Normalization.BatchNormBackwardData(f, f, f, d, d, d.AsSpan(0, 5), f, 2, 3, 4)).ParamName);
        Assert.Equal("dgamma", Assert.Throws<ArgumentException>(() => Normalization.BatchNormBackwardCombine(d, 1, 3, d, f.AsSpan(0, 2), f, false)).ParamName);

        // One value per channel has no unbiased variance (PyTorch refuses it in training too).
        double[] single = new double[3];
        Normalization.BatchNormPartials(f, single, 1, 1, 1);
        Assert.Equal("partials", Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.BatchNormCombine(single, 1, 1, d, d, f, f)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => Reference.BatchNorm(d, d, d, 1, 2, 1)).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => Reference.LayerNorm(d, d, d, 2, 0)).ParamName);
    }
}
