using System;
using System.Linq;
using GenNets.Tests.Networks;
using GenNets.Training;
using Xunit;

namespace GenNets.Tests.Training;

/// <summary>
/// A network's TrainStep moves the parameters exactly as
/// ComputeGradients followed by Optimizer.Step, and moves nothing at all (parameters, optimizer state, counters) when the step goes wrong.
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
    public void NonFiniteLoss_ThrowsAndMovesNothing(int threads)
    {
        var net = new FashionMlp(seed: 13) { Threads = threads };
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        net.TrainStep(Data(0).X, Data(0).Labels, Batch, sgd);
        var before = net.Parameters.ToArray();
        long steps = net.TrainingSteps;
        var (x, labels) = Data(1);
        x[100] = float.NaN;
        var e = Assert.Throws<TrainingDivergedException>(() => net.TrainStep(x, labels, Batch, sgd));
        Assert.Contains("NaN", e.Message);
        Assert.Null(e.Tensor);
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
        Assert.Equal(steps, net.TrainingSteps);
        Assert.Equal(1, sgd.StepCount);
    }

    [Fact]
    public void NonFiniteGradient_UnderAFiniteLoss_ThrowsNamingTheTensor_AndMovesNothing()
    {
        // weight 1, input 1.5e19, target 0: the loss 2.25e38 is finite, the bias gradient 3e19 too, the weight gradient 4.5e38 is not.
        var net = new OneWeight();
        net.Parameters[0] = 1f;
        var adam = new Adam(1e-3f);
        var before = net.Parameters.ToArray();
        var e = Assert.Throws<TrainingDivergedException>(() => net.TrainStep([1.5e19f], new[] { 0f }, 1, adam));
        Assert.Equal("0.weight", e.Tensor);
        Assert.Contains("'0.weight'", e.Message);
        Assert.True(float.IsPositiveInfinity(net.Gradients[0]));
        Assert.True(float.IsFinite(net.Gradients[1]));
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters)); // the bias, whose gradient is finite, did not move either
        Assert.Equal(0, net.TrainingSteps);
        Assert.Equal(0, adam.StepCount);
        // The optimizer's moments did not move: the next good step is the first step of a fresh Adam.
        var fresh = new OneWeight();
        fresh.Parameters[0] = 1f;
        net.TrainStep([0.5f], new[] { 2f }, 1, adam);
        fresh.TrainStep([0.5f], new[] { 2f }, 1, new Adam(1e-3f));
        Assert.True(fresh.Parameters.SequenceEqual(net.Parameters));
        Assert.Equal(1, adam.StepCount);
    }

    [Fact]
    public void ARejectedCall_ChangesNothing_SoTrainingContinuesAsIfItNeverHappened()
    {
        // Dropout masks are numbered by TrainingSteps: a rejected call that advanced it would shift every later mask.
        float[] Train(bool withRejectedCalls)
        {
            var net = new FashionMlp(seed: 21) { Threads = 2 };
            var adam = new Adam(1e-3f);
            for (int step = 0; step < 3; step++)
            {
                var (x, labels) = Data(step);
                if (withRejectedCalls)
                {
                    var bad = labels.ToArray();
                    bad[5] = 10;
                    Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainStep(x, bad, Batch, adam));
                    Assert.Throws<ArgumentOutOfRangeException>(() => net.ComputeGradients(x, bad, Batch));
                    Assert.Throws<ArgumentException>(() => net.TrainStep(x, labels.AsSpan(1).ToArray(), Batch, adam));
                    Assert.Throws<ArgumentException>(() => net.TrainStep(x.AsSpan(1).ToArray(), labels, Batch, adam));
                    Assert.Throws<ArgumentNullException>(() => net.TrainStep(x, labels, Batch, null!));
                    Assert.Equal(step, net.TrainingSteps);
                    Assert.Equal(step, adam.StepCount);
                }
                net.TrainStep(x, labels, Batch, adam);
            }
            return net.Parameters.ToArray();
        }
        Assert.True(Train(false).AsSpan().SequenceEqual(Train(true)));
    }

    [Fact]
    public void OptimizerStep_WithANonFiniteGradient_ChangesNothing()
    {
        var net = new OneWeight();
        var sgd = new Sgd(0.5f, momentum: 0.9f);
        net.Gradients[0] = 1f;
        net.Gradients[1] = float.NaN;
        var before = net.Parameters.ToArray();
        var e = Assert.Throws<TrainingDivergedException>(() => sgd.Step(net));
        Assert.Equal("0.bias", e.Tensor);
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
        Assert.Equal(0, sgd.StepCount);
    }

    [Fact]
    public void Setters_ValidateAsTheConstructorsDo()
    {
        var adam = new Adam();
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = float.NaN);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = 0f);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = float.PositiveInfinity);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.Threads = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.MaxGradientNorm = -1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.MaxGradientNorm = float.NaN);
        Assert.Throws<ArgumentOutOfRangeException>(() => GenNets.Threading.WorkerPool.DefaultThreads = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => GenNets.Threading.WorkerPool.DefaultThreads = -3);
        Assert.Equal(1e-3f, adam.LearningRate);
        adam.MaxGradientNorm = null;
        Assert.Null(adam.MaxGradientNorm);
    }
}
