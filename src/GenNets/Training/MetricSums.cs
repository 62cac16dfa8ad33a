using System;
using System.Numerics.Tensors;

namespace GenNets.Training;

/// <summary>
/// Sums from which an <see cref="Evaluation"/>'s metrics come, added to batch by batch: a confusion matrix for class labels,
/// and for float targets the absolute errors and, per output column, what R² needs: the residuals and the targets' spread
/// about their mean, updated one value at a time (Welford), in double, so that targets far from zero lose nothing.
/// </summary>
internal sealed class MetricSums
{
    private readonly int _cols;
    private readonly ConfusionMatrix? _confusion;
    private readonly double[]? _mean, _spread, _residual; // per column: the targets' running mean and Σ(t − mean)² (Welford), Σ(t − y)²
    private double _absolute;
    private long _rows;

    /// <summary>Sums for rows of <paramref name="cols"/> outputs, with class labels or float targets.</summary>
    public MetricSums(int cols, bool labels)
    {
        _cols = cols;
        if (labels)
        {
            if (cols > 1) _confusion = new ConfusionMatrix(cols);
        }
        else
        {
            _mean = new double[cols];
            _spread = new double[cols];
            _residual = new double[cols];
        }
    }

    /// <summary>
    /// Adds <paramref name="samples"/> samples of <paramref name="rowsPerSample"/> rows each (one, or one per step); only the
    /// first <paramref name="lengths"/>[s] rows of sample s count when lengths are given and samples have several rows.
    /// </summary>
    public void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> values, int samples, int rowsPerSample, ReadOnlySpan<int> lengths)
    {
        for (int s = 0; s < samples; s++)
        {
            int rows = lengths.IsEmpty || rowsPerSample == 1 ? rowsPerSample : lengths[s];
            for (int r = 0; r < rows; r++)
            {
                int row = s * rowsPerSample + r;
                var y = outputs.Slice(row * _cols, _cols);
                _rows++;
                if (_confusion is not null)
                    _confusion.Add(labels[row], TensorPrimitives.IndexOfMax(y));
                else if (_mean is not null)
                {
                    var t = values.Slice(row * _cols, _cols);
                    for (int c = 0; c < _cols; c++)
                    {
                        double target = t[c], error = target - y[c], delta = target - _mean[c];
                        _absolute += Math.Abs(error);
                        _mean[c] += delta / _rows;
                        _spread![c] += delta * (target - _mean[c]);
                        _residual![c] += error * error;
                    }
                }
            }
        }
    }

    /// <summary>The confusion matrix, for labels and more than one output per row.</summary>
    public ConfusionMatrix? Confusion => _confusion;

    /// <summary>The mean absolute error over every value, for float targets.</summary>
    public float? MeanAbsoluteError => _mean is null || _rows == 0 ? null : (float)(_absolute / (_rows * _cols));

    /// <summary>R² per column averaged over the columns, for float targets; null when a column's targets are all equal.</summary>
    public float? R2
    {
        get
        {
            if (_mean is null || _rows == 0) return null;
            double total = 0;
            for (int c = 0; c < _cols; c++)
            {
                if (!(_spread![c] > 0)) return null; // every target of the column equal: R² is not defined
                total += 1 - _residual![c] / _spread[c];
            }
            return (float)(total / _cols);
        }
    }
}
