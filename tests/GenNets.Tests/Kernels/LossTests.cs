using System;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

public class LossTests
{
    private const int Rows = 6, Cols = 4;

    [Theory]
    [InlineData(LossKind.MeanSquaredError, false)]
    [InlineData(LossKind.SoftmaxCrossEntropy, true)]
    [InlineData(LossKind.SoftmaxCrossEntropy, false)]
    [InlineData(LossKind.BinaryCrossEntropyWithLogits, false)]
    public void ReferenceGradient_MatchesFiniteDifferences(LossKind loss, bool labels)
    {
        double[] outputs = Check.ToDouble(Check.Random(Rows * Cols, 21, 3f));
        int[] l = [0, 3, 1, 2, 2, 0];
        double[] values = Targets(loss);
        ReadOnlySpan<int> ls = labels ? l : default;
        var scratch = new double[outputs.Length];
        double[] numeric = Check.FiniteDifferences(o => Reference.Loss(loss, o, labels ? l : default, values, Rows, Cols, scratch), outputs);
        var analytic = new double[outputs.Length];
        Reference.Loss(loss, outputs, ls, values, Rows, Cols, analytic);
        Check.Close(numeric, analytic, 1e-6, 1e-9, $"{loss} gradient");
    }

    [Theory]
    [InlineData(LossKind.MeanSquaredError, false)]
    [InlineData(LossKind.SoftmaxCrossEntropy, true)]
    [InlineData(LossKind.SoftmaxCrossEntropy, false)]
    [InlineData(LossKind.BinaryCrossEntropyWithLogits, false)]
    public void FastLoss_MatchesReference(LossKind loss, bool labels)
    {
        float[] outputs = Check.Random(Rows * Cols, 22, 3f);
        int[] l = [1, 0, 3, 3, 2, 1];
        double[] values = Targets(loss);
        var gradient = new float[outputs.Length];
        float value = labels
            ? Losses.Compute(loss, outputs, GenNets.Targets.FromLabels(l), gradient, Rows, Cols)
            : Losses.Compute(loss, outputs, GenNets.Targets.FromValues(Array.ConvertAll(values, v => (float)v)), gradient, Rows, Cols);
        var expectedGradient = new double[outputs.Length];
        double expected = Reference.Loss(loss, Check.ToDouble(outputs), labels ? l : default, values, Rows, Cols, expectedGradient);
        Assert.Equal(expected, value, 5);
        Check.Close(expectedGradient, gradient, 1e-5, 1e-7, $"{loss} gradient");
    }

    [Fact]
    public void SoftmaxCrossEntropy_IsStableForHugeLogits()
    {
        float[] logits = [1000f, -1000f, 0f];
        var gradient = new float[3];
        float loss = Losses.SoftmaxCrossEntropy(logits, [1], gradient, 1, 3);
        Assert.Equal(2000f, loss, 3);
        Assert.True(float.IsFinite(gradient[0]) && float.IsFinite(gradient[1]));
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_IsStableForHugeLogits()
    {
        // Each logit is 500 on the wrong side: a loss of 500 each, and the gradient (σ(z) − t) / 2 is ±1/2, not NaN.
        var gradient = new float[4];
        float loss = Losses.BinaryCrossEntropyWithLogits([500f, -500f, 1e30f, -1e30f], [0f, 1f, 1f, 0f], gradient, 1, 4);
        Assert.Equal(250f, loss, 3); // (500 + 500 + 0 + 0) / 4
        Assert.Equal([0.25f, -0.25f, 0f, 0f], gradient);
    }

    [Fact]
    public void Compute_LabelOutOfRange_NamesTheLabel()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Compute(LossKind.SoftmaxCrossEntropy, new float[6], GenNets.Targets.FromLabels([0, 7]), new float[6], 2, 3));
        Assert.Contains("Label 7 of sample 1", ex.Message);
    }

    [Fact]
    public void Compute_MeanSquaredErrorWithLabels_SaysItNeedsValues()
    {
        var ex = Assert.Throws<ArgumentException>(() => Losses.Compute(LossKind.MeanSquaredError, new float[2], GenNets.Targets.FromLabels([0, 1]), new float[2], 2, 1));
        Assert.Contains("float targets", ex.Message);
    }

    private static double[] Targets(LossKind loss)
    {
        var r = new SeededRandom(23);
        var t = new double[Rows * Cols];
        for (int i = 0; i < t.Length; i++) t[i] = loss == LossKind.MeanSquaredError ? 2 * r.NextDouble() - 1 : r.NextDouble();
        if (loss == LossKind.SoftmaxCrossEntropy)
            for (int row = 0; row < Rows; row++)
            {
                double s = 0;
                for (int c = 0; c < Cols; c++) s += t[row * Cols + c];
                for (int c = 0; c < Cols; c++) t[row * Cols + c] /= s;
            }
        return t;
    }
}
