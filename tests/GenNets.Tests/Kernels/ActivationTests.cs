using System.Linq;
using System;
using GenNets.Kernels;
using Xunit;

namespace GenNets.Tests.Kernels;

public class ActivationTests
{
    public static TheoryData<Activation> All => new()
    {
        Activation.Identity, Activation.ReLU, Activation.LeakyReLU, Activation.Sigmoid, Activation.Tanh, Activation.GELU, Activation.Softmax,
    };

    private const int Cols = 5;

    // Values away from 0 so that ReLU's kink is never inside a finite-difference step.
    private static double[] Inputs()
    {
        var z = Check.ToDouble(Check.Random(4 * Cols, 11, 3f));
        for (int i = 0; i < z.Length; i++) if (Math.Abs(z[i]) < 1e-3) z[i] = 0.5;
        return z;
    }

    [Theory]
    [MemberData(nameof(All))]
    public void ReferenceBackward_MatchesFiniteDifferences(Activation activation)
    {
        double[] z = Inputs();
        double[] weights = Check.ToDouble(Check.Random(z.Length, 12));
        // A scalar L = Σ wᵢ·f(z)ᵢ, so dL/dy = w.
        double L(double[] v)
        {
            double[] y = Reference.Activate(activation, v, Cols);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += weights[i] * y[i];
            return s;
        }
        double[] numeric = Check.FiniteDifferences(L, z);
        double[] analytic = Reference.ActivateBackward(activation, z, Reference.Activate(activation, z, Cols), weights, Cols);
        Check.Close(numeric, analytic, 1e-6, 1e-8, $"{activation} dz");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void FastKernels_MatchReference(Activation activation)
    {
        float[] z = Check.Random(4 * Cols * 7, 13, 4f); // 140 values: vector body and scalar tail
        float[] dy = Check.Random(z.Length, 14);
        var y = new float[z.Length];
        var dz = new float[z.Length];
        int rows = z.Length / Cols;
        switch (activation)
        {
            case Activation.Identity: z.CopyTo(y, 0); dy.CopyTo(dz, 0); break;
            case Activation.ReLU: Activations.ReLU(z, y); Activations.ReLUBackward(y, dy, dz); break;
            case Activation.LeakyReLU: Activations.LeakyReLU(z, y); Activations.LeakyReLUBackward(y, dy, dz); break;
            case Activation.Sigmoid: Activations.Sigmoid(z, y); Activations.SigmoidBackward(y, dy, dz); break;
            case Activation.Tanh: Activations.Tanh(z, y); Activations.TanhBackward(y, dy, dz); break;
            case Activation.GELU: Activations.GELU(z, y); Activations.GELUBackward(z, dy, dz); break;
            case Activation.Softmax: Activations.Softmax(z, y, rows, Cols); Activations.SoftmaxBackward(y, dy, dz, rows, Cols); break;
        }
        double[] zd = Check.ToDouble(z);
        double[] yRef = Reference.Activate(activation, zd, Cols);
        Check.Close(yRef, y, 1e-5, 1e-6, $"{activation} y");
        Check.Close(Reference.ActivateBackward(activation, zd, yRef, Check.ToDouble(dy), Cols), dz, 1e-4, 1e-6, $"{activation} dz");
    }

    [Fact]
    public void Erf_MatchesKnownValues()
    {
        // Values from tables of the error function.
        Assert.Equal(0.0, SpecialFunctions.Erf(0.0), 15);
        Assert.Equal(0.5204998778130465, SpecialFunctions.Erf(0.5), 14);
        Assert.Equal(0.8427007929497149, SpecialFunctions.Erf(1.0), 14);
        Assert.Equal(0.9953222650189527, SpecialFunctions.Erf(2.0), 14);
        Assert.Equal(0.9999779095030014, SpecialFunctions.Erf(3.0), 14);
        Assert.Equal(0.9999999845827421, SpecialFunctions.Erf(4.0), 14);
        Assert.Equal(-0.8427007929497149, SpecialFunctions.Erf(-1.0), 14);
    }

    [Fact]
    public void SigmoidInPlace_IsWithin2e7OfTheExactValue_Everywhere()
    {
        // A dense sweep over [−100, 100] (both saturated ends included), lengths that leave a scalar tail.
        var x = new float[285_715 + 3];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(-100 + i * 0.0007);
        var exact = Array.ConvertAll(x, v => 1 / (1 + Math.Exp(-(double)v)));
        Activations.SigmoidInPlace(x);
        double worst = 0;
        for (int i = 0; i < x.Length; i++) worst = Math.Max(worst, Math.Abs(x[i] - exact[i]));
        Assert.True(worst <= 2e-7, $"worst absolute error {worst:E3}");
        float[] edges = [float.MaxValue, -float.MaxValue, 0f, 1e-30f, -1e-30f, 88.7f, -88.7f, 1e4f];
        Activations.SigmoidInPlace(edges);
        Assert.Equal([1f, 0f, 0.5f, 0.5f, 0.5f, 1f, 0f, 1f], edges.Select(v => MathF.Round(v, 6)));
        // NaN stays NaN (the trainer's guard must see it), in the vector lanes and in the scalar tail.
        var nan = Enumerable.Repeat(float.NaN, 11).ToArray();
        Activations.SigmoidInPlace(nan);
        Assert.All(nan, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void Tanh_KeepsItsRelativeAccuracyNearZero()
    {
        // Magnitudes from 1e-30 to 20, both signs, a length that leaves a scalar tail. tanh is odd and tanh(x) ≈ x near 0,
        // so the error is relative there (a form like (e^2x − 1) / (e^2x + 1) cancels: tanh(1e-6) came out 4.6% low).
        var values = new System.Collections.Generic.List<float> { 0f };
        for (double m = 1e-30; m < 20; m *= 1.01) { values.Add((float)m); values.Add((float)-m); }
        float[] z = values.ToArray(), y = new float[z.Length];
        Activations.Tanh(z, y);
        double worst = 0;
        for (int i = 0; i < z.Length; i++)
        {
            double exact = Math.Tanh(z[i]);
            worst = Math.Max(worst, Math.Abs(y[i] - exact) / Math.Max(Math.Abs(exact), 1e-38));
        }
        Assert.True(worst <= 4e-7, $"worst relative error {worst:E3}");
        Assert.Equal(0f, y[0]);
        // In place, as the generated code may call it, and NaN kept.
        float[] inPlace = [1e-6f, -0.2f, 0.3f, 5f, float.NaN, 0f, 1e-3f, -1e-3f, 0.24f, 0.26f, -7f];
        var expected = Array.ConvertAll(inPlace, v => (float)Math.Tanh(v));
        Activations.Tanh(inPlace, inPlace);
        for (int i = 0; i < inPlace.Length; i++)
            Assert.True(float.IsNaN(expected[i]) ? float.IsNaN(inPlace[i]) : Math.Abs(inPlace[i] - expected[i]) <= 4e-7 * Math.Abs(expected[i]), $"tanh({i})");
    }
}
