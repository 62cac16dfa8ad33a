using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GenNets.Kernels;

/// <summary>
/// Layer normalisation and batch normalisation, forward and backward, with PyTorch's semantics (biased variance to
/// normalise, ε added to the variance under the square root). Statistics are computed and kept in double precision: a
/// mean is kept as a double and subtracted from floats in two parts (its nearest float, then the remainder), so inputs
/// with a large common offset and a small spread (x ≈ 1000 ± 0.01) still normalise to within float rounding of the
/// exact result. Sums run in double in fixed order; the element-wise passes run at the widest vector width.
/// <para>
/// Batch normalisation is split so that a batch cut into chunks (one per thread) normalises by the whole batch's
/// statistics: <see cref="BatchNormPartials"/> over each chunk, <see cref="BatchNormCombine"/> over the chunks' partials
/// in chunk order, then <see cref="BatchNormNormalize"/> over each chunk; backward likewise with
/// <see cref="BatchNormBackwardPartials"/>, <see cref="BatchNormBackwardCombine"/> and <see cref="BatchNormBackwardData"/>.
/// A partial holds three doubles per channel. Cutting the batch differently regroups double-precision sums, which can
/// move a result by a rounding of a double, far below a float's; the same cut gives the same bits every time.
/// </para>
/// </summary>
public static class Normalization
{
    /// <summary>PyTorch's default ε, added to the variance.</summary>
    public const float DefaultEpsilon = 1e-5f;

    /// <summary>PyTorch's default momentum of batch normalisation's running statistics.</summary>
    public const float DefaultMomentum = 0.1f;

    /// <summary>Doubles per channel in a partial of <see cref="BatchNormPartials"/> or <see cref="BatchNormBackwardPartials"/>.</summary>
    public const int PartialLength = 3;

    // ---------------------------------------------------------------- LayerNorm

    /// <summary>
    /// Layer normalisation over the last axis of x [rows, features]: y = (x − mean)·rstd·gamma + beta per row, with the
    /// row's mean and rstd = 1/√(biased variance + ε) written to <paramref name="mean"/> and <paramref name="rstd"/> (one
    /// each per row) for <see cref="LayerNormBackward"/>. The variance is computed in two passes in double precision.
    /// </summary>
    /// <param name="x">The input, [rows, features].</param>
    /// <param name="gamma">The weight, one per feature.</param>
    /// <param name="beta">The bias, one per feature.</param>
    /// <param name="y">The output, [rows, features]; may be <paramref name="x"/> itself.</param>
    /// <param name="mean">Receives each row's mean.</param>
    /// <param name="rstd">Receives each row's 1/√(variance + ε).</param>
    /// <param name="rows">Rows (at least 0).</param>
    /// <param name="features">Features per row (at least 1).</param>
    /// <param name="epsilon">ε, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range, or ε is not positive and finite.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<double> mean, Span<double> rstd, int rows, int features, float epsilon = DefaultEpsilon)
    {
        CheckLayerNorm(x.Length, gamma.Length, rows, features, nameof(x));
        Sizes.Need(beta.Length, features, nameof(beta), "one per feature ({0})", features);
        Sizes.Need(y.Length, (long)rows * features, nameof(y), "y [{0}, {1}]", rows, features);
        Sizes.Need(mean.Length, rows, nameof(mean), "one per row ({0})", rows);
        Sizes.Need(rstd.Length, rows, nameof(rstd), "one per row ({0})", rows);
        CheckEpsilon(epsilon);
        if (Vector512.IsHardwareAccelerated) LayerNorm<Width512, Vector512<float>>(x, gamma, beta, y, mean, rstd, rows, features, epsilon);
        else if (Vector256.IsHardwareAccelerated) LayerNorm<Width256, Vector256<float>>(x, gamma, beta, y, mean, rstd, rows, features, epsilon);
        else LayerNorm<Width128, Vector128<float>>(x, gamma, beta, y, mean, rstd, rows, features, epsilon);
    }

    /// <summary>Layer normalisation in inference: as <see cref="LayerNorm(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{double}, Span{double}, int, int, float)"/>, keeping no statistics.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range, or ε is not positive and finite.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, int rows, int features, float epsilon = DefaultEpsilon)
    {
        CheckLayerNorm(x.Length, gamma.Length, rows, features, nameof(x));
        Sizes.Need(beta.Length, features, nameof(beta), "one per feature ({0})", features);
        Sizes.Need(y.Length, (long)rows * features, nameof(y), "y [{0}, {1}]", rows, features);
        CheckEpsilon(epsilon);
        if (Vector512.IsHardwareAccelerated) LayerNorm<Width512, Vector512<float>>(x, gamma, beta, y, default, default, rows, features, epsilon);
        else if (Vector256.IsHardwareAccelerated) LayerNorm<Width256, Vector256<float>>(x, gamma, beta, y, default, default, rows, features, epsilon);
        else LayerNorm<Width128, Vector128<float>>(x, gamma, beta, y, default, default, rows, features, epsilon);
    }

