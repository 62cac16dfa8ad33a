using System;
using System.Collections.Generic;

namespace GenNets.Kernels;

// The twins' network walk: a whole network, layer by layer, forward and backward, in double precision, following each
// layer's sources (a residual block's sum reads two), for the tests of the generated code.
public static partial class Reference
{
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
