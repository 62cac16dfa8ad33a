using System;
using System.Collections.Generic;

namespace GenNets.Kernels;

/// <summary>
/// The naive twin of every fast kernel: plain loops in double precision, written for clarity, not
/// speed. Tests check the fast kernels and the generated code against these, and these against
/// central finite differences.
/// </summary>
public static class Reference
{
    /// <summary>C = A·Bᵀ (+ bias) for row-major A [m, k], B [n, k].</summary>
    public static double[] MultiplyTransposed(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> bias, int m, int n, int k)
    {
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
    public static double[] Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int m, int n, int k)
    {
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
    public static double[] Activate(Activation activation, ReadOnlySpan<double> z, int cols)
    {
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
    public static double[] ActivateBackward(Activation activation, ReadOnlySpan<double> z, ReadOnlySpan<double> y, ReadOnlySpan<double> dy, int cols)
    {
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
                _ => throw new ArgumentOutOfRangeException(nameof(activation)),
            };
            dz[i] = dy[i] * d;
        }
        return dz;
    }

    /// <summary>The mean loss and its gradient with respect to the outputs, by definition (no fusion tricks).</summary>
    public static double Loss(LossKind loss, ReadOnlySpan<double> outputs, ReadOnlySpan<int> labels, ReadOnlySpan<double> values, int rows, int cols, Span<double> gradient)
    {
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

    /// <summary>
    /// A whole network, layer by layer, in double precision: returns the mean loss over the batch and,
    /// when <paramref name="gradient"/> is not empty, writes the gradient of that loss with respect to every parameter.
    /// With <paramref name="dropoutSeed"/> null dropout is off (inference); otherwise it draws the same masks as the generated code.
    /// </summary>
    public static double NetworkLoss(
        IReadOnlyList<LayerInfo> layers, LossKind loss, ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, int batch,
        ReadOnlySpan<int> labels, ReadOnlySpan<double> values, Span<double> gradient, ulong? dropoutSeed = null, long step = 0)
    {
        var xs = new List<double[]> { inputs.Slice(0, batch * layers[0].InputLength).ToArray() };
        var zs = new List<double[]>();
        var masks = new List<double[]?>();
        foreach (var layer in layers)
        {
            double[] x = xs[^1];
            switch (layer.Kind)
            {
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
                default:
                    throw new NotSupportedException($"The reference has no {layer.Kind} layer.");
            }
        }

        double[] output = xs[^1];
        int outCols = layers[^1].OutputShape[^1];
        var d = new double[output.Length];
        double value = Loss(loss, output, labels, values, output.Length / outCols, outCols, d);
        if (gradient.IsEmpty) return value;

        gradient.Clear();
        for (int l = layers.Count - 1; l >= 0; l--)
        {
            var layer = layers[l];
            double[] x = xs[l];
            switch (layer.Kind)
            {
                case LayerKind.Dense:
                {
                    int inSize = layer.InputShape[^1], outSize = layer.OutputShape[^1], rows = x.Length / inSize;
                    double[] dz = ActivateBackward(layer.Activation, zs[l], xs[l + 1], d, outSize);
                    var w = parameters.Slice(layer.Weight!.Offset, layer.Weight.Length);
                    var gw = gradient.Slice(layer.Weight.Offset, layer.Weight.Length);
                    var gb = gradient.Slice(layer.Bias!.Offset, layer.Bias.Length);
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
                    d = dx;
                    break;
                }
                case LayerKind.Dropout:
                    if (masks[l] is double[] mask)
                        for (int i = 0; i < d.Length; i++) d[i] *= mask[i];
                    break;
            }
        }
        return value;
    }
}
