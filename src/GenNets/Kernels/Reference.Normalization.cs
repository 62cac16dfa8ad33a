using System;
using System.Collections.Generic;

namespace GenNets.Kernels;

// The normalisation layers' twins: LayerNorm and BatchNorm (training, inference, backward), in double precision.
public static partial class Reference
{
    /// <summary>
    /// Layer normalisation over the last axis of x [rows, features], as PyTorch's: y = (x − mean)/√(var + ε)·gamma + beta
    /// per row, with the biased variance computed in two passes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static double[] LayerNorm(ReadOnlySpan<double> x, ReadOnlySpan<double> gamma, ReadOnlySpan<double> beta, int rows, int features, double epsilon = 1e-5)
    {
        Sizes.Positive(features, nameof(features));
        Sizes.Need(x.Length, Sizes.Product(rows, nameof(rows), features, nameof(features)), nameof(x), "x [{0}, {1}]", rows, features);
        Sizes.Need(gamma.Length, features, nameof(gamma), "one per feature ({0})", features);
        Sizes.Need(beta.Length, features, nameof(beta), "one per feature ({0})", features);
        var y = new double[rows * features];
        for (int r = 0; r < rows; r++)
        {
            var (mean, rstd) = RowStatistics(x.Slice(r * features, features), epsilon);
            for (int j = 0; j < features; j++)
                y[r * features + j] = (x[r * features + j] - mean) * rstd * gamma[j] + beta[j];
        }
        return y;
    }

