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
}