    /// <summary>
    /// The gradients of <see cref="LayerNorm(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{double}, Span{double}, int, int, float)"/>: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) per row with g = dy·gamma and
    /// x̂ = (x − mean)·rstd; dgamma = Σ_rows dy·x̂ and dbeta = Σ_rows dy, added to what they hold when
    /// <paramref name="accumulate"/> is true, else overwriting it. The rows' sums run in double precision.
    /// </summary>
    /// <param name="x">The forward pass's input, [rows, features].</param>
    /// <param name="gamma">The weight, one per feature.</param>
    /// <param name="mean">The forward pass's means, one per row.</param>
    /// <param name="rstd">The forward pass's 1/√(variance + ε), one per row.</param>
    /// <param name="dy">The gradient of the output, [rows, features].</param>
    /// <param name="dx">Receives the gradient of the input, [rows, features]; may be <paramref name="dy"/> itself.</param>
    /// <param name="dgamma">The weight's gradient, one per feature.</param>
    /// <param name="dbeta">The bias's gradient, one per feature.</param>
    /// <param name="rows">Rows (at least 0).</param>
    /// <param name="features">Features per row (at least 1).</param>
    /// <param name="accumulate">Whether dgamma and dbeta are added to (true) or overwritten (false).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void LayerNormBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<double> mean, ReadOnlySpan<double> rstd,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int rows, int features, bool accumulate)
    {
        CheckLayerNorm(x.Length, gamma.Length, rows, features, nameof(x));
        Sizes.Need(mean.Length, rows, nameof(mean), "one per row ({0})", rows);
        Sizes.Need(rstd.Length, rows, nameof(rstd), "one per row ({0})", rows);
        Sizes.Need(dy.Length, (long)rows * features, nameof(dy), "dy [{0}, {1}]", rows, features);
        Sizes.Need(dx.Length, (long)rows * features, nameof(dx), "dx [{0}, {1}]", rows, features);
        Sizes.Need(dgamma.Length, features, nameof(dgamma), "one per feature ({0})", features);
        Sizes.Need(dbeta.Length, features, nameof(dbeta), "one per feature ({0})", features);
        if (Vector512.IsHardwareAccelerated) LayerNormBackward<Width512, Vector512<float>>(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, features, accumulate);
        else if (Vector256.IsHardwareAccelerated) LayerNormBackward<Width256, Vector256<float>>(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, features, accumulate);
        else LayerNormBackward<Width128, Vector128<float>>(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, features, accumulate);
    }

