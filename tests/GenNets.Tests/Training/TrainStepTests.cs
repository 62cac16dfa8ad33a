using System;
using System.Linq;
using GenNets.Tests.Networks;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Training;

/// <summary>
/// A network's TrainStep (which updates each layer as its gradients complete) moves the parameters exactly as
/// ComputeGradients followed by Optimizer.Step, and leaves them alone when the step goes wrong.
/// </summary>
public class TrainStepTests
{
    private const int Batch = 64;

    private static (float[] X, int[] Labels) Data(int seed)
        => (Check.Random(Batch * 784, (ulong)seed), Enumerable.Range(0, Batch).Select(i => (i * 3 + seed) % 10).ToArray());

    private static Optimizer Make(string kind) => kind switch
    {
        "sgd" => new Sgd(0.05f, momentum: 0.9f, weightDecay: 1e-3f, nesterov: true),
        "adam" => new Adam(1e-3f, weightDecay: 1e-3f),
        _ => new AdamW(1e-3f),
    };

    [Theory]
    [InlineData("sgd", 1)]
    [InlineData("sgd", 2)]
    [InlineData("adam", 1)]
    [InlineData("adam", 2)]
    [InlineData("adamw", 2)]
    public void Mlp_TrainStep_IsComputeGradientsThenStep_BitForBit(string kind, int threads)
    {
        var fused = new FashionMlp(seed: 11) { Threads = threads };
        var apart = new FashionMlp(seed: 11) { Threads = threads };
        Optimizer a = Make(kind), b = Make(kind);
        b.Threads = 1;
        for (int step = 0; step < 3; step++)
        {
            var (x, labels) = Data(step);
            float lossFused = fused.TrainStep(x, labels, Batch, a);
            float lossApart = apart.ComputeGradients(x, labels, Batch);
            b.Step(apart);
            Assert.Equal(lossApart, lossFused);
            Assert.True(apart.Gradients.SequenceEqual(fused.Gradients), $"gradients differ at step {step}");
            Assert.True(apart.Parameters.SequenceEqual(fused.Parameters), $"parameters differ at step {step}");
        }
        Assert.Equal(3, a.StepCount);
    }

    [Fact]
    public void Cnn_TrainStep_IsComputeGradientsThenStep_BitForBit()
    {
        var fused = new FashionCnn(seed: 12) { Threads = 2 };
        var apart = new FashionCnn(seed: 12) { Threads = 2 };
        Optimizer a = Make("adam"), b = Make("adam");
        for (int step = 0; step < 2; step++)
        {
            var (x, labels) = Data(step + 5);
            Assert.Equal(apart.ComputeGradients(x, labels, Batch), fused.TrainStep(x, labels, Batch, a));
            b.Step(apart);
            Assert.True(apart.Parameters.SequenceEqual(fused.Parameters), $"parameters differ at step {step}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void NonFiniteLoss_LeavesTheParametersAsTheyWere(int threads)
    {
        var net = new FashionMlp(seed: 13) { Threads = threads };
        var before = net.Parameters.ToArray();
        var (x, labels) = Data(1);
        x[100] = float.NaN;
        float loss = net.TrainStep(x, labels, Batch, new Sgd(0.1f, momentum: 0.9f));
        Assert.True(float.IsNaN(loss));
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
    }

    [Fact]
    public void Apply_SkipsAPieceWithNonFiniteGradients()
    {
        var sgd = new Sgd(0.5f);
        sgd.BeginStep(4);
        float[] p = [1, 2, 3, 4];
        Assert.False(sgd.Apply(p.AsSpan(0, 2), [1, float.PositiveInfinity], 0, decays: false));
        Assert.Equal([1f, 2f], p[..2]);
        Assert.True(sgd.Apply(p.AsSpan(2, 2), [2, -2], 2, decays: false));
        Assert.Equal([2f, 5f], p[2..]);
        // A sum that overflows is not a non-finite gradient.
        Assert.True(sgd.Apply(p.AsSpan(0, 2), [3e38f, 3e38f], 0, decays: false));
    }

    [Fact]
    public void Apply_RefusesMismatchedLengths()
    {
        var sgd = new Sgd(0.5f);
        sgd.BeginStep(4);
        var e = Assert.Throws<ArgumentException>(() => sgd.Apply(new float[3], new float[2], 0, decays: false));
        Assert.Contains("3 parameters", e.Message);
        Assert.Contains("2 gradients", e.Message);
    }
}