    /// <summary>
    /// The gradients of <see cref="LayerNorm"/> for the output gradient dy: returns dx, and adds Σ_rows dy·x̂ to
    /// <paramref name="dgamma"/> and Σ_rows dy to <paramref name="dbeta"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static double[] LayerNormBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> gamma, ReadOnlySpan<double> dy, int rows, int features,
        Span<double> dgamma, Span<double> dbeta, double epsilon = 1e-5)
    {
        Sizes.Positive(features, nameof(features));
        long n = Sizes.Product(rows, nameof(rows), features, nameof(features));
        Sizes.Need(x.Length, n, nameof(x), "x [{0}, {1}]", rows, features);
        Sizes.Need(dy.Length, n, nameof(dy), "dy [{0}, {1}]", rows, features);
        Sizes.Need(gamma.Length, features, nameof(gamma), "one per feature ({0})", features);
        Sizes.Need(dgamma.Length, features, nameof(dgamma), "one per feature ({0})", features);
        Sizes.Need(dbeta.Length, features, nameof(dbeta), "one per feature ({0})", features);
        var dx = new double[n];
        for (int r = 0; r < rows; r++)
        {
            int at = r * features;
            var (mean, rstd) = RowStatistics(x.Slice(at, features), epsilon);
            double sg = 0, sgx = 0;
            for (int j = 0; j < features; j++)
            {
                double xh = (x[at + j] - mean) * rstd, g = dy[at + j] * gamma[j];
                sg += g;
                sgx += g * xh;
                dgamma[j] += dy[at + j] * xh;
                dbeta[j] += dy[at + j];
            }
            for (int j = 0; j < features; j++)
            {
                double xh = (x[at + j] - mean) * rstd;
                dx[at + j] = rstd * (dy[at + j] * gamma[j] - sg / features - xh * sgx / features);
            }
        }
        return dx;
    }

    /// <summary>
    /// Batch normalisation in training over x [batch, channels, spatial], as PyTorch's: each channel normalised by its
    /// mean and biased variance over batch·spatial values, then y = x̂·gamma + beta. Where
    /// <paramref name="runningMean"/> and <paramref name="runningVariance"/> are not empty they are updated:
    /// running = (1 − momentum)·running + momentum·statistic, with the unbiased variance.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range, or a channel has fewer than two values.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static double[] BatchNorm(ReadOnlySpan<double> x, ReadOnlySpan<double> gamma, ReadOnlySpan<double> beta, int batch, int channels, int spatial,
        Span<double> runningMean = default, Span<double> runningVariance = default, double momentum = 0.1, double epsilon = 1e-5)
    {
        CheckBatchNorm(x.Length, gamma.Length, batch, channels, spatial);
        Sizes.Need(beta.Length, channels, nameof(beta), "one per channel ({0})", channels);
        var y = new double[batch * channels * spatial];
        for (int c = 0; c < channels; c++)
        {
            var (mean, variance) = ChannelStatistics(x, batch, channels, spatial, c);
            double rstd = 1 / Math.Sqrt(variance + epsilon);
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < spatial; i++)
                {
                    int at = (b * channels + c) * spatial + i;
                    y[at] = (x[at] - mean) * rstd * gamma[c] + beta[c];
                }
            int n = batch * spatial;
            if (!runningMean.IsEmpty) runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
            if (!runningVariance.IsEmpty) runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * variance * n / (n - 1);
        }
        return y;
    }

    /// <summary>Batch normalisation in inference: y = (x − runningMean)/√(runningVariance + ε)·gamma + beta per channel.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static double[] BatchNormInference(ReadOnlySpan<double> x, ReadOnlySpan<double> gamma, ReadOnlySpan<double> beta, ReadOnlySpan<double> runningMean,
        ReadOnlySpan<double> runningVariance, int batch, int channels, int spatial, double epsilon = 1e-5)
    {
        Sizes.Positive(channels, nameof(channels));
        Sizes.Positive(spatial, nameof(spatial));
        Sizes.Need(x.Length, Sizes.Product(batch, nameof(batch), channels, nameof(channels), spatial, nameof(spatial)), nameof(x), "x [{0}, {1}, {2}]", batch, channels, spatial);
        Sizes.Need(gamma.Length, channels, nameof(gamma), "one per channel ({0})", channels);
        Sizes.Need(beta.Length, channels, nameof(beta), "one per channel ({0})", channels);
        Sizes.Need(runningMean.Length, channels, nameof(runningMean), "one per channel ({0})", channels);
        Sizes.Need(runningVariance.Length, channels, nameof(runningVariance), "one per channel ({0})", channels);
        var y = new double[batch * channels * spatial];
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
                for (int i = 0; i < spatial; i++)
                {
                    int at = (b * channels + c) * spatial + i;
                    y[at] = (x[at] - runningMean[c]) / Math.Sqrt(runningVariance[c] + epsilon) * gamma[c] + beta[c];
                }
        return y;
    }

    /// <summary>
    /// The gradients of <see cref="BatchNorm"/> in training for the output gradient dy: returns dx, and adds Σ dy·x̂ to
    /// <paramref name="dgamma"/> and Σ dy to <paramref name="dbeta"/> per channel.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range, or a channel has fewer than two values.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public static double[] BatchNormBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> gamma, ReadOnlySpan<double> dy, int batch, int channels, int spatial,
        Span<double> dgamma, Span<double> dbeta, double epsilon = 1e-5)
    {
        CheckBatchNorm(x.Length, gamma.Length, batch, channels, spatial);
        Sizes.Need(dy.Length, (long)batch * channels * spatial, nameof(dy), "dy [{0}, {1}, {2}]", batch, channels, spatial);
        Sizes.Need(dgamma.Length, channels, nameof(dgamma), "one per channel ({0})", channels);
        Sizes.Need(dbeta.Length, channels, nameof(dbeta), "one per channel ({0})", channels);
        var dx = new double[batch * channels * spatial];
        int n = batch * spatial;
        for (int c = 0; c < channels; c++)
        {
            var (mean, variance) = ChannelStatistics(x, batch, channels, spatial, c);
            double rstd = 1 / Math.Sqrt(variance + epsilon), sd = 0, sdx = 0;
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < spatial; i++)
                {
                    int at = (b * channels + c) * spatial + i;
                    sd += dy[at];
                    sdx += dy[at] * (x[at] - mean) * rstd;
                }
            dgamma[c] += sdx;
            dbeta[c] += sd;
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < spatial; i++)
                {
                    int at = (b * channels + c) * spatial + i;
                    double xh = (x[at] - mean) * rstd;
                    dx[at] = gamma[c] * rstd * (dy[at] - sd / n - xh * sdx / n);
                }
        }
        return dx;
    }

    // A row's mean and 1/√(biased variance + ε), in two passes.
    private static (double Mean, double Rstd) RowStatistics(ReadOnlySpan<double> row, double epsilon)
    {
        double mean = 0, variance = 0;
        foreach (double v in row) mean += v;
        mean /= row.Length;
        foreach (double v in row) variance += (v - mean) * (v - mean);
        return (mean, 1 / Math.Sqrt(variance / row.Length + epsilon));
    }

    // A channel's mean and biased variance over batch·spatial values, in two passes.
    private static (double Mean, double Variance) ChannelStatistics(ReadOnlySpan<double> x, int batch, int channels, int spatial, int c)
    {
        double mean = 0, variance = 0;
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < spatial; i++) mean += x[(b * channels + c) * spatial + i];
        mean /= batch * spatial;
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < spatial; i++)
            {
                double d = x[(b * channels + c) * spatial + i] - mean;
                variance += d * d;
            }
        return (mean, variance / (batch * spatial));
    }

    private static void CheckBatchNorm(int xLength, int gammaLength, int batch, int channels, int spatial)
    {
        Sizes.Positive(channels, nameof(channels));
        Sizes.Positive(spatial, nameof(spatial));
        Sizes.Need(xLength, Sizes.Product(batch, nameof(batch), channels, nameof(channels), spatial, nameof(spatial)), "x", "x [{0}, {1}, {2}]", batch, channels, spatial);
        Sizes.Need(gammaLength, channels, "gamma", "one per channel ({0})", channels);
        if ((long)batch * spatial < 2)
            throw new ArgumentOutOfRangeException(nameof(batch), $"Training statistics need more than one value per channel, but batch × spatial = {batch} × {spatial}.");
    }
}
