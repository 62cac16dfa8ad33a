using System;
using System.Collections.Generic;

namespace GenNets.Kernels;

/// <summary>
/// The naive twin of every fast kernel: plain loops in double precision, written for clarity, not
/// speed. Tests check the fast kernels and the generated code against these, and these against
/// central finite differences.
/// </summary>
public static partial class Reference
{
    /// <summary>C = A·Bᵀ (+ bias) for row-major A [m, k], B [n, k].</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or a matrix would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">A, B or a non-empty bias is shorter than its matrix.</exception>
    public static double[] MultiplyTransposed(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> bias, int m, int n, int k)
    {
        Sizes.Need(a.Length, Sizes.Product(m, nameof(m), k, nameof(k)), nameof(a), "A [{0}, {1}]", m, k);
        Sizes.Need(b.Length, Sizes.Product(n, nameof(n), k, nameof(k)), nameof(b), "B [{0}, {1}]", n, k);
        Sizes.Product(m, nameof(m), n, nameof(n));
        if (!bias.IsEmpty) Sizes.Need(bias.Length, n, nameof(bias), "a bias of n = {0}", n);
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = bias.IsEmpty ? 0 : bias[j];
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
                c[i * n + j] = s;
            }
        return c;
    }

    /// <summary>C = A·B for row-major A [m, k], B [k, n].</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or a matrix would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">A or B is shorter than its matrix.</exception>
    public static double[] Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int m, int n, int k)
    {
        Sizes.Need(a.Length, Sizes.Product(m, nameof(m), k, nameof(k)), nameof(a), "A [{0}, {1}]", m, k);
        Sizes.Need(b.Length, Sizes.Product(k, nameof(k), n, nameof(n)), nameof(b), "B [{0}, {1}]", k, n);
        Sizes.Product(m, nameof(m), n, nameof(n));
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = s;
            }
        return c;
    }

    /// <summary>y = f(z) elementwise (softmax per row of <paramref name="cols"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">For softmax, <paramref name="cols"/> is less than 1; or the activation is unknown.</exception>
    public static double[] Activate(Activation activation, ReadOnlySpan<double> z, int cols)
    {
        if (activation == Activation.Softmax) Sizes.Positive(cols, nameof(cols));
        var y = new double[z.Length];
        for (int i = 0; i < z.Length; i++)
        {
            double v = z[i];
            y[i] = activation switch
            {
                Activation.Identity or Activation.Softmax => v,
                Activation.ReLU => v > 0 ? v : 0,
                Activation.LeakyReLU => v > 0 ? v : Activations.LeakySlope * v,
                Activation.Sigmoid => 1 / (1 + Math.Exp(-v)),
                Activation.Tanh => Math.Tanh(v),
                Activation.GELU => 0.5 * v * (1 + SpecialFunctions.Erf(v / Math.Sqrt(2))),
                Activation.GELUTanh => GELUTanh(v),
                _ => throw new ArgumentOutOfRangeException(nameof(activation)),
            };
        }
        if (activation == Activation.Softmax)
            for (int r = 0; r < z.Length / cols; r++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int c = 0; c < cols; c++) max = Math.Max(max, z[r * cols + c]);
                for (int c = 0; c < cols; c++) sum += y[r * cols + c] = Math.Exp(z[r * cols + c] - max);
                for (int c = 0; c < cols; c++) y[r * cols + c] /= sum;
            }
        return y;
    }

    /// <summary>dz = dy·f′(z), with the full Jacobian for softmax.</summary>
    /// <exception cref="ArgumentOutOfRangeException">For softmax, <paramref name="cols"/> is less than 1; or the activation is unknown.</exception>
    /// <exception cref="ArgumentException"><paramref name="y"/> or <paramref name="dy"/> is shorter than <paramref name="z"/>.</exception>
    public static double[] ActivateBackward(Activation activation, ReadOnlySpan<double> z, ReadOnlySpan<double> y, ReadOnlySpan<double> dy, int cols)
    {
        if (activation == Activation.Softmax) Sizes.Positive(cols, nameof(cols));
        Sizes.AsLong(y.Length, z.Length, nameof(y), "z");
        Sizes.AsLong(dy.Length, z.Length, nameof(dy), "z");
        var dz = new double[z.Length];
        if (activation == Activation.Softmax)
        {
            for (int r = 0; r < z.Length / cols; r++)
                for (int i = 0; i < cols; i++)
                {
                    double s = 0;
                    for (int j = 0; j < cols; j++)
                        s += dy[r * cols + j] * y[r * cols + j] * ((i == j ? 1 : 0) - y[r * cols + i]);
                    dz[r * cols + i] = s;
                }
            return dz;
        }
        for (int i = 0; i < z.Length; i++)
        {
            double v = z[i], o = y[i];
            double d = activation switch
            {
                Activation.Identity => 1,
                Activation.ReLU => v > 0 ? 1 : 0,
                Activation.LeakyReLU => v > 0 ? 1 : Activations.LeakySlope,
                Activation.Sigmoid => o * (1 - o),
                Activation.Tanh => 1 - o * o,
                Activation.GELU => 0.5 * (1 + SpecialFunctions.Erf(v / Math.Sqrt(2))) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI),
                Activation.GELUTanh => GELUTanhDerivative(v),
                _ => throw new ArgumentOutOfRangeException(nameof(activation)),
            };
            dz[i] = dy[i] * d;
        }
        return dz;
    }

    /// <summary>The mean loss and its gradient with respect to the outputs, by definition (no fusion tricks).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is less than 1, the outputs would hold more than <see cref="int.MaxValue"/> values, or the loss is unknown.</exception>
    /// <exception cref="ArgumentException">The outputs, the gradient, or the targets (the labels if given, else the values) are shorter than the loss reads.</exception>
    public static double Loss(LossKind loss, ReadOnlySpan<double> outputs, ReadOnlySpan<int> labels, ReadOnlySpan<double> values, int rows, int cols, Span<double> gradient)
    {
        Sizes.Positive(rows, nameof(rows));
        Sizes.Positive(cols, nameof(cols));
        long count = Sizes.Product(rows, nameof(rows), cols, nameof(cols));
        Sizes.Need(outputs.Length, count, nameof(outputs), "{0} rows of {1}", rows, cols);
        Sizes.Need(gradient.Length, count, nameof(gradient), "{0} rows of {1}", rows, cols);
        if (labels.IsEmpty || loss == LossKind.MeanSquaredError) Sizes.Need(values.Length, count, nameof(values), "{0} rows of {1}", rows, cols);
        else Sizes.Need(labels.Length, loss == LossKind.SoftmaxCrossEntropy ? rows : count, nameof(labels), "{0} rows of {1}", rows, cols);
        double total = 0;
        switch (loss)
        {
            case LossKind.MeanSquaredError:
                for (int i = 0; i < rows * cols; i++)
                {
                    double d = outputs[i] - values[i];
                    total += d * d;
                    gradient[i] = 2 * d / (rows * cols);
                }
                return total / (rows * cols);
            case LossKind.BinaryCrossEntropyWithLogits:
                for (int i = 0; i < rows * cols; i++)
                {
                    double p = 1 / (1 + Math.Exp(-outputs[i]));
                    double t = labels.IsEmpty ? values[i] : labels[i];
                    total -= t * Math.Log(p) + (1 - t) * Math.Log(1 - p);
                    gradient[i] = (p - t) / (rows * cols);
                }
                return total / (rows * cols);
            case LossKind.SoftmaxCrossEntropy:
                for (int r = 0; r < rows; r++)
                {
                    double max = double.NegativeInfinity, sum = 0;
                    for (int c = 0; c < cols; c++) max = Math.Max(max, outputs[r * cols + c]);
                    for (int c = 0; c < cols; c++) sum += Math.Exp(outputs[r * cols + c] - max);
                    for (int c = 0; c < cols; c++)
                    {
                        double p = Math.Exp(outputs[r * cols + c] - max) / sum;
                        double t = labels.IsEmpty ? values[r * cols + c] : (labels[r] == c ? 1 : 0);
                        total -= t * Math.Log(p);
                        gradient[r * cols + c] = (p - t) / rows;
                    }
                }
                return total / rows;
            default:
                throw new ArgumentOutOfRangeException(nameof(loss));
        }
    }

    /// <summary>Y [batch, outC, outH, outW] = the cross-correlation of X [batch, inC, H, W] with W [outC, inC, kh, kw], plus bias, as PyTorch's Conv2d.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, or the batch would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">X, the weights or the bias is shorter than the geometry and batch need.</exception>
    public static double[] Conv2D(ReadOnlySpan<double> x, ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, int batch, Conv2DGeometry g)
    {
        CheckConv2D(x.Length, weight.Length, bias.Length, nameof(bias), batch, g);
        var y = new double[batch * g.OutputLength];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        double s = bias[o];
                        for (int c = 0; c < g.InChannels; c++)
                            for (int i = 0; i < g.KernelHeight; i++)
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int iy = oy * g.Stride + i - g.PadTop, ix = ox * g.Stride + j - g.PadLeft;
                                    if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                    s += weight[((o * g.InChannels + c) * g.KernelHeight + i) * g.KernelWidth + j]
                                         * x[((n * g.InChannels + c) * g.Height + iy) * g.Width + ix];
                                }
                        y[((n * g.OutChannels + o) * g.OutHeight + oy) * g.OutWidth + ox] = s;
                    }
        return y;
    }

    /// <summary>The gradients of <see cref="Conv2D"/>: adds to <paramref name="weightGradient"/> and <paramref name="biasGradient"/>, returns dX.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, or the batch would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">A span is shorter than the geometry and batch need.</exception>
    public static double[] Conv2DBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> weight, ReadOnlySpan<double> dy, int batch, Conv2DGeometry g,
        Span<double> weightGradient, Span<double> biasGradient)
    {
        CheckConv2D(x.Length, weight.Length, biasGradient.Length, nameof(biasGradient), batch, g);
        Sizes.Need(dy.Length, (long)batch * g.OutputLength, nameof(dy), "a batch of {0} outputs of {1}", batch, g.OutputLength);
        Sizes.Need(weightGradient.Length, g.WeightLength, nameof(weightGradient), "weights [{0}, {1}]", g.OutChannels, g.Patch);
        var dx = new double[batch * g.InputLength];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        double d = dy[((n * g.OutChannels + o) * g.OutHeight + oy) * g.OutWidth + ox];
                        biasGradient[o] += d;
                        for (int c = 0; c < g.InChannels; c++)
                            for (int i = 0; i < g.KernelHeight; i++)
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int iy = oy * g.Stride + i - g.PadTop, ix = ox * g.Stride + j - g.PadLeft;
                                    if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                    int wi = ((o * g.InChannels + c) * g.KernelHeight + i) * g.KernelWidth + j;
                                    int xi = ((n * g.InChannels + c) * g.Height + iy) * g.Width + ix;
                                    weightGradient[wi] += d * x[xi];
                                    dx[xi] += d * weight[wi];
                                }
                    }
        return dx;
    }

    /// <summary>
    /// Pooling of <paramref name="planes"/> planes of H×W with size×size windows, <paramref name="stride"/> apart, no padding:
    /// the maximum (first one on a tie) or the mean of each window.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, the window or stride less than 1, the window larger than the input, or the planes would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">X is shorter than its planes.</exception>
    public static double[] Pool(bool max, ReadOnlySpan<double> x, int planes, int height, int width, int size, int stride)
    {
        var (outH, outW) = CheckPool(x.Length, planes, height, width, size, stride);
        var y = new double[planes * outH * outW];
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    double m = double.NegativeInfinity, s = 0;
                    for (int i = 0; i < size; i++)
                        for (int j = 0; j < size; j++)
                        {
                            double v = x[(p * height + oy * stride + i) * width + ox * stride + j];
                            m = Math.Max(m, v);
                            s += v;
                        }
                    y[(p * outH + oy) * outW + ox] = max ? m : s / (size * size);
                }
        return y;
    }

    /// <summary>The gradient of <see cref="Pool"/> with respect to its input: to the first maximum of each window, or spread evenly.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, the window or stride less than 1, the window larger than the input, or the planes would hold more than <see cref="int.MaxValue"/> values.</exception>
    /// <exception cref="ArgumentException">X is shorter than its planes, or dY than the output's.</exception>
    public static double[] PoolBackward(bool max, ReadOnlySpan<double> x, ReadOnlySpan<double> dy, int planes, int height, int width, int size, int stride)
    {
        var (outH, outW) = CheckPool(x.Length, planes, height, width, size, stride);
        Sizes.Need(dy.Length, (long)planes * outH * outW, nameof(dy), "{0} planes of {1}×{2} outputs", planes, outH, outW);
        var dx = new double[planes * height * width];
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    double d = dy[(p * outH + oy) * outW + ox];
                    int best = -1;
                    for (int i = 0; i < size; i++)
                        for (int j = 0; j < size; j++)
                        {
                            int index = (p * height + oy * stride + i) * width + ox * stride + j;
                            if (!max) dx[index] += d / (size * size);
                            else if (best < 0 || x[index] > x[best]) best = index;
                        }
                    if (max) dx[best] += d;
                }
        return dx;
    }

    /// <summary>
    /// A recurrent layer over <paramref name="batch"/> samples [batch][steps][inputs], one sample, one step and one unit at a
    /// time, exactly as PyTorch's equations read. Returns the output ([batch][steps][units] or [batch][units]). With
    /// <paramref name="lengths"/>, sample s runs its first lengths[s] steps only: its last state is the one after them, and
    /// its outputs at later steps are zero.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, the batch would hold more than <see cref="int.MaxValue"/> values, or a length is outside 0 to the steps.</exception>
    /// <exception cref="ArgumentException">X or the parameters are shorter than the geometry and batch need, or non-empty lengths do not give one length a sample.</exception>
    public static double[] Recurrent(ReadOnlySpan<double> x, ReadOnlySpan<double> parameters, int batch, RecurrentGeometry g, ReadOnlySpan<int> lengths = default)
    {
        CheckRecurrent(x.Length, parameters.Length, batch, g, lengths);
        var y = new double[batch * g.OutputLength];
        RecurrentPass(x, parameters, batch, g, lengths, y, default, default, default);
        return y;
    }

    /// <summary>
    /// Backpropagation through time for <see cref="Recurrent"/>: adds the parameters' gradients into <paramref name="gradient"/>
    /// (laid out as the parameters) and returns the input gradient.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="g"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative, the batch would hold more than <see cref="int.MaxValue"/> values, or a length is outside 0 to the steps.</exception>
    /// <exception cref="ArgumentException">A span is shorter than the geometry and batch need, or non-empty lengths do not give one length a sample.</exception>
    public static double[] RecurrentBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> parameters, ReadOnlySpan<double> dy, int batch, RecurrentGeometry g, Span<double> gradient,
        ReadOnlySpan<int> lengths = default)
    {
        CheckRecurrent(x.Length, parameters.Length, batch, g, lengths);
        Sizes.Need(dy.Length, (long)batch * g.OutputLength, nameof(dy), "a batch of {0} outputs of {1}", batch, g.OutputLength);
        Sizes.Need(gradient.Length, g.ParameterLength, nameof(gradient), "the parameters of {0} units", g.Hidden);
        var dx = new double[batch * g.InputLength];
        RecurrentPass(x, parameters, batch, g, lengths, new double[batch * g.OutputLength], dy, gradient, dx);
        return dx;
    }

    private static void CheckConv2D(int x, int weight, int bias, string biasName, int batch, Conv2DGeometry g)
    {
        ArgumentNullException.ThrowIfNull(g);
        Sizes.Need(x, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(x), "a batch of {0} inputs of {1}", batch, g.InputLength);
        Sizes.Product(batch, nameof(batch), g.OutputLength, nameof(g));
        Sizes.Need(weight, g.WeightLength, nameof(weight), "weights [{0}, {1}]", g.OutChannels, g.Patch);
        Sizes.Need(bias, g.OutChannels, biasName, "a bias of {0} filters", g.OutChannels);
    }

    private static (int OutHeight, int OutWidth) CheckPool(int x, int planes, int height, int width, int size, int stride)
    {
        Sizes.Positive(size, nameof(size));
        Sizes.Positive(stride, nameof(stride));
        Sizes.Need(x, Sizes.Product(planes, nameof(planes), height, nameof(height), width, nameof(width)), nameof(x), "{0} planes of {1}×{2}", planes, height, width);
        if (size > height || size > width)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"A window of {size}×{size} does not fit a {height}×{width} input.");
        return ((height - size) / stride + 1, (width - size) / stride + 1);
    }

    private static void CheckRecurrent(int x, int parameters, int batch, RecurrentGeometry g, ReadOnlySpan<int> lengths)
    {
        ArgumentNullException.ThrowIfNull(g);
        Sizes.Need(x, Sizes.Product(batch, nameof(batch), g.InputLength, nameof(g)), nameof(x), "a batch of {0} inputs of {1}", batch, g.InputLength);
        Sizes.Product(batch, nameof(batch), g.OutputLength, nameof(g));
        Sizes.Need(parameters, g.ParameterLength, nameof(parameters), "the parameters of {0} units", g.Hidden);
        Guard.Lengths(lengths, batch, g.Steps);
    }

    // Forward for each sample, keeping its states and gates; then, if dy is given, backward through time for it.
    private static void RecurrentPass(ReadOnlySpan<double> x, ReadOnlySpan<double> p, int batch, RecurrentGeometry g, ReadOnlySpan<int> lengths,
        Span<double> y, ReadOnlySpan<double> dy, Span<double> gradient, Span<double> dx)
    {
        int T = g.Steps, I = g.Inputs, H = g.Hidden, G = g.Gates, GH = g.GateWidth;
        int whh = g.InputWeightLength, bih = whh + g.HiddenWeightLength, bhh = bih + GH;
        double Sig(double v) => 1 / (1 + Math.Exp(-v));
        for (int s = 0; s < batch; s++)
        {
            int steps = lengths.IsEmpty ? T : lengths[s];
            // Pre-activations from the input side (ai) and the hidden side (ah), gate outputs, states and cells.
            var ai = new double[T, GH];
            var ah = new double[T, GH];
            var act = new double[T, GH];
            var h = new double[T + 1, H];
            var c = new double[T + 1, H];
            for (int t = 0; t < steps; t++)
            {
                for (int r = 0; r < GH; r++)
                {
                    double sx = p[bih + r], sh = p[bhh + r];
                    for (int k = 0; k < I; k++) sx += p[r * I + k] * x[(s * T + t) * I + k];
                    for (int k = 0; k < H; k++) sh += p[whh + r * H + k] * h[t, k];
                    ai[t, r] = sx;
                    ah[t, r] = sh;
                }
                for (int j = 0; j < H; j++)
                {
                    switch (g.Cell)
                    {
                        case LayerKind.SimpleRNN:
                            h[t + 1, j] = act[t, j] = Math.Tanh(ai[t, j] + ah[t, j]);
                            break;
                        case LayerKind.LSTM:
                        {
                            double i = act[t, j] = Sig(ai[t, j] + ah[t, j]);
                            double f = act[t, H + j] = Sig(ai[t, H + j] + ah[t, H + j]);
                            double gg = act[t, 2 * H + j] = Math.Tanh(ai[t, 2 * H + j] + ah[t, 2 * H + j]);
                            double o = act[t, 3 * H + j] = Sig(ai[t, 3 * H + j] + ah[t, 3 * H + j]);
                            c[t + 1, j] = f * c[t, j] + i * gg;
                            h[t + 1, j] = o * Math.Tanh(c[t + 1, j]);
                            break;
                        }
                        default: // GRU
                        {
                            double r = act[t, j] = Sig(ai[t, j] + ah[t, j]);
                            double z = act[t, H + j] = Sig(ai[t, H + j] + ah[t, H + j]);
                            double n = act[t, 2 * H + j] = Math.Tanh(ai[t, 2 * H + j] + r * ah[t, 2 * H + j]);
                            h[t + 1, j] = (1 - z) * n + z * h[t, j];
                            break;
                        }
                    }
                }
            }
            for (int j = 0; j < H; j++)
                if (g.ReturnSequences)
                    for (int t = 0; t < steps; t++) y[(s * T + t) * H + j] = h[t + 1, j];
                else
                    y[s * H + j] = h[steps, j];
            if (dy.IsEmpty) continue;

            var dhNext = new double[H];
            var dcNext = new double[H];
            for (int t = steps - 1; t >= 0; t--)
            {
                var dh = new double[H];
                for (int j = 0; j < H; j++)
                    dh[j] = dhNext[j] + (g.ReturnSequences ? dy[(s * T + t) * H + j] : t == steps - 1 ? dy[s * H + j] : 0);
                // Gradients of the input-side (dai) and hidden-side (dah) pre-activations.
                var dai = new double[GH];
                var dah = new double[GH];
                Array.Clear(dhNext);
                for (int j = 0; j < H; j++)
                {
                    switch (g.Cell)
                    {
                        case LayerKind.SimpleRNN:
                            dai[j] = dah[j] = dh[j] * (1 - h[t + 1, j] * h[t + 1, j]);
                            break;
                        case LayerKind.LSTM:
                        {
                            double i = act[t, j], f = act[t, H + j], gg = act[t, 2 * H + j], o = act[t, 3 * H + j];
                            double tc = Math.Tanh(c[t + 1, j]);
                            double dc = dcNext[j] + dh[j] * o * (1 - tc * tc);
                            dai[j] = dah[j] = dc * gg * i * (1 - i);
                            dai[H + j] = dah[H + j] = dc * c[t, j] * f * (1 - f);
                            dai[2 * H + j] = dah[2 * H + j] = dc * i * (1 - gg * gg);
                            dai[3 * H + j] = dah[3 * H + j] = dh[j] * tc * o * (1 - o);
                            dcNext[j] = dc * f;
                            break;
                        }
                        default: // GRU
                        {
                            double r = act[t, j], z = act[t, H + j], n = act[t, 2 * H + j];
                            double dn = dh[j] * (1 - z) * (1 - n * n);
                            dai[j] = dah[j] = dn * ah[t, 2 * H + j] * r * (1 - r);
                            dai[H + j] = dah[H + j] = dh[j] * (h[t, j] - n) * z * (1 - z);
                            dai[2 * H + j] = dn;
                            dah[2 * H + j] = dn * r;
                            dhNext[j] += dh[j] * z;
                            break;
                        }
                    }
                }
                for (int r = 0; r < GH; r++)
                {
                    gradient[bih + r] += dai[r];
                    gradient[bhh + r] += dah[r];
                    for (int k = 0; k < I; k++)
                    {
                        gradient[r * I + k] += dai[r] * x[(s * T + t) * I + k];
                        dx[(s * T + t) * I + k] += dai[r] * p[r * I + k];
                    }
                    for (int k = 0; k < H; k++)
                    {
                        gradient[whh + r * H + k] += dah[r] * h[t, k];
                        dhNext[k] += dah[r] * p[whh + r * H + k];
                    }
                }
            }
        }
    }

    /// <summary>
    /// A whole network, layer by layer, in double precision: returns the mean loss over the batch and,
    /// when <paramref name="gradient"/> is not empty, writes the gradient of that loss with respect to every parameter.
    /// With <paramref name="dropoutSeed"/> null dropout is off (inference); otherwise it draws the same masks as the generated code.
    /// With <paramref name="lengths"/>, each sample's sequence is that many steps long (see <see cref="Recurrent"/>); a
    /// sequence output is zero on the padding steps, which the loss leaves out of its mean.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is less than 1, or the batch's inputs would hold more than <see cref="int.MaxValue"/> values; or, from the layers' references, a size they refuse.</exception>
    /// <exception cref="ArgumentException">There are no layers, or the inputs, the targets or the lengths are too short for the batch.</exception>
    public static double NetworkLoss(
        IReadOnlyList<LayerInfo> layers, LossKind loss, ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, int batch,
        ReadOnlySpan<int> labels, ReadOnlySpan<double> values, Span<double> gradient, ulong? dropoutSeed = null, long step = 0, ReadOnlySpan<int> lengths = default)
    {
        CheckNetwork(layers, inputs.Length, batch);
        var (xs, zs, masks) = RunForward(layers, parameters, inputs, batch, dropoutSeed, step, lengths, training: true);
        double[] output = xs[^1];
        int outCols = layers[^1].OutputShape[^1];
        var d = new double[output.Length];
        double value;
        if (IsSequenceOutput(layers, lengths))
        {
            // The mean over the true steps: each sample's own mean, weighted by its length.
            int steps = layers[^1].OutputShape[0];
            long valid = 0;
            foreach (int l in lengths.Slice(0, batch)) valid += l;
            value = 0;
            for (int b = 0; b < batch && valid > 0; b++)
            {
                int length = lengths[b];
                if (length == 0) continue;
                var part = d.AsSpan(b * steps * outCols, length * outCols);
                value += Loss(loss, output.AsSpan(b * steps * outCols, length * outCols), labels.IsEmpty ? default : labels.Slice(b * steps, length),
                    values.IsEmpty ? default : values.Slice(b * steps * outCols, length * outCols), length, outCols, part) * length / valid;
                for (int k = 0; k < part.Length; k++) part[k] *= (double)length / valid;
            }
        }
        else
            value = Loss(loss, output, labels, values, output.Length / outCols, outCols, d);
        if (gradient.IsEmpty) return value;
        Backward(layers, parameters, batch, xs, zs, masks, d, gradient, lengths);
        return value;
    }

    /// <summary>A whole network's outputs in inference mode (dropout off), in double precision.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is less than 1, or the batch's inputs would hold more than <see cref="int.MaxValue"/> values; or, from the layers' references, a size they refuse.</exception>
    /// <exception cref="ArgumentException">There are no layers, or the inputs or the lengths are too short for the batch.</exception>
    public static double[] NetworkOutputs(IReadOnlyList<LayerInfo> layers, ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, int batch, ReadOnlySpan<int> lengths = default)
    {
        CheckNetwork(layers, inputs.Length, batch);
        return RunForward(layers, parameters, inputs, batch, null, 0, lengths, training: false).Outputs[^1];
    }

    private static void CheckNetwork(IReadOnlyList<LayerInfo> layers, int inputs, int batch)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("A network needs at least one layer.", nameof(layers));
        Sizes.Positive(batch, nameof(batch));
        Sizes.Need(inputs, Sizes.Product(batch, nameof(batch), layers[0].InputLength, nameof(layers)), nameof(inputs), "a batch of {0} inputs of {1}", batch, layers[0].InputLength);
    }

    // A recurrent network whose output keeps the input's steps (its last recurrent layer's every state, and per-step
    // layers after it), as the generated code decides it.
    private static bool IsSequenceOutput(IReadOnlyList<LayerInfo> layers, ReadOnlySpan<int> lengths)
    {
        if (lengths.IsEmpty || layers[0].InputShape.Length != 2 || layers[^1].OutputShape.Length != 2 || layers[^1].OutputShape[0] != layers[0].InputShape[0])
            return false;
        foreach (var layer in layers)
            if (layer.Recurrent is not null) return true;
        return false;
    }

    // Every layer's input and output (xs[l] enters layer l), pre-activation (zs) and dropout mask.
    private static (List<double[]> Outputs, List<double[]> PreActivations, List<double[]?> Masks) RunForward(
        IReadOnlyList<LayerInfo> layers, ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, int batch, ulong? dropoutSeed, long step, ReadOnlySpan<int> lengths,
        bool training)
    {
        var xs = new List<double[]> { inputs.Slice(0, batch * layers[0].InputLength).ToArray() };
        var zs = new List<double[]>();
        var masks = new List<double[]?>();
        foreach (var layer in layers)
        {
            double[] x = xs[layer.Sources[0] + 1]; // xs[v + 1] is layer v's output; xs[0] the network's input
            switch (layer.Kind)
            {
                case LayerKind.BatchNorm:
                {
                    // Training normalises by the batch's statistics (leaving the running ones as they are); inference by the running ones.
                    var (channels, spatial) = BatchNormAxes(layer);
                    var gamma = parameters.Slice(layer.Weight!.Offset, channels);
                    var beta = parameters.Slice(layer.Bias!.Offset, channels);
                    double[] z = training
                        ? BatchNorm(x, gamma, beta, batch, channels, spatial)
                        : BatchNormInference(x, gamma, beta, parameters.Slice(layer.RunningMean!.Offset, channels), parameters.Slice(layer.RunningMean.Offset + channels, channels), batch, channels, spatial);
                    zs.Add(z);
                    masks.Add(null);
                    xs.Add(Activate(layer.Activation, z, 1));
                    break;
                }
                case LayerKind.LayerNorm:
                {
                    int features = layer.OutputShape[^1];
                    zs.Add(x);
                    masks.Add(null);
                    xs.Add(LayerNorm(x, parameters.Slice(layer.Weight!.Offset, features), parameters.Slice(layer.Bias!.Offset, features), x.Length / features, features));
                    break;
                }
                case LayerKind.Add:
                {
                    double[] skip = xs[layer.Sources[1] + 1];
                    var z = new double[x.Length];
                    for (int i = 0; i < z.Length; i++) z[i] = x[i] + skip[i];
                    zs.Add(z);
                    masks.Add(null);
                    xs.Add(Activate(layer.Activation, z, layer.OutputShape[^1]));
                    break;
                }
                case LayerKind.Dense:
                {
                    int inSize = layer.InputShape[^1], outSize = layer.OutputShape[^1], rows = x.Length / inSize;
                    double[] z = MultiplyTransposed(x, parameters.Slice(layer.Weight!.Offset, layer.Weight.Length), parameters.Slice(layer.Bias!.Offset, layer.Bias.Length), rows, outSize, inSize);
                    zs.Add(z);
                    masks.Add(null);
                    xs.Add(Activate(layer.Activation, z, outSize));
                    break;
                }
                case LayerKind.Dropout:
                {
                    zs.Add(x);
                    double[]? mask = null;
                    double[] y = (double[])x.Clone();
                    if (dropoutSeed is ulong seed && layer.Probability > 0)
                    {
                        var fx = new float[x.Length];
                        var fm = new float[x.Length];
                        Dropout.Forward(fx, fx, fm, layer.Probability, seed + (ulong)layer.Index, step, 0);
                        mask = Array.ConvertAll(fm, v => (double)v);
                        for (int i = 0; i < y.Length; i++) y[i] *= mask[i];
                    }
                    masks.Add(mask);
                    xs.Add(y);
                    break;
                }
                case LayerKind.Conv2D:
                {
                    var g = layer.Convolution!;
                    double[] z = Conv2D(x, parameters.Slice(layer.Weight!.Offset, layer.Weight.Length), parameters.Slice(layer.Bias!.Offset, layer.Bias.Length), batch, g);
                    zs.Add(z);
                    masks.Add(null);
                    xs.Add(Activate(layer.Activation, z, 1));
                    break;
                }
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    zs.Add(x);
                    masks.Add(null);
                    xs.Add(Pool(layer.Kind == LayerKind.MaxPool2D, x, batch * layer.InputShape[0], layer.InputShape[1], layer.InputShape[2], layer.KernelHeight, layer.Stride));
                    break;
                case LayerKind.GlobalAvgPool when layer.InputShape.Length == 2:
                {
                    // The mean over a sequence's positions.
                    int positions = layer.InputShape[0], features = layer.InputShape[1];
                    var y = new double[batch * features];
                    for (int b = 0; b < batch; b++)
                        for (int j = 0; j < features; j++)
                        {
                            for (int t = 0; t < positions; t++) y[b * features + j] += x[(b * positions + t) * features + j];
                            y[b * features + j] /= positions;
                        }
                    zs.Add(x);
                    masks.Add(null);
                    xs.Add(y);
                    break;
                }
                case LayerKind.Embedding:
                {
                    int features = layer.OutputShape[1], vocabulary = layer.Weight!.Shape[0];
                    var table = parameters.Slice(layer.Weight.Offset, layer.Weight.Length);
                    var y = new double[x.Length * features];
                    for (int r = 0; r < x.Length; r++)
                    {
                        int id = TokenId(x[r], vocabulary, r);
                        for (int j = 0; j < features; j++) y[r * features + j] = table[id * features + j];
                    }
                    zs.Add(x);
                    masks.Add(null);
                    xs.Add(y);
                    break;
                }
                case LayerKind.PositionalEncoding:
                {
                    int positions = layer.InputShape[0], features = layer.InputShape[1];
                    double[] table = layer.Weight is { } learned ? parameters.Slice(learned.Offset, positions * features).ToArray() : SinusoidalEncoding(positions, features);
                    var y = new double[x.Length];
                    for (int i = 0; i < y.Length; i++) y[i] = x[i] + table[i % (positions * features)];
                    zs.Add(x);
                    masks.Add(null);
                    xs.Add(y);
                    break;
                }
                case LayerKind.SelfAttention:
                {
                    var (qkv, heads) = AttentionHeads(layer, parameters, x, batch);
                    int model = layer.InputShape[1];
                    zs.Add(x);
                    masks.Add(null);
                    xs.Add(MultiplyTransposed(heads, parameters.Slice(layer.OutputWeight!.Offset, model * model), parameters.Slice(layer.OutputBias!.Offset, model), heads.Length / model, model, model));
                    break;
                }
                case LayerKind.GlobalAvgPool:
                {
                    int planes = batch * layer.InputShape[0], area = layer.InputShape[1] * layer.InputShape[2];
                    var y = new double[planes];
                    for (int p = 0; p < planes; p++)
                    {
                        for (int i = 0; i < area; i++) y[p] += x[p * area + i];
                        y[p] /= area;
                    }
                    zs.Add(x);
                    masks.Add(null);
                    xs.Add(y);
                    break;
                }
                case LayerKind.Flatten:
                    zs.Add(x);
                    masks.Add(null);
                    xs.Add(x);
                    break;
                case LayerKind.SimpleRNN:
                case LayerKind.LSTM:
                case LayerKind.GRU:
                    zs.Add(x);
                    masks.Add(null);
                    xs.Add(Recurrent(x, parameters.Slice(layer.Weight!.Offset, layer.Recurrent!.ParameterLength), batch, layer.Recurrent, lengths));
                    break;
                default:
                    throw new NotSupportedException($"The reference has no {layer.Kind} layer.");
            }
        }
        if (IsSequenceOutput(layers, lengths))
        {
            // The padding steps of a sequence output are zero.
            int steps = layers[^1].OutputShape[0], cols = layers[^1].OutputShape[1];
            double[] y = (double[])xs[^1].Clone();
            for (int b = 0; b < batch; b++)
                Array.Clear(y, (b * steps + lengths[b]) * cols, (steps - lengths[b]) * cols);
            xs[^1] = y;
        }
        return (xs, zs, masks);
    }

    // Backpropagation through the layers in reverse, from the loss's gradient d with respect to the outputs.
    private static void Backward(IReadOnlyList<LayerInfo> layers, ReadOnlySpan<double> parameters, int batch,
        List<double[]> xs, List<double[]> zs, List<double[]?> masks, double[] d, Span<double> gradient, ReadOnlySpan<int> lengths)
    {
        gradient.Clear();
        // ds[v + 1]: the gradient of the loss with respect to layer v's output, summed over the layers that read it.
        var ds = new double[]?[layers.Count + 1];
        ds[layers.Count] = d;
        for (int l = layers.Count - 1; l >= 0; l--)
        {
            var layer = layers[l];
            int source = layer.Sources[0];
            double[] x = xs[source + 1];
            if (ds[l + 1] is not double[] dl) continue; // nothing reads this layer's output
            d = dl;
            switch (layer.Kind)
            {
                case LayerKind.BatchNorm:
                {
                    var (channels, spatial) = BatchNormAxes(layer);
                    double[] dz = ActivateBackward(layer.Activation, zs[l], xs[l + 1], d, 1);
                    d = BatchNormBackward(x, parameters.Slice(layer.Weight!.Offset, channels), dz, batch, channels, spatial,
                        gradient.Slice(layer.Weight.Offset, channels), gradient.Slice(layer.Bias!.Offset, channels));
                    break;
                }
                case LayerKind.LayerNorm:
                {
                    int features = layer.OutputShape[^1];
                    d = LayerNormBackward(x, parameters.Slice(layer.Weight!.Offset, features), d, x.Length / features, features,
                        gradient.Slice(layer.Weight.Offset, features), gradient.Slice(layer.Bias!.Offset, features));
                    break;
                }
                case LayerKind.Add:
                {
                    double[] dz = ActivateBackward(layer.Activation, zs[l], xs[l + 1], d, layer.OutputShape[^1]);
                    Accumulate(ds, layer.Sources[1], dz);
                    d = dz;
                    break;
                }
                case LayerKind.Dense:
                {
                    int inSize = layer.InputShape[^1], outSize = layer.OutputShape[^1];
                    double[] dz = ActivateBackward(layer.Activation, zs[l], xs[l + 1], d, outSize);
                    d = LinearBackward(x, parameters.Slice(layer.Weight!.Offset, layer.Weight.Length), dz, outSize, inSize,
                        gradient.Slice(layer.Weight.Offset, layer.Weight.Length), gradient.Slice(layer.Bias!.Offset, layer.Bias.Length));
                    break;
                }
                case LayerKind.Dropout:
                    if (masks[l] is double[] mask)
                    {
                        d = (double[])d.Clone();
                        for (int i = 0; i < d.Length; i++) d[i] *= mask[i];
                    }
                    break;
                case LayerKind.Conv2D:
                {
                    double[] dz = ActivateBackward(layer.Activation, zs[l], xs[l + 1], d, 1);
                    d = Conv2DBackward(x, parameters.Slice(layer.Weight!.Offset, layer.Weight.Length), dz, batch, layer.Convolution!,
                        gradient.Slice(layer.Weight.Offset, layer.Weight.Length), gradient.Slice(layer.Bias!.Offset, layer.Bias.Length));
                    break;
                }
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    d = PoolBackward(layer.Kind == LayerKind.MaxPool2D, x, d, batch * layer.InputShape[0], layer.InputShape[1], layer.InputShape[2], layer.KernelHeight, layer.Stride);
                    break;
                case LayerKind.GlobalAvgPool when layer.InputShape.Length == 2:
                {
                    int positions = layer.InputShape[0], features = layer.InputShape[1];
                    var dx = new double[batch * positions * features];
                    for (int i = 0; i < dx.Length; i++) dx[i] = d[i / (positions * features) * features + i % features] / positions;
                    d = dx;
                    break;
                }
                case LayerKind.Embedding:
                {
                    int features = layer.OutputShape[1], vocabulary = layer.Weight!.Shape[0];
                    var table = gradient.Slice(layer.Weight.Offset, layer.Weight.Length);
                    for (int r = 0; r < x.Length; r++)
                    {
                        int id = TokenId(x[r], vocabulary, r);
                        for (int j = 0; j < features; j++) table[id * features + j] += d[r * features + j];
                    }
                    break; // the ids need no gradient (an embedding is the first layer)
                }
                case LayerKind.PositionalEncoding:
                    if (layer.Weight is { } learned)
                    {
                        int sample = layer.InputLength;
                        var table = gradient.Slice(learned.Offset, sample);
                        for (int i = 0; i < d.Length; i++) table[i % sample] += d[i];
                    }
                    break; // the input's gradient is d
                case LayerKind.SelfAttention:
                {
                    var (qkv, heads) = AttentionHeads(layer, parameters, x, batch);
                    int model = layer.InputShape[1];
                    double[] dheads = LinearBackward(heads, parameters.Slice(layer.OutputWeight!.Offset, model * model), d, model, model,
                        gradient.Slice(layer.OutputWeight.Offset, model * model), gradient.Slice(layer.OutputBias!.Offset, model));
                    double[] dqkv = AttentionBackward(qkv, dheads, batch, layer.InputShape[0], model, layer.Heads, layer.Causal);
                    d = LinearBackward(x, parameters.Slice(layer.Weight!.Offset, 3 * model * model), dqkv, 3 * model, model,
                        gradient.Slice(layer.Weight.Offset, 3 * model * model), gradient.Slice(layer.Bias!.Offset, 3 * model));
                    break;
                }
                case LayerKind.GlobalAvgPool:
                {
                    int planes = batch * layer.InputShape[0], area = layer.InputShape[1] * layer.InputShape[2];
                    var dx = new double[planes * area];
                    for (int p = 0; p < planes; p++)
                        for (int i = 0; i < area; i++) dx[p * area + i] = d[p] / area;
                    d = dx;
                    break;
                }
                case LayerKind.Flatten:
                    break;
                case LayerKind.SimpleRNN:
                case LayerKind.LSTM:
                case LayerKind.GRU:
                {
                    var g = layer.Recurrent!;
                    d = RecurrentBackward(x, parameters.Slice(layer.Weight!.Offset, g.ParameterLength), d, batch, g, gradient.Slice(layer.Weight.Offset, g.ParameterLength), lengths);
                    break;
                }
            }
            Accumulate(ds, source, d); // what reaches the layer's input
        }
    }

    // y = x·Wᵀ + b's backward for dz: adds dzᵀ·x to gw and Σ dz to gb, returns dx = dz·W.
    private static double[] LinearBackward(double[] x, ReadOnlySpan<double> w, double[] dz, int outSize, int inSize, Span<double> gw, Span<double> gb)
    {
        int rows = x.Length / inSize;
        var dx = new double[x.Length];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outSize; o++)
            {
                double g = dz[r * outSize + o];
                gb[o] += g;
                for (int i = 0; i < inSize; i++)
                {
                    gw[o * inSize + i] += g * x[r * inSize + i];
                    dx[r * inSize + i] += g * w[o * inSize + i];
                }
            }
        return dx;
    }

    // A self-attention layer's q, k, v (x·in_projᵀ + in_bias) and its heads' outputs, before out_proj.
    private static (double[] Qkv, double[] Heads) AttentionHeads(LayerInfo layer, ReadOnlySpan<double> parameters, double[] x, int batch)
    {
        int positions = layer.InputShape[0], model = layer.InputShape[1];
        double[] qkv = MultiplyTransposed(x, parameters.Slice(layer.Weight!.Offset, 3 * model * model), parameters.Slice(layer.Bias!.Offset, 3 * model), x.Length / model, 3 * model, model);
        return (qkv, Attention(qkv, batch, positions, model, layer.Heads, layer.Causal));
    }

    // A token id carried as a float: a whole number in [0, vocabulary).
    private static int TokenId(double value, int vocabulary, int row)
    {
        if (value >= 0 && value < vocabulary && value == Math.Floor(value)) return (int)value;
        throw new ArgumentException($"Token id {value} at row {row} is outside the vocabulary of {vocabulary} (ids 0 to {vocabulary - 1}).", "inputs");
    }

    // A batch normalisation's channels and values per channel per sample: (C, H·W) on an image, (features, 1) on a vector.
    private static (int Channels, int Spatial) BatchNormAxes(LayerInfo layer)
        => layer.InputShape.Length == 3 ? (layer.InputShape[0], layer.InputShape[1] * layer.InputShape[2]) : (layer.InputShape[^1], 1);

    // Adds a layer's share of gradient g to value v's (v = −1, the network's input, needs none).
    private static void Accumulate(double[]?[] ds, int v, double[] g)
    {
        if (v < 0) return;
        if (ds[v + 1] is not double[] total)
        {
            ds[v + 1] = (double[])g.Clone();
            return;
        }
        for (int i = 0; i < total.Length; i++) total[i] += g[i];
    }
}