    internal static void LayerNorm<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<double> mean, Span<double> rstd, int rows, int features, float epsilon)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * features, features);
            var (m, s) = MeanAndSquares(row);
            double rs = 1 / Math.Sqrt(s / features + epsilon);
            if (!mean.IsEmpty)
            {
                mean[r] = m;
                rstd[r] = rs;
            }
            float hi = (float)m, lo = (float)(m - hi);
            NormalizeRow<TWidth, TVector>(ref MemoryMarshal.GetReference(row), ref MemoryMarshal.GetReference(gamma), ref MemoryMarshal.GetReference(beta),
                ref MemoryMarshal.GetReference(y.Slice(r * features, features)), (nuint)features, hi, lo, (float)rs);
        }
    }

    internal static void LayerNormBackward<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<double> mean, ReadOnlySpan<double> rstd,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int rows, int features, bool accumulate)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        if (!accumulate)
        {
            dgamma.Slice(0, features).Clear();
            dbeta.Slice(0, features).Clear();
        }
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * features, features);
            var dyr = dy.Slice(r * features, features);
            double m = mean[r], rs = rstd[r];
            var (sg, sgx) = GradientSums(xr, dyr, gamma, m, rs);
            float hi = (float)m, lo = (float)(m - hi);
            LayerNormBackwardRow<TWidth, TVector>(ref MemoryMarshal.GetReference(xr), ref MemoryMarshal.GetReference(gamma), ref MemoryMarshal.GetReference(dyr),
                ref MemoryMarshal.GetReference(dx.Slice(r * features, features)), ref MemoryMarshal.GetReference(dgamma), ref MemoryMarshal.GetReference(dbeta),
                (nuint)features, hi, lo, (float)rs, (float)(sg / features), (float)(sgx / features));
        }
    }

    // A row's mean and its sum of squared deviations from it, two passes in double precision (four lanes at a time where
    // 256-bit vectors are accelerated: the row's floats widened, then the scalar tail).
    private static (double Mean, double Squares) MeanAndSquares(ReadOnlySpan<float> row)
    {
        int n = row.Length, i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256<double>.Zero;
            var b = Vector256<double>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(row.Slice(i, 8)));
                a += lower;
                b += upper;
            }
            sum = Vector256.Sum(a + b);
        }
        for (; i < n; i++) sum += row[i];
        double mean = sum / n, squares = 0;
        i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mean);
            var a = Vector256<double>.Zero;
            var b = Vector256<double>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(row.Slice(i, 8)));
                lower -= m;
                upper -= m;
                a += lower * lower;
                b += upper * upper;
            }
            squares = Vector256.Sum(a + b);
        }
        for (; i < n; i++)
        {
            double d = row[i] - mean;
            squares += d * d;
        }
        return (mean, squares);
    }

    // Σ g and Σ g·x̂ over a row in double precision, for g = dy·gamma and x̂ = (x − mean)·rstd.
    private static (double G, double GX) GradientSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma, double mean, double rstd)
    {
        int n = x.Length, i = 0;
        double sg = 0, sgx = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> m = Vector256.Create(mean), rs = Vector256.Create(rstd), g0 = default, g1 = default, h0 = default, h1 = default;
            for (; i + 8 <= n; i += 8)
            {
                var (d0, d1) = Vector256.Widen(Vector256.Create(dy.Slice(i, 8)));
                var (c0, c1) = Vector256.Widen(Vector256.Create(gamma.Slice(i, 8)));
                var (x0, x1) = Vector256.Widen(Vector256.Create(x.Slice(i, 8)));
                d0 *= c0;
                d1 *= c1;
                g0 += d0;
                g1 += d1;
                h0 += d0 * ((x0 - m) * rs);
                h1 += d1 * ((x1 - m) * rs);
            }
            sg = Vector256.Sum(g0 + g1);
            sgx = Vector256.Sum(h0 + h1);
        }
        for (; i < n; i++)
        {
            double g = (double)dy[i] * gamma[i];
            sg += g;
            sgx += g * ((x[i] - mean) * rstd);
        }
        return (sg, sgx);
    }

    // y = ((x − hi) − lo)·rstd·gamma + beta over one row: x − hi is exact where x is near the mean.
    private static void NormalizeRow<TWidth, TVector>(ref float x, ref float gamma, ref float beta, ref float y, nuint n, float hi, float lo, float rstd)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint l = (nuint)TWidth.Count, i = 0;
        TVector vh = TWidth.Broadcast(hi), vl = TWidth.Broadcast(lo), vr = TWidth.Broadcast(rstd);
        for (; i + l <= n; i += l)
        {
            var t = TWidth.Multiply(TWidth.Subtract(TWidth.Subtract(TWidth.Load(ref x, i), vh), vl), vr);
            TWidth.Store(TWidth.MultiplyAdd(t, TWidth.Load(ref gamma, i), TWidth.Load(ref beta, i)), ref y, i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref y, i) = ((Unsafe.Add(ref x, i) - hi) - lo) * rstd * Unsafe.Add(ref gamma, i) + Unsafe.Add(ref beta, i);
    }

    // dx = rstd·(g − (a + x̂·b)) with g = dy·gamma; dgamma += dy·x̂; dbeta += dy.
    private static void LayerNormBackwardRow<TWidth, TVector>(ref float x, ref float gamma, ref float dy, ref float dx, ref float dgamma, ref float dbeta,
        nuint n, float hi, float lo, float rstd, float a, float b)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint l = (nuint)TWidth.Count, i = 0;
        TVector vh = TWidth.Broadcast(hi), vl = TWidth.Broadcast(lo), vr = TWidth.Broadcast(rstd), va = TWidth.Broadcast(a), vb = TWidth.Broadcast(b);
        for (; i + l <= n; i += l)
        {
            var xh = TWidth.Multiply(TWidth.Subtract(TWidth.Subtract(TWidth.Load(ref x, i), vh), vl), vr);
            var d = TWidth.Load(ref dy, i);
            TWidth.Store(TWidth.MultiplyAdd(d, xh, TWidth.Load(ref dgamma, i)), ref dgamma, i);
            TWidth.Store(TWidth.Add(TWidth.Load(ref dbeta, i), d), ref dbeta, i);
            var g = TWidth.Multiply(d, TWidth.Load(ref gamma, i));
            TWidth.Store(TWidth.Multiply(vr, TWidth.Subtract(g, TWidth.MultiplyAdd(xh, vb, va))), ref dx, i);
        }
        for (; i < n; i++)
        {
            float xh = ((Unsafe.Add(ref x, i) - hi) - lo) * rstd, d = Unsafe.Add(ref dy, i);
            Unsafe.Add(ref dgamma, i) += d * xh;
            Unsafe.Add(ref dbeta, i) += d;
            Unsafe.Add(ref dx, i) = rstd * (d * Unsafe.Add(ref gamma, i) - (xh * b + a));
        }
    }

    // ---------------------------------------------------------------- BatchNorm

    /// <summary>
    /// Phase one of batch normalisation's training statistics, over one chunk of samples of x [samples, channels, spatial]:
    /// per channel c, <paramref name="partials"/>[3c..3c+2] = (count, mean, M2) in double precision, where count =
    /// samples·spatial, mean is the chunk's mean and M2 = Σ(x − mean)² (two passes over the chunk). Combine the chunks'
    /// partials with <see cref="BatchNormCombine"/>.
    /// </summary>
    /// <param name="x">The chunk's input, [samples, channels, spatial].</param>
    /// <param name="partials">Receives <see cref="PartialLength"/> doubles per channel.</param>
    /// <param name="samples">Samples in the chunk (at least 0).</param>
    /// <param name="channels">Channels (at least 1).</param>
    /// <param name="spatial">Values per channel per sample (H·W after a convolution, 1 after a dense layer; at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void BatchNormPartials(ReadOnlySpan<float> x, Span<double> partials, int samples, int channels, int spatial)
    {
        CheckBatchNorm(x.Length, nameof(x), samples, channels, spatial);
        Sizes.Need(partials.Length, (long)PartialLength * channels, nameof(partials), "3 per channel ({0})", channels);
        long count = (long)samples * spatial;
        for (int c = 0; c < channels; c++)
        {
            double s = 0;
            for (int b = 0; b < samples; b++)
                foreach (float v in x.Slice((b * channels + c) * spatial, spatial)) s += v;
            double m = count == 0 ? 0 : s / count, m2 = 0;
            for (int b = 0; b < samples; b++)
                foreach (float v in x.Slice((b * channels + c) * spatial, spatial)) { double d = v - m; m2 += d * d; }
            partials[PartialLength * c] = count;
            partials[PartialLength * c + 1] = m;
            partials[PartialLength * c + 2] = m2;
        }
    }

    /// <summary>
    /// Phase two of batch normalisation's training statistics: the chunks' partials combined in chunk order (Chan's
    /// pairwise update of count, mean and M2), giving each channel's mean and rstd = 1/√(biased variance + ε) for
    /// <see cref="BatchNormNormalize"/> and the backward pass, and updating the running statistics as PyTorch does:
    /// running = (1 − momentum)·running + momentum·batch statistic, with the unbiased variance (M2/(n − 1)) for the
    /// running variance.
    /// </summary>
    /// <param name="partials">The chunks' partials one after another, <see cref="PartialLength"/>·channels each.</param>
    /// <param name="chunks">Chunks (at least 1).</param>
    /// <param name="channels">Channels (at least 1).</param>
    /// <param name="mean">Receives each channel's mean.</param>
    /// <param name="rstd">Receives each channel's 1/√(variance + ε).</param>
    /// <param name="runningMean">The running mean, one per channel, updated.</param>
    /// <param name="runningVariance">The running (unbiased) variance, one per channel, updated.</param>
    /// <param name="momentum">The weight of the batch's statistics in the update, in [0, 1].</param>
    /// <param name="epsilon">ε, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range; ε or the momentum is out of range; or the batch holds fewer than two values per channel.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void BatchNormCombine(ReadOnlySpan<double> partials, int chunks, int channels, Span<double> mean, Span<double> rstd,
        Span<float> runningMean, Span<float> runningVariance, float momentum = DefaultMomentum, float epsilon = DefaultEpsilon)
    {
        Sizes.Positive(chunks, nameof(chunks));
        Sizes.Positive(channels, nameof(channels));
        Sizes.Need(partials.Length, Sizes.Product(chunks, nameof(chunks), PartialLength * channels, nameof(channels)), nameof(partials), "3 per channel ({1}) for each of {0} chunks", chunks, channels);
        Sizes.Need(mean.Length, channels, nameof(mean), "one per channel ({0})", channels);
        Sizes.Need(rstd.Length, channels, nameof(rstd), "one per channel ({0})", channels);
        Sizes.Need(runningMean.Length, channels, nameof(runningMean), "one per channel ({0})", channels);
        Sizes.Need(runningVariance.Length, channels, nameof(runningVariance), "one per channel ({0})", channels);
        CheckEpsilon(epsilon);
        if (!(momentum >= 0 && momentum <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"momentum must be in [0, 1], but is {momentum}.");
        for (int c = 0; c < channels; c++)
        {
            double n = 0, m = 0, m2 = 0;
            for (int k = 0; k < chunks; k++)
            {
                int at = (k * channels + c) * PartialLength;
                double nb = partials[at], mb = partials[at + 1], m2b = partials[at + 2];
                if (nb == 0) continue;
                double total = n + nb, delta = mb - m;
                m += delta * (nb / total);
                m2 += m2b + delta * delta * (n * nb / total);
                n = total;
            }
            if (n < 2)
                throw new ArgumentOutOfRangeException(nameof(partials), $"Training statistics need more than one value per channel, but channel {c} has {n}.");
            mean[c] = m;
            rstd[c] = 1 / Math.Sqrt(m2 / n + epsilon);
            runningMean[c] = (float)((1 - (double)momentum) * runningMean[c] + momentum * m);
            runningVariance[c] = (float)((1 - (double)momentum) * runningVariance[c] + momentum * (m2 / (n - 1)));
        }
    }

    /// <summary>
    /// Phase three of batch normalisation in training: y = (x − mean)·rstd·gamma + beta per channel over one chunk of
    /// samples, with the whole batch's <paramref name="mean"/> and <paramref name="rstd"/> from <see cref="BatchNormCombine"/>.
    /// </summary>
    /// <param name="x">The chunk's input, [samples, channels, spatial].</param>
    /// <param name="gamma">The weight, one per channel.</param>
    /// <param name="beta">The bias, one per channel.</param>
    /// <param name="mean">The batch's mean, one per channel.</param>
    /// <param name="rstd">The batch's 1/√(variance + ε), one per channel.</param>
    /// <param name="y">The chunk's output, [samples, channels, spatial]; may be <paramref name="x"/> itself.</param>
    /// <param name="samples">Samples in the chunk (at least 0).</param>
    /// <param name="channels">Channels (at least 1).</param>
    /// <param name="spatial">Values per channel per sample (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void BatchNormNormalize(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> rstd, Span<float> y, int samples, int channels, int spatial)
    {
        CheckBatchNorm(x.Length, nameof(x), samples, channels, spatial);
        CheckChannels(gamma.Length, beta.Length, channels);
        Sizes.Need(mean.Length, channels, nameof(mean), "one per channel ({0})", channels);
        Sizes.Need(rstd.Length, channels, nameof(rstd), "one per channel ({0})", channels);
        Sizes.Need(y.Length, (long)samples * channels * spatial, nameof(y), "y [{0}, {1}, {2}]", samples, channels, spatial);
        if (Vector512.IsHardwareAccelerated) BatchNormNormalize<Width512, Vector512<float>>(x, gamma, beta, mean, rstd, y, samples, channels, spatial);
        else if (Vector256.IsHardwareAccelerated) BatchNormNormalize<Width256, Vector256<float>>(x, gamma, beta, mean, rstd, y, samples, channels, spatial);
        else BatchNormNormalize<Width128, Vector128<float>>(x, gamma, beta, mean, rstd, y, samples, channels, spatial);
    }

    /// <summary>
    /// Batch normalisation in inference folded into the layer before it: with s = gamma/√(runningVariance + ε) per channel,
    /// foldedWeight[c, ·] = weight[c, ·]·s[c] and foldedBias[c] = (bias[c] − runningMean[c])·s[c] + beta[c], so that the
    /// layer with the folded tensors computes what the layer and the normalisation compute one after the other. The scale
    /// is computed in double precision; the folded values are rounded once.
    /// </summary>
    /// <param name="weight">The layer's weight, [channels, perChannel] (a convolution's [outC, inC·kh·kw], a dense layer's [out, in]).</param>
    /// <param name="bias">The layer's bias, one per channel.</param>
    /// <param name="gamma">The normalisation's weight, one per channel.</param>
    /// <param name="beta">The normalisation's bias, one per channel.</param>
    /// <param name="runningMean">The running mean, one per channel.</param>
    /// <param name="runningVariance">The running variance, one per channel.</param>
    /// <param name="foldedWeight">Receives the folded weight, [channels, perChannel].</param>
    /// <param name="foldedBias">Receives the folded bias, one per channel.</param>
    /// <param name="channels">Channels (at least 1).</param>
    /// <param name="perChannel">Weights per channel (at least 1).</param>
    /// <param name="epsilon">ε, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range, or ε is not positive and finite.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void FoldBatchNorm(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVariance, Span<float> foldedWeight, Span<float> foldedBias,
        int channels, int perChannel, float epsilon = DefaultEpsilon)
    {
        Sizes.Positive(channels, nameof(channels));
        Sizes.Positive(perChannel, nameof(perChannel));
        long length = Sizes.Product(channels, nameof(channels), perChannel, nameof(perChannel));
        Sizes.Need(weight.Length, length, nameof(weight), "weight [{0}, {1}]", channels, perChannel);
        Sizes.Need(foldedWeight.Length, length, nameof(foldedWeight), "weight [{0}, {1}]", channels, perChannel);
        CheckChannels(gamma.Length, beta.Length, channels);
        Sizes.Need(bias.Length, channels, nameof(bias), "one per channel ({0})", channels);
        Sizes.Need(foldedBias.Length, channels, nameof(foldedBias), "one per channel ({0})", channels);
        Sizes.Need(runningMean.Length, channels, nameof(runningMean), "one per channel ({0})", channels);
        Sizes.Need(runningVariance.Length, channels, nameof(runningVariance), "one per channel ({0})", channels);
        CheckEpsilon(epsilon);
        for (int c = 0; c < channels; c++)
        {
            double scale = gamma[c] / Math.Sqrt((double)runningVariance[c] + epsilon);
            var row = weight.Slice(c * perChannel, perChannel);
            var folded = foldedWeight.Slice(c * perChannel, perChannel);
            for (int k = 0; k < perChannel; k++) folded[k] = (float)(row[k] * scale);
            foldedBias[c] = (float)((bias[c] - (double)runningMean[c]) * scale + beta[c]);
        }
    }

    /// <summary>
    /// Batch normalisation in inference: y = (x − runningMean)/√(runningVariance + ε)·gamma + beta per channel.
    /// </summary>
    /// <param name="x">The input, [samples, channels, spatial].</param>
    /// <param name="gamma">The weight, one per channel.</param>
    /// <param name="beta">The bias, one per channel.</param>
    /// <param name="runningMean">The running mean, one per channel.</param>
    /// <param name="runningVariance">The running variance, one per channel.</param>
    /// <param name="y">The output, [samples, channels, spatial]; may be <paramref name="x"/> itself.</param>
    /// <param name="samples">Samples (at least 0).</param>
    /// <param name="channels">Channels (at least 1).</param>
    /// <param name="spatial">Values per channel per sample (at least 1).</param>
    /// <param name="epsilon">ε, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range, or ε is not positive and finite.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void BatchNormInference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean,
        ReadOnlySpan<float> runningVariance, Span<float> y, int samples, int channels, int spatial, float epsilon = DefaultEpsilon)
    {
        CheckBatchNorm(x.Length, nameof(x), samples, channels, spatial);
        CheckChannels(gamma.Length, beta.Length, channels);
        Sizes.Need(runningMean.Length, channels, nameof(runningMean), "one per channel ({0})", channels);
        Sizes.Need(runningVariance.Length, channels, nameof(runningVariance), "one per channel ({0})", channels);
        Sizes.Need(y.Length, (long)samples * channels * spatial, nameof(y), "y [{0}, {1}, {2}]", samples, channels, spatial);
        CheckEpsilon(epsilon);
        if (Vector512.IsHardwareAccelerated) BatchNormInference<Width512, Vector512<float>>(x, gamma, beta, runningMean, runningVariance, y, samples, channels, spatial, epsilon);
        else if (Vector256.IsHardwareAccelerated) BatchNormInference<Width256, Vector256<float>>(x, gamma, beta, runningMean, runningVariance, y, samples, channels, spatial, epsilon);
        else BatchNormInference<Width128, Vector128<float>>(x, gamma, beta, runningMean, runningVariance, y, samples, channels, spatial, epsilon);
    }

    /// <summary>
    /// Phase one of batch normalisation's backward pass, over one chunk of samples: per channel c,
    /// <paramref name="partials"/>[3c..3c+2] = (count, Σdy, Σdy·x̂) in double precision, x̂ = (x − mean)·rstd with the
    /// batch's statistics. Combine the chunks' partials with <see cref="BatchNormBackwardCombine"/>.
    /// </summary>
    /// <param name="x">The chunk's forward input, [samples, channels, spatial].</param>
    /// <param name="dy">The chunk's output gradient, [samples, channels, spatial].</param>
    /// <param name="mean">The batch's mean, one per channel.</param>
    /// <param name="rstd">The batch's 1/√(variance + ε), one per channel.</param>
    /// <param name="partials">Receives <see cref="PartialLength"/> doubles per channel.</param>
    /// <param name="samples">Samples in the chunk (at least 0).</param>
    /// <param name="channels">Channels (at least 1).</param>
    /// <param name="spatial">Values per channel per sample (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void BatchNormBackwardPartials(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<double> mean, ReadOnlySpan<double> rstd,
        Span<double> partials, int samples, int channels, int spatial)
    {
        CheckBatchNorm(x.Length, nameof(x), samples, channels, spatial);
        Sizes.Need(dy.Length, (long)samples * channels * spatial, nameof(dy), "dy [{0}, {1}, {2}]", samples, channels, spatial);
        Sizes.Need(mean.Length, channels, nameof(mean), "one per channel ({0})", channels);
        Sizes.Need(rstd.Length, channels, nameof(rstd), "one per channel ({0})", channels);
        Sizes.Need(partials.Length, (long)PartialLength * channels, nameof(partials), "3 per channel ({0})", channels);
        for (int c = 0; c < channels; c++)
        {
            double m = mean[c], rs = rstd[c], sd = 0, sdx = 0;
            for (int b = 0; b < samples; b++)
            {
                int at = (b * channels + c) * spatial;
                for (int i = 0; i < spatial; i++)
                {
                    double d = dy[at + i];
                    sd += d;
                    sdx += d * ((x[at + i] - m) * rs);
                }
            }
            partials[PartialLength * c] = (double)samples * spatial;
            partials[PartialLength * c + 1] = sd;
            partials[PartialLength * c + 2] = sdx;
        }
    }

    /// <summary>
    /// Phase two of batch normalisation's backward pass: the chunks' partials added in chunk order, giving dbeta = Σdy and
    /// dgamma = Σdy·x̂ per channel (added to what they hold when <paramref name="accumulate"/> is true, else overwriting
    /// it) and, in <paramref name="coefficients"/>[2c..2c+1], mean(dy) and mean(dy·x̂) for <see cref="BatchNormBackwardData"/>.
    /// </summary>
    /// <param name="partials">The chunks' partials one after another, <see cref="PartialLength"/>·channels each.</param>
    /// <param name="chunks">Chunks (at least 1).</param>
    /// <param name="channels">Channels (at least 1).</param>
    /// <param name="coefficients">Receives two doubles per channel.</param>
    /// <param name="dgamma">The weight's gradient, one per channel.</param>
    /// <param name="dbeta">The bias's gradient, one per channel.</param>
    /// <param name="accumulate">Whether dgamma and dbeta are added to (true) or overwritten (false).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range, or a channel has no values.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void BatchNormBackwardCombine(ReadOnlySpan<double> partials, int chunks, int channels, Span<double> coefficients,
        Span<float> dgamma, Span<float> dbeta, bool accumulate)
    {
        Sizes.Positive(chunks, nameof(chunks));
        Sizes.Positive(channels, nameof(channels));
        Sizes.Need(partials.Length, Sizes.Product(chunks, nameof(chunks), PartialLength * channels, nameof(channels)), nameof(partials), "3 per channel ({1}) for each of {0} chunks", chunks, channels);
        Sizes.Need(coefficients.Length, 2L * channels, nameof(coefficients), "two per channel ({0})", channels);
        CheckChannels(dgamma.Length, dbeta.Length, channels, nameof(dgamma), nameof(dbeta));
        for (int c = 0; c < channels; c++)
        {
            double n = 0, sd = 0, sdx = 0;
            for (int k = 0; k < chunks; k++)
            {
                int at = (k * channels + c) * PartialLength;
                n += partials[at];
                sd += partials[at + 1];
                sdx += partials[at + 2];
            }
            if (n < 1)
                throw new ArgumentOutOfRangeException(nameof(partials), $"Channel {c} has no values in any chunk.");
            coefficients[2 * c] = sd / n;
            coefficients[2 * c + 1] = sdx / n;
            dgamma[c] = (float)((accumulate ? dgamma[c] : 0) + sdx);
            dbeta[c] = (float)((accumulate ? dbeta[c] : 0) + sd);
        }
    }

    /// <summary>
    /// Phase three of batch normalisation's backward pass, over one chunk of samples:
    /// dx = gamma·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)) per channel, the means over the whole batch from
    /// <see cref="BatchNormBackwardCombine"/>.
    /// </summary>
    /// <param name="x">The chunk's forward input, [samples, channels, spatial].</param>
    /// <param name="dy">The chunk's output gradient, [samples, channels, spatial].</param>
    /// <param name="gamma">The weight, one per channel.</param>
    /// <param name="mean">The batch's mean, one per channel.</param>
    /// <param name="rstd">The batch's 1/√(variance + ε), one per channel.</param>
    /// <param name="coefficients">Two per channel, from <see cref="BatchNormBackwardCombine"/>.</param>
    /// <param name="dx">Receives the chunk's input gradient, [samples, channels, spatial]; may be <paramref name="dy"/> itself.</param>
    /// <param name="samples">Samples in the chunk (at least 0).</param>
    /// <param name="channels">Channels (at least 1).</param>
    /// <param name="spatial">Values per channel per sample (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static void BatchNormBackwardData(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> rstd, ReadOnlySpan<double> coefficients, Span<float> dx, int samples, int channels, int spatial)
    {
        CheckBatchNorm(x.Length, nameof(x), samples, channels, spatial);
        long total = (long)samples * channels * spatial;
        Sizes.Need(dy.Length, total, nameof(dy), "dy [{0}, {1}, {2}]", samples, channels, spatial);
        Sizes.Need(dx.Length, total, nameof(dx), "dx [{0}, {1}, {2}]", samples, channels, spatial);
        Sizes.Need(gamma.Length, channels, nameof(gamma), "one per channel ({0})", channels);
        Sizes.Need(mean.Length, channels, nameof(mean), "one per channel ({0})", channels);
        Sizes.Need(rstd.Length, channels, nameof(rstd), "one per channel ({0})", channels);
        Sizes.Need(coefficients.Length, 2L * channels, nameof(coefficients), "two per channel ({0})", channels);
        if (Vector512.IsHardwareAccelerated) BatchNormBackwardData<Width512, Vector512<float>>(x, dy, gamma, mean, rstd, coefficients, dx, samples, channels, spatial);
        else if (Vector256.IsHardwareAccelerated) BatchNormBackwardData<Width256, Vector256<float>>(x, dy, gamma, mean, rstd, coefficients, dx, samples, channels, spatial);
        else BatchNormBackwardData<Width128, Vector128<float>>(x, dy, gamma, mean, rstd, coefficients, dx, samples, channels, spatial);
    }

    internal static void BatchNormNormalize<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> rstd, Span<float> y, int samples, int channels, int spatial)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        for (int c = 0; c < channels; c++)
        {
            double m = mean[c];
            float hi = (float)m, lo = (float)(m - hi), scale = (float)(rstd[c] * gamma[c]);
            for (int b = 0; b < samples; b++)
            {
                int at = (b * channels + c) * spatial;
                NormalizePlane<TWidth, TVector>(ref MemoryMarshal.GetReference(x.Slice(at, spatial)), ref MemoryMarshal.GetReference(y.Slice(at, spatial)),
                    (nuint)spatial, hi, lo, scale, beta[c]);
            }
        }
    }

    internal static void BatchNormInference<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean,
        ReadOnlySpan<float> runningVariance, Span<float> y, int samples, int channels, int spatial, float epsilon)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        for (int c = 0; c < channels; c++)
        {
            float scale = (float)(gamma[c] / Math.Sqrt((double)runningVariance[c] + epsilon));
            for (int b = 0; b < samples; b++)
            {
                int at = (b * channels + c) * spatial;
                NormalizePlane<TWidth, TVector>(ref MemoryMarshal.GetReference(x.Slice(at, spatial)), ref MemoryMarshal.GetReference(y.Slice(at, spatial)),
                    (nuint)spatial, runningMean[c], 0f, scale, beta[c]);
            }
        }
    }

    internal static void BatchNormBackwardData<TWidth, TVector>(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> rstd, ReadOnlySpan<double> coefficients, Span<float> dx, int samples, int channels, int spatial)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        for (int c = 0; c < channels; c++)
        {
            double m = mean[c];
            float hi = (float)m, lo = (float)(m - hi), rs = (float)rstd[c], k = (float)(gamma[c] * rstd[c]);
            float a = (float)coefficients[2 * c], bx = (float)coefficients[2 * c + 1];
            for (int b = 0; b < samples; b++)
            {
                int at = (b * channels + c) * spatial;
                BackwardPlane<TWidth, TVector>(ref MemoryMarshal.GetReference(x.Slice(at, spatial)), ref MemoryMarshal.GetReference(dy.Slice(at, spatial)),
                    ref MemoryMarshal.GetReference(dx.Slice(at, spatial)), (nuint)spatial, hi, lo, rs, k, a, bx);
            }
        }
    }

    // y = ((x − hi) − lo)·scale + shift over one plane.
    private static void NormalizePlane<TWidth, TVector>(ref float x, ref float y, nuint n, float hi, float lo, float scale, float shift)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint l = (nuint)TWidth.Count, i = 0;
        TVector vh = TWidth.Broadcast(hi), vl = TWidth.Broadcast(lo), vs = TWidth.Broadcast(scale), vt = TWidth.Broadcast(shift);
        for (; i + l <= n; i += l)
            TWidth.Store(TWidth.MultiplyAdd(TWidth.Subtract(TWidth.Subtract(TWidth.Load(ref x, i), vh), vl), vs, vt), ref y, i);
        for (; i < n; i++)
            Unsafe.Add(ref y, i) = ((Unsafe.Add(ref x, i) - hi) - lo) * scale + shift;
    }

    // dx = k·(dy − (a + x̂·b)) with x̂ = ((x − hi) − lo)·rstd, k = gamma·rstd.
    private static void BackwardPlane<TWidth, TVector>(ref float x, ref float dy, ref float dx, nuint n, float hi, float lo, float rstd, float k, float a, float b)
        where TWidth : struct, IVectorWidth<TVector> where TVector : struct
    {
        nuint l = (nuint)TWidth.Count, i = 0;
        TVector vh = TWidth.Broadcast(hi), vl = TWidth.Broadcast(lo), vr = TWidth.Broadcast(rstd), vk = TWidth.Broadcast(k),
            va = TWidth.Broadcast(a), vb = TWidth.Broadcast(b);
        for (; i + l <= n; i += l)
        {
            var xh = TWidth.Multiply(TWidth.Subtract(TWidth.Subtract(TWidth.Load(ref x, i), vh), vl), vr);
            TWidth.Store(TWidth.Multiply(vk, TWidth.Subtract(TWidth.Load(ref dy, i), TWidth.MultiplyAdd(xh, vb, va))), ref dx, i);
        }
        for (; i < n; i++)
        {
            float xh = ((Unsafe.Add(ref x, i) - hi) - lo) * rstd;
            Unsafe.Add(ref dx, i) = k * (Unsafe.Add(ref dy, i) - (xh * b + a));
        }
    }

    // ---------------------------------------------------------------- checks

    private static void CheckLayerNorm(int xLength, int gammaLength, int rows, int features, string xName)
    {
        Sizes.Positive(features, nameof(features));
        Sizes.Need(xLength, Sizes.Product(rows, nameof(rows), features, nameof(features)), xName, "x [{0}, {1}]", rows, features);
        Sizes.Need(gammaLength, features, "gamma", "one per feature ({0})", features);
    }

    private static void CheckBatchNorm(int xLength, string xName, int samples, int channels, int spatial)
    {
        Sizes.Positive(channels, nameof(channels));
        Sizes.Positive(spatial, nameof(spatial));
        Sizes.Need(xLength, Sizes.Product(samples, nameof(samples), channels, nameof(channels), spatial, nameof(spatial)), xName, "x [{0}, {1}, {2}]", samples, channels, spatial);
    }

    private static void CheckChannels(int gammaLength, int betaLength, int channels, string gammaName = "gamma", string betaName = "beta")
    {
        Sizes.Need(gammaLength, channels, gammaName, "one per channel ({0})", channels);
        Sizes.Need(betaLength, channels, betaName, "one per channel ({0})", channels);
    }

    private static void CheckEpsilon(float epsilon)
    {
        if (!(epsilon > 0 && float.IsFinite(epsilon)))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"epsilon must be positive and finite, but is {epsilon}.");
    }
}
