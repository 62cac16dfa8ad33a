using System;
using System.Numerics.Tensors;

namespace GenNets.Benchmarks;

/// <summary>
/// The straightforward C# implementation GenNets is measured against: the same network and weights,
/// one TensorPrimitives.Dot per neuron forward, and per-sample outer products backward.
/// </summary>
public sealed class NaiveMlp
{
    private static readonly int[] Sizes = [784, 256, 128, 10];
    private readonly float[][] _w = new float[3][];
    private readonly float[][] _b = new float[3][];
    private readonly float[][] _gw = new float[3][];
    private readonly float[][] _gb = new float[3][];
    private readonly float[][] _a = new float[4][];
    private readonly float[][] _d = new float[4][];

    public NaiveMlp(INetwork copyFrom)
    {
        for (int l = 0; l < 3; l++)
        {
            var weight = copyFrom.ParameterTensors[2 * l];
            var bias = copyFrom.ParameterTensors[2 * l + 1];
            _w[l] = copyFrom.Parameters.Slice(weight.Offset, weight.Length).ToArray();
            _b[l] = copyFrom.Parameters.Slice(bias.Offset, bias.Length).ToArray();
            _gw[l] = new float[weight.Length];
            _gb[l] = new float[bias.Length];
        }
        for (int l = 0; l < 4; l++) { _a[l] = new float[Sizes[l]]; _d[l] = new float[Sizes[l]]; }
    }

    public void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        input.CopyTo(_a[0]);
        for (int l = 0; l < 3; l++)
        {
            int n = Sizes[l], m = Sizes[l + 1];
            for (int j = 0; j < m; j++)
            {
                float z = TensorPrimitives.Dot(_w[l].AsSpan(j * n, n), _a[l]) + _b[l][j];
                _a[l + 1][j] = l < 2 ? MathF.Max(z, 0f) : z;
            }
        }
        _a[3].CopyTo(output);
    }

    /// <summary>Forward and backward for each sample, accumulating gradients, then an SGD step.</summary>
    public void TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch, float learningRate)
    {
        for (int l = 0; l < 3; l++) { Array.Clear(_gw[l]); Array.Clear(_gb[l]); }
        Span<float> logits = stackalloc float[10];
        for (int s = 0; s < batch; s++)
        {
            Forward(inputs.Slice(s * 784, 784), logits);
            TensorPrimitives.SoftMax(logits, _d[3]);
            _d[3][labels[s]] -= 1f;
            TensorPrimitives.Divide(_d[3], batch, _d[3]);
            for (int l = 2; l >= 0; l--)
            {
                int n = Sizes[l], m = Sizes[l + 1];
                Array.Clear(_d[l]);
                for (int j = 0; j < m; j++)
                {
                    float g = _d[l + 1][j];
                    if (g == 0f) continue;
                    _gb[l][j] += g;
                    TensorPrimitives.MultiplyAdd(_a[l], g, _gw[l].AsSpan(j * n, n), _gw[l].AsSpan(j * n, n));
                    if (l > 0) TensorPrimitives.MultiplyAdd(_w[l].AsSpan(j * n, n), g, _d[l], _d[l]);
                }
                if (l > 0)
                    for (int i = 0; i < n; i++) if (_a[l][i] <= 0f) _d[l][i] = 0f;
            }
        }
        for (int l = 0; l < 3; l++)
        {
            TensorPrimitives.MultiplyAdd(_gw[l], -learningRate, _w[l], _w[l]);
            TensorPrimitives.MultiplyAdd(_gb[l], -learningRate, _b[l], _b[l]);
        }
    }
}
