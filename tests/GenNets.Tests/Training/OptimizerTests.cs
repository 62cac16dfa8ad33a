using System;
using System.Linq;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Training;

/// <summary>Each optimizer's step against its formula, written out by hand in double precision.</summary>
public class OptimizerTests
{
    private static readonly ParameterTensor[] Layout =
    [
        new("w", "layer 0", 0, [2, 2], Decays: true),
        new("b", "layer 0", 4, [2], Decays: false),
    ];

    private static readonly float[] Start = [0.5f, -1f, 2f, 0.25f, 0.1f, -0.3f];
    private static readonly float[] Grad = [0.2f, -0.4f, 1f, 0.05f, -0.5f, 0.3f];

    [Fact]
    public void Sgd_WithMomentumAndDecay_FollowsPyTorchsFormula()
    {
        var p = (float[])Start.Clone();
        var sgd = new Sgd(0.1f, momentum: 0.9f, weightDecay: 0.01f);
        var v = new double[6];
        var expected = Array.ConvertAll(Start, x => (double)x);
        for (int step = 0; step < 3; step++)
        {
            sgd.Step(p, Grad, Layout);
            for (int i = 0; i < 6; i++)
            {
                double g = Grad[i] + (i < 4 ? 0.01 * expected[i] : 0);
                v[i] = 0.9 * v[i] + g;
                expected[i] -= 0.1 * v[i];
            }
        }
        Check.Close(expected, p, 1e-6, 1e-7, "p");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamAndAdamW_FollowTheirFormulas(bool decoupled)
    {
        var p = (float[])Start.Clone();
        Optimizer adam = decoupled ? new AdamW(0.01f, weightDecay: 0.1f) : new Adam(0.01f, weightDecay: 0.1f);
        var m = new double[6];
        var v = new double[6];
        var expected = Array.ConvertAll(Start, x => (double)x);
        for (int t = 1; t <= 4; t++)
        {
            adam.Step(p, Grad, Layout);
            for (int i = 0; i < 6; i++)
            {
                double decay = i < 4 ? 0.1 : 0;
                double g = Grad[i];
                if (decoupled) expected[i] -= 0.01 * decay * expected[i];
                else g += decay * expected[i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                double mHat = m[i] / (1 - Math.Pow(0.9, t)), vHat = v[i] / (1 - Math.Pow(0.999, t));
                expected[i] -= 0.01 * mHat / (Math.Sqrt(vHat) + 1e-8);
            }
        }
        Check.Close(expected, p, 1e-5, 1e-6, "p");
    }

    [Fact]
    public void Schedules_GiveTheDocumentedFactors()
    {
        var step = new StepSchedule(2, 0.5f);
        Assert.Equal([1f, 1f, 0.5f, 0.5f, 0.25f], new[] { 0, 1, 2, 3, 4 }.Select(e => step.Factor(e, 5)));
        var cosine = new CosineSchedule(0.1f);
        Assert.Equal(1f, cosine.Factor(0, 10), 6);
        Assert.Equal(0.55f, cosine.Factor(5, 10), 6);
    }

    [Fact]
    public void BadSettings_AreRejectedWithTheValue()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(-1f));
        Assert.Equal(-1f, ex.ActualValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1f));
        var sgd = new Sgd(0.1f, momentum: 0.5f);
        sgd.Step(new float[6], new float[6], Layout);
        Assert.Throws<InvalidOperationException>(() => sgd.Step(new float[3], new float[3], [new ParameterTensor("x", "l", 0, [3], true)]));
    }

    [Fact]
    public void AStepSplitOverManyThreads_UpdatesEveryParameter_OfABigBuffer()
    {
        // 35 million parameters in 64 parts: part × length passes 2³¹, where a split computed in 32 bits went negative
        // and left the last parts' parameters unchanged while counting the step.
        const int count = 35_000_000;
        var parameters = new float[count];
        var gradients = new float[count];
        gradients.AsSpan().Fill(1f);
        var sgd = new Sgd(1f) { Threads = 64 };
        sgd.Step(parameters, gradients, [new ParameterTensor("w", "layer 0", 0, [count], Decays: false)]);
        Assert.Equal(-1, parameters.AsSpan().IndexOfAnyExcept(-1f));
    }
}
